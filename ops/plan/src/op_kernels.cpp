#include "packjit/plan/op_kernels.h"

#include "packjit/core/error.h"
#include "packjit/plan/cp_partition.h"
#include "packjit/plan/mask_any_gt1.h"
#include "packjit/plan/position_ids_scan.h"

#include <algorithm>

namespace packjit::plan {
namespace {

// A kernel with tiered specialization (KernelFamily::getTiered): the planned
// kernel, then the generic one that serves while it compiles, when the two
// differ.
PlannedLaunch tieredLaunch(std::string what, PlannedKernel planned,
                           std::map<std::string, int64_t> generic) {
  PlannedLaunch launch{std::move(what), {planned}};
  if (generic != planned.constexprs)
    launch.kernels.push_back({std::move(planned.kernel),
                              std::move(planned.dtypes), std::move(generic)});
  return launch;
}

// torch's spelling, as users write dtypes (parseDType takes both).
std::string_view torchName(DType dtype) {
  switch (dtype) {
  case DType::Bool:
    return "bool";
  case DType::UInt8:
    return "uint8";
  case DType::Int8:
    return "int8";
  case DType::Int16:
    return "int16";
  case DType::Int32:
    return "int32";
  case DType::Int64:
    return "int64";
  case DType::Float16:
    return "float16";
  case DType::BFloat16:
    return "bfloat16";
  case DType::Float32:
    return "float32";
  case DType::Float64:
    return "float64";
  }
  return dtypeName(dtype);
}

bool contains(const std::vector<DType> &dtypes, DType dtype) {
  return std::find(dtypes.begin(), dtypes.end(), dtype) != dtypes.end();
}

std::string strictWord(bool strict) { return strict ? "strict" : "non-strict"; }

const std::vector<MaskInput> &requireMasks(std::string_view op,
                                           const OpPlanOptions &options) {
  if (options.masks.empty())
    throw Error(std::string(op) +
                " scans attention masks: give their shapes and dtypes with "
                "--masks BxS:DTYPE (e.g. 8x4096:int64)");
  for (const MaskInput &mask : options.masks)
    if (!contains(maskDTypes(), mask.dtype))
      throw Error("mask '" + mask.text + "': " + std::string(op) +
                  " takes masks of " + dtypeList(maskDTypes()));
  return options.masks;
}

const std::vector<RowInput> &requireRows(std::string_view op,
                                         const OpPlanOptions &options) {
  if (options.rows.empty())
    throw Error(std::string(op) +
                " moves rows whose kernels depend on the row width and "
                "dtype: give them with --rows WIDTH:DTYPE (e.g. 4096:bfloat16, "
                "or 32x128:bfloat16 for heads x head_dim)");
  for (const RowInput &row : options.rows)
    if (!contains(rowDTypes(), row.dtype))
      throw Error("rows '" + row.text + "': " + std::string(op) +
                  " takes tensors of " + dtypeList(rowDTypes()));
  return options.rows;
}

// The mask_scan launches of `op` for every mask and strict mode.
void planScans(std::string_view op, const OpPlanOptions &options, bool padded,
               std::vector<PlannedLaunch> &out) {
  for (const MaskInput &mask : requireMasks(op, options))
    for (bool strict : options.strictModes) {
      MaskScanInput input;
      input.dtype = mask.dtype;
      input.batch = mask.batch;
      input.seqLen = mask.seqLen;
      input.strict = strict;
      input.padded = padded;
      input.shapes = options.shapes;
      input.forcedChunk = options.forcedChunk;
      const MaskScanConstexprs specialized = maskScanConstexprs(input);
      out.push_back(tieredLaunch(
          std::string(op) + " " + mask.text + " " + strictWord(strict),
          {std::string(kMaskScanKernel), {mask.dtype}, specialized.byName()},
          specialized.generic().byName()));
    }
}

RowWord wordOfRows(const RowInput &row) {
  const int64_t bytes = row.elements * dtypeSize(row.dtype);
  // Contiguous rows (stride = row bytes) at the allocator's aligned addresses.
  std::optional<RowWord> word = rowWord(bytes, bytes, 0);
  if (!word)
    throw Error("rows '" + row.text + "': rows of " + std::to_string(bytes) +
                " bytes cannot be copied by the CUDA kernels");
  return *word;
}

PlannedKernel rowKernel(std::string_view kernel, RowWord word,
                        int64_t rowBytes) {
  return {std::string(kernel),
          {word.dtype},
          rowCopyConstexprs(word, rowBytes / word.bytes).byName()};
}

PlannedKernel gatherKernel(const RowInput &row) {
  return rowKernel(kGatherRowsKernel, wordOfRows(row),
                   row.elements * dtypeSize(row.dtype));
}

// unpad_input's gather of `row` (also pad_input's backward).
void planGathers(std::string_view what, const OpPlanOptions &options,
                 std::vector<PlannedLaunch> &out) {
  for (const RowInput &row : requireRows(what, options))
    out.push_back(
        {std::string(what) + " rows " + row.text, {gatherKernel(row)}});
}

// pad_input's kernels for an output of `outputBytes` (nullopt: any size).
std::vector<PlannedKernel> padKernels(const RowInput &row,
                                      std::optional<int64_t> outputBytes,
                                      std::optional<PadStrategy> forced) {
  const RowWord word = wordOfRows(row);
  const int64_t rowBytes = row.elements * dtypeSize(row.dtype);
  std::vector<PadStrategy> strategies;
  if (outputBytes || forced)
    strategies.push_back(padInputStrategy(outputBytes.value_or(0), forced));
  else
    strategies = {PadStrategy::Scatter, PadStrategy::Gather};
  std::vector<PlannedKernel> kernels;
  for (PadStrategy strategy : strategies) {
    if (strategy == PadStrategy::Scatter) {
      kernels.push_back(rowKernel(kScatterRowsKernel, word, rowBytes));
    } else {
      kernels.push_back(
          rowKernel(kScatterRowsKernel, kRowNumberWord, kRowNumberWord.bytes));
      kernels.push_back(rowKernel(kGatherRowsKernel, word, rowBytes));
    }
  }
  return kernels;
}

// pad_input of `row` into each mask's [B, S] (its way depends on the output
// size), or both ways when no mask is given.
void planPads(std::string_view what, const OpPlanOptions &options,
              std::vector<PlannedLaunch> &out) {
  for (const RowInput &row : requireRows(what, options)) {
    const int64_t rowBytes = row.elements * dtypeSize(row.dtype);
    if (options.masks.empty()) {
      out.push_back({std::string(what) + " rows " + row.text +
                         (options.forcedPad ? "" : " (any size: both ways)"),
                     padKernels(row, std::nullopt, options.forcedPad)});
      continue;
    }
    for (const MaskInput &mask : options.masks)
      out.push_back(
          {std::string(what) + " rows " + row.text + " into " + mask.text,
           padKernels(row, mask.batch * mask.seqLen * rowBytes,
                      options.forcedPad)});
  }
}

void planPositionScans(std::string_view op, const OpPlanOptions &options,
                       bool padded, std::vector<PlannedLaunch> &out) {
  std::vector<PositionInput> positions = options.positions;
  if (positions.empty())
    positions.push_back({1, 0, DType::Int64, "int64"});
  for (const PositionInput &p : positions) {
    if (!contains(positionDTypes(), p.dtype))
      throw Error("position ids '" + p.text + "': " + std::string(op) +
                  " takes position ids of " + dtypeList(positionDTypes()));
    for (bool strict : options.strictModes) {
      const PositionIdsScanPlan plan =
          positionIdsScanPlan({p.dtype, p.batch, p.seqLen, strict, padded,
                               options.forcedPositionChunks});
      out.push_back(tieredLaunch(
          std::string(op) + " " + p.text + " " + strictWord(strict),
          {std::string(kPositionIdsScanKernel), {plan.dtype}, plan.byName()},
          plan.generic().byName()));
    }
  }
}

} // namespace

const std::vector<std::string_view> &opNames() {
  static const std::vector<std::string_view> names = {
      "context_parallel_partition",
      "context_parallel_partition_padded",
      "cu_seqlens_from_position_ids",
      "cu_seqlens_from_position_ids_padded",
      "get_seqlens_in_batch",
      "get_unpad_data",
      "get_unpad_data_padded",
      "is_indexed_packed_mask",
      "pad_input",
      "unpad_input",
      "unpad_input_from_mask",
      "unpad_inputs"};
  return names;
}

std::string_view findOp(std::string_view name) {
  for (std::string_view prefix : {"packjit.", "packjit::"})
    if (name.starts_with(prefix))
      name.remove_prefix(prefix.size());
  for (std::string_view op : opNames())
    if (op == name)
      return op;
  std::string known;
  for (std::string_view op : opNames())
    known += (known.empty() ? "" : ", ") + std::string(op);
  throw Error("unknown op '" + std::string(name) + "' (ops: " + known + ")");
}

const std::vector<DType> &maskDTypes() {
  static const std::vector<DType> dtypes = {DType::Int64, DType::Int32,
                                            DType::Int16, DType::Int8,
                                            DType::UInt8, DType::Bool};
  return dtypes;
}

const std::vector<DType> &rowDTypes() {
  static const std::vector<DType> dtypes = {DType::Float32,  DType::Float16,
                                            DType::BFloat16, DType::Float64,
                                            DType::Int64,    DType::Int32};
  return dtypes;
}

const std::vector<DType> &positionDTypes() {
  static const std::vector<DType> dtypes = {
      DType::Int64, DType::Int32, DType::Int16, DType::Int8, DType::UInt8};
  return dtypes;
}

std::string dtypeList(const std::vector<DType> &dtypes) {
  std::string out;
  for (DType dtype : dtypes)
    out += (out.empty() ? "" : ", ") + std::string(torchName(dtype));
  return out;
}

// unpad_input's backward sums the rows of repeated indices with torch's
// index_add (ops/src/autograd/unpad_input.cpp): no packjit kernel.
constexpr const char *kSummedBackward =
    " backward: torch's index_add (sums repeated indices), no kernel";

std::vector<PlannedLaunch> planOp(std::string_view op,
                                  const OpPlanOptions &options) {
  op = findOp(op);
  std::vector<PlannedLaunch> out;
  if (op == "get_unpad_data" || op == "get_seqlens_in_batch") {
    planScans(op, options, /*padded=*/false, out);
  } else if (op == "get_unpad_data_padded") {
    planScans(op, options, /*padded=*/true, out);
  } else if (op == "unpad_input" || op == "unpad_inputs") {
    planGathers(op, options, out);
    out.push_back({std::string(op) + kSummedBackward, {}});
  } else if (op == "pad_input") {
    planPads(op, options, out);
    planGathers("pad_input backward (unpad_input)", options, out);
  } else if (op == "unpad_input_from_mask") {
    // get_unpad_data, then unpad_input (and its backward).
    planScans(op, options, /*padded=*/false, out);
    planGathers(op, options, out);
    out.push_back({std::string(op) + kSummedBackward, {}});
  } else if (op == "cu_seqlens_from_position_ids") {
    planPositionScans(op, options, /*padded=*/false, out);
  } else if (op == "cu_seqlens_from_position_ids_padded") {
    planPositionScans(op, options, /*padded=*/true, out);
  } else if (op == "context_parallel_partition" ||
             op == "context_parallel_partition_padded") {
    // Both forms launch the same kernel (the sync form twice).
    for (DType dtype : cpPartitionDTypes()) {
      const CpPartitionPlan plan = cpPartitionPlan(dtype);
      out.push_back(
          {std::string(op) +
               " cu_seqlens_padded:" + std::string(torchName(dtype)),
           {{std::string(kCpPartitionKernel), {dtype}, plan.byName()}}});
    }
  } else if (op == "is_indexed_packed_mask") {
    for (const MaskInput &mask : requireMasks(op, options)) {
      if (mask.dtype == DType::Bool) { // always false: no kernel
        out.push_back({std::string(op) + " " + mask.text + ": no kernel", {}});
        continue;
      }
      const MaskAnyGt1Plan plan = maskAnyGt1Plan(mask.dtype);
      out.push_back(
          {std::string(op) + " " + mask.text,
           {{std::string(kMaskAnyGt1Kernel), {plan.dtype}, plan.byName()}}});
    }
  }
  return out;
}

} // namespace packjit::plan
