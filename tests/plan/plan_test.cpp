#include "packjit/core/error.h"
#include "packjit/core/kernel_contract.h"
#include "packjit/plan/mask_scan.h"
#include "packjit/plan/op_kernels.h"
#include "packjit/plan/position_ids_scan.h"
#include "packjit/plan/row_copy.h"

#include <catch2/catch.hpp>

using namespace packjit;
using namespace packjit::plan;
using Catch::Contains;

namespace {

MaskScanConstexprs scan(DType dtype, int64_t batch, int64_t seqLen,
                        ShapePolicy shapes = ShapePolicy::Bucket) {
  MaskScanInput input;
  input.dtype = dtype;
  input.batch = batch;
  input.seqLen = seqLen;
  input.shapes = shapes;
  return maskScanConstexprs(input);
}

MaskInput mask(int64_t batch, int64_t seqLen, DType dtype, std::string text) {
  return {batch, seqLen, dtype, std::move(text)};
}

} // namespace

TEST_CASE("environment words parse as the ops read them", "[plan]") {
  CHECK(parseShapePolicy("") == ShapePolicy::Bucket);
  CHECK(parseShapePolicy("bucket") == ShapePolicy::Bucket);
  CHECK(parseShapePolicy("exact") == ShapePolicy::Exact);
  CHECK(parseShapePolicy("dynamic") == ShapePolicy::Dynamic);
  CHECK_FALSE(parseShapePolicy("Exact"));
  CHECK(parseScanChunk("") == 0);
  CHECK(parseScanChunk("32") == 32);
  CHECK(parseScanChunk("64") == 64);
  CHECK_FALSE(parseScanChunk("48"));
  CHECK(parsePadStrategy("scatter") == PadStrategy::Scatter);
  CHECK(parsePadStrategy("gather") == PadStrategy::Gather);
  CHECK_FALSE(parsePadStrategy("auto"));
}

TEST_CASE("mask_scan: SEQ follows the shape policy", "[plan][mask_scan]") {
  CHECK(scan(DType::Int64, 8, 4096).seq == 4096);
  CHECK(scan(DType::Int64, 8, 4000).seq == 0);
  CHECK(scan(DType::Int64, 8, 4000, ShapePolicy::Exact).seq == 4000);
  CHECK(scan(DType::Int64, 8, 4096, ShapePolicy::Dynamic).seq == 0);
}

TEST_CASE("mask_scan: CHUNK by mask bytes, at each threshold",
          "[plan][mask_scan]") {
  // Up to 32 tiles of 256 threads x 32 bytes: 32.
  CHECK(scan(DType::Int64, 8, 4096).chunk == 32);   // 256 KB, 32 tiles
  CHECK(scan(DType::Int64, 1, 32769).chunk == 64);  // 33 tiles: 8 tokens
  CHECK(scan(DType::Int32, 1, 65537).chunk == 32);  // 8 int32 = 32 bytes
  CHECK(scan(DType::Int16, 1, 131073).chunk == 32); // clamped up to 32
  // Beyond 4 MB: 64 whatever the dtype.
  CHECK(scan(DType::Int8, 64, 65536).chunk == 32); // exactly 4 MB
  CHECK(scan(DType::Int8, 64, 65537).chunk == 64);
  CHECK(scan(DType::Bool, 1, 131072).chunk == 32);
  MaskScanInput forced;
  forced.dtype = DType::Int64;
  forced.batch = 8;
  forced.seqLen = 4096;
  forced.forcedChunk = 64;
  CHECK(maskScanConstexprs(forced).chunk == 64);
}

TEST_CASE("mask_scan: flags, the generic kernel and the grid",
          "[plan][mask_scan]") {
  MaskScanInput input;
  input.dtype = DType::Int32;
  input.batch = 2;
  input.seqLen = 1024;
  input.strict = false;
  input.padded = true;
  const MaskScanConstexprs c = maskScanConstexprs(input);
  CHECK(c.byName() == std::map<std::string, int64_t>{{"BLOCK", 256},
                                                     {"CHUNK", 32},
                                                     {"PADDED", 1},
                                                     {"SEQ", 1024},
                                                     {"STRICT", 0}});
  MaskScanConstexprs generic = c;
  generic.seq = 0;
  CHECK(c.generic() == generic);
  // 2048 int32 tokens, 8 per thread, 256 threads: one tile.
  CHECK(c.tiles(2048, 4) == 1);
  CHECK(c.tiles(2049, 4) == 2);
}

TEST_CASE("row copies: the widest word, LANES, pad_input's way",
          "[plan][rows]") {
  auto word = [](int64_t rowBytes, int64_t strideBytes, uint64_t bits) {
    std::optional<RowWord> w = rowWord(rowBytes, strideBytes, bits);
    REQUIRE(w);
    return *w;
  };
  CHECK(word(8192, 8192, 0).wide);
  CHECK(word(8192, 8192, 0).bytes == 16);
  CHECK(word(24, 24, 0).bytes == 8); // 6 float32
  CHECK(word(24, 24, 0).dtype == DType::Int64);
  CHECK(word(12, 12, 0).dtype == DType::Int32);
  CHECK(word(6, 6, 0).dtype == DType::Float16);
  CHECK(word(8192, 8192, 0x1004).bytes == 4); // a view 4 bytes in
  CHECK(word(8192, 8200, 0).bytes == 8);      // stride of 8200 bytes
  CHECK_FALSE(rowWord(3, 3, 0));

  CHECK(rowCopyConstexprs(word(8192, 8192, 0), 512).byName() ==
        std::map<std::string, int64_t>{{"BLOCK", 256},
                                       {"LANES", 32},
                                       {"ROW", 512},
                                       {"WIDE", 1},
                                       {"CHECK", 0}});
  CHECK(rowCopyConstexprs(kRowNumberWord, 1, /*checkIndices=*/true)
            .byName()
            .at("CHECK") == 1);
  CHECK(rowCopyConstexprs(kRowNumberWord, 1).lanes == 1);
  CHECK(rowCopyConstexprs(kRowNumberWord, 16).lanes == 4);
  CHECK(rowCopyConstexprs(kRowNumberWord, 17).lanes == 8);

  const int64_t switchBytes = int64_t{128} << 20;
  CHECK(padInputStrategy(switchBytes - 1, std::nullopt) ==
        PadStrategy::Scatter);
  CHECK(padInputStrategy(switchBytes, std::nullopt) == PadStrategy::Gather);
  CHECK(padInputStrategy(1, PadStrategy::Gather) == PadStrategy::Gather);
}

TEST_CASE("position_ids_scan: blocks of 256, narrow ids widened",
          "[plan][positions]") {
  CHECK(positionIdsScanPlan({DType::Int64, 1, 0, true}).dtype == DType::Int64);
  CHECK(positionIdsScanPlan({DType::Int16, 1, 0, true}).dtype == DType::Int32);
  const PositionIdsScanPlan plan =
      positionIdsScanPlan({DType::Int32, 1, 4096, false});
  CHECK(plan.byName() ==
        std::map<std::string, int64_t>{
            {"BLOCK", 256}, {"STRICT", 0}, {"PADDED", 0}, {"CHUNKS", 1}});
  CHECK(plan.tileTokens() == 256 * 16);
  CHECK(positionIdsScanPlan({DType::Int32, 1, 4096, true, true})
            .byName()
            .at("PADDED") == 1);
}

TEST_CASE("position_ids_scan: more chunks per thread for more ids",
          "[plan][positions]") {
  CHECK(positionIdsChunks(0) == 1);
  CHECK(positionIdsChunks(int64_t{1} << 20) == 1);
  CHECK(positionIdsChunks((int64_t{1} << 21) - 1) == 1);
  CHECK(positionIdsChunks(int64_t{1} << 21) == 4);
  const PositionIdsScanPlan big =
      positionIdsScanPlan({DType::Int64, 4, int64_t{1} << 19, true});
  CHECK(big.chunks == 4);
  CHECK(big.tileTokens() == 256 * 4 * 8);
  CHECK(big.generic().chunks == 1);
  CHECK(big.generic().tileTokens() == 256 * 8);
  // PACKJIT_POSITION_IDS_CHUNKS wins over the size.
  CHECK(parsePositionIdsChunks("") == 0);
  CHECK(parsePositionIdsChunks("3") == 3);
  CHECK_FALSE(parsePositionIdsChunks("5").has_value());
  CHECK_FALSE(parsePositionIdsChunks("12").has_value());
  CHECK(positionIdsScanPlan({DType::Int32, 1, 4096, true, false, 3}).chunks ==
        3);
}

TEST_CASE("planOp: every op's kernels bind under their templates",
          "[plan][ops]") {
  OpPlanOptions options;
  for (DType dtype : maskDTypes())
    for (auto [batch, seqLen] :
         {std::pair<int64_t, int64_t>{8, 4096}, {3, 1000}, {64, 65536}})
      options.masks.push_back(mask(batch, seqLen, dtype, "mask"));
  for (DType dtype : rowDTypes())
    for (int64_t width : {1, 3, 64, 4096, 32 * 128})
      options.rows.push_back({width, dtype, "rows"});
  for (DType dtype : positionDTypes())
    options.positions.push_back({1, 4096, dtype, "positions"});
  for (ShapePolicy shapes :
       {ShapePolicy::Bucket, ShapePolicy::Exact, ShapePolicy::Dynamic}) {
    options.shapes = shapes;
    for (std::string_view op : opNames()) {
      INFO(op);
      for (const PlannedLaunch &launch : planOp(op, options))
        for (const PlannedKernel &k : launch.kernels) {
          INFO(launch.what);
          CHECK_NOTHROW(KernelBinding(KernelContract::of(k.kernel))
                            .dtypes(k.dtypes)
                            .set(k.constexprs)
                            .arch("sm_90")
                            .spec());
        }
    }
  }
}

TEST_CASE("planOp: what each op launches", "[plan][ops]") {
  OpPlanOptions options;
  options.masks = {mask(8, 4096, DType::Int64, "8x4096:int64")};
  options.rows = {{4096, DType::BFloat16, "4096:bfloat16"}};
  options.strictModes = {true};

  std::vector<PlannedLaunch> scans = planOp("get_unpad_data", options);
  REQUIRE(scans.size() == 1);
  CHECK(scans[0].what == "get_unpad_data 8x4096:int64 strict");
  REQUIRE(scans[0].kernels.size() == 2); // specialized, generic
  CHECK(scans[0].kernels[0].constexprs.at("SEQ") == 4096);
  CHECK(scans[0].kernels[1].constexprs.at("SEQ") == 0);
  CHECK(planOp("packjit::get_seqlens_in_batch", options)[0].kernels ==
        scans[0].kernels);
  CHECK(planOp("get_unpad_data_padded", options)[0].kernels[0].constexprs.at(
            "PADDED") == 1);

  options.masks = {mask(3, 1000, DType::Bool, "3x1000:bool")};
  CHECK(planOp("get_unpad_data", options)[0].kernels.size() == 1); // SEQ=0

  // unpad_input: its gather; its backward is torch's index_add (repeated
  // indices sum), no packjit kernel.
  std::vector<PlannedLaunch> unpad = planOp("unpad_input", options);
  REQUIRE(unpad.size() == 2);
  CHECK(unpad[0].kernels[0].kernel == "gather_rows");
  CHECK(unpad[0].kernels[0].constexprs.at("CHECK") == 0);
  CHECK(unpad[1].what == "unpad_input backward: torch's index_add (sums "
                         "repeated indices), no kernel");
  CHECK(unpad[1].kernels.empty());

  // unpad_input_from_mask: the scan, the gather, the backward.
  CHECK(planOp("unpad_input_from_mask", options).size() == 3);
  // is_indexed_packed_mask: mask_any_gt1 per non-bool mask, none for bool.
  OpPlanOptions indexed = options;
  indexed.masks.push_back(mask(2, 8, DType::Int32, "2x8:int32"));
  const std::vector<PlannedLaunch> checks =
      planOp("is_indexed_packed_mask", indexed);
  REQUIRE(checks.size() == 2);
  CHECK(checks[0].kernels.empty()); // 3x1000:bool
  REQUIRE(checks[1].kernels.size() == 1);
  CHECK(checks[1].kernels[0].kernel == "mask_any_gt1");
  CHECK(checks[1].kernels[0].dtypes == std::vector<DType>{DType::Int32});
  // cu_seqlens_from_position_ids: int64 when no dtype is given.
  CHECK(planOp("cu_seqlens_from_position_ids", options)[0].kernels[0].dtypes ==
        std::vector<DType>{DType::Int64});
}

TEST_CASE("planOp: context_parallel_partition, one kernel per boundary dtype",
          "[plan][ops]") {
  const OpPlanOptions options; // needs no input description
  for (std::string_view op :
       {"context_parallel_partition", "context_parallel_partition_padded"}) {
    std::vector<PlannedLaunch> launches = planOp(op, options);
    REQUIRE(launches.size() == 2);
    CHECK(launches[0].what == std::string(op) + " cu_seqlens_padded:int32");
    CHECK(launches[0].kernels ==
          std::vector<PlannedKernel>{
              {"cp_partition", {DType::Int32}, {{"BLOCK", 256}}}});
    CHECK(launches[1].kernels[0].dtypes == std::vector<DType>{DType::Int64});
  }
}

TEST_CASE("planOp: errors name the op and what it needs", "[plan][ops]") {
  OpPlanOptions options;
  CHECK_THROWS_WITH(planOp("get_unpad_dta", options),
                    Contains("unknown op 'get_unpad_dta' (ops: "
                             "context_parallel_partition, "
                             "context_parallel_partition_padded, "
                             "cu_seqlens_from_position_ids, "
                             "cu_seqlens_from_position_ids_padded, "
                             "get_seqlens_in_batch, get_unpad_data,"));
  CHECK_THROWS_WITH(planOp("get_unpad_data", options),
                    Contains("get_unpad_data scans attention masks"));
  CHECK_THROWS_WITH(planOp("pad_input", options),
                    Contains("pad_input moves rows"));
  options.masks = {mask(1, 8, DType::Float32, "1x8:float32")};
  CHECK_THROWS_WITH(planOp("get_unpad_data", options),
                    Contains("mask '1x8:float32': get_unpad_data takes masks "
                             "of int64, int32, int16, int8, uint8, bool"));
  options.rows = {{8, DType::Bool, "8:bool"}};
  CHECK_THROWS_WITH(planOp("unpad_input", options),
                    Contains("rows '8:bool': unpad_input takes tensors of "
                             "float32, float16, bfloat16"));
  options.positions = {{1, 8, DType::Float16, "float16"}};
  CHECK_THROWS_WITH(planOp("cu_seqlens_from_position_ids", options),
                    Contains("position ids 'float16'"));
}
