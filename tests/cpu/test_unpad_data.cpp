// get_unpad_data on fixed masks: the design's examples, padding layouts,
// empty and tiny shapes, every dtype and non-contiguous views.
#include "test_support.h"

#include "packjit/ops.h"

#include <catch2/catch.hpp>

using packjit::test::makeMask;
using packjit::test::maskDTypes;
using packjit::test::Rows;
using packjit::test::toVector;
using Values = std::vector<int64_t>;

namespace {

struct Expected {
  Values indices;
  Values cuSeqlens;
  int64_t maxSeqlen;
};

void checkUnpadData(const at::Tensor &mask, const Expected &expected) {
  auto [indices, cuSeqlens, maxSeqlen] = packjit::get_unpad_data(mask);
  CHECK(indices.scalar_type() == at::kLong);
  CHECK(cuSeqlens.scalar_type() == at::kInt);
  CHECK(indices.dim() == 1);
  CHECK(cuSeqlens.dim() == 1);
  CHECK(indices.device().is_cpu());
  CHECK(cuSeqlens.device().is_cpu());
  CHECK(toVector(indices) == expected.indices);
  CHECK(toVector(cuSeqlens) == expected.cuSeqlens);
  CHECK(maxSeqlen == expected.maxSeqlen);
}

const Rows kDesignExample = {{1, 1, 2, 2, 2, 0}, {1, 2, 2, 3, 3, 3}};
const Expected kDesignExampleResult = {
    {0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11}, {0, 2, 5, 6, 8, 11}, 3};

} // namespace

TEST_CASE("get_unpad_data: the design's two-row example", "[unpad]") {
  checkUnpadData(makeMask(kDesignExample), kDesignExampleResult);
}

TEST_CASE("get_unpad_data: the design's one-row examples", "[unpad]") {
  SECTION("a zero inside a document is dropped: [[1,0,1,2]]") {
    checkUnpadData(makeMask({{1, 0, 1, 2}}), {{0, 2, 3}, {0, 2, 3}, 2});
  }
  SECTION("left padding: [[0,0,1,1,2]]") {
    checkUnpadData(makeMask({{0, 0, 1, 1, 2}}), {{2, 3, 4}, {0, 2, 3}, 2});
  }
  SECTION("skipped ids: [[1,1,3,3]]") {
    checkUnpadData(makeMask({{1, 1, 3, 3}}), {{0, 1, 2, 3}, {0, 2, 4}, 2});
  }
  SECTION("an all-zero row has no documents") {
    checkUnpadData(makeMask({{0, 0, 0, 0}, {1, 1, 2, 0}}),
                   {{4, 5, 6}, {0, 2, 3}, 2});
  }
}

TEST_CASE("get_unpad_data: padding layouts", "[unpad]") {
  SECTION("right padding") {
    checkUnpadData(makeMask({{1, 2, 2, 0, 0}, {1, 1, 1, 1, 0}}),
                   {{0, 1, 2, 5, 6, 7, 8}, {0, 1, 3, 7}, 4});
  }
  SECTION("left padding in every row") {
    checkUnpadData(makeMask({{0, 1, 1, 2}, {0, 0, 0, 5}}),
                   {{1, 2, 3, 7}, {0, 2, 3, 4}, 2});
  }
  SECTION("padding between and inside documents") {
    checkUnpadData(makeMask({{1, 1, 0, 0, 1, 2, 0, 2}}),
                   {{0, 1, 4, 5, 7}, {0, 3, 5}, 3});
  }
  SECTION("all-zero rows between others") {
    checkUnpadData(makeMask({{1, 1, 0}, {0, 0, 0}, {2, 2, 2}, {0, 0, 0}}),
                   {{0, 1, 6, 7, 8}, {0, 2, 5}, 3});
  }
  SECTION("rows never share a document, even with equal ids") {
    checkUnpadData(makeMask({{1, 1, 1}, {1, 1, 1}}),
                   {{0, 1, 2, 3, 4, 5}, {0, 3, 6}, 3});
  }
  SECTION("ids far apart and large") {
    checkUnpadData(makeMask({{7, 7, 100, 100, 100, 126}}),
                   {{0, 1, 2, 3, 4, 5}, {0, 2, 5, 6}, 3});
  }
  SECTION("int64 ids beyond the int32 range") {
    const int64_t big = int64_t(1) << 40;
    checkUnpadData(makeMask({{1, big, big, big + 1}}),
                   {{0, 1, 2, 3}, {0, 1, 3, 4}, 2});
  }
  SECTION("uint8 ids above 127") {
    checkUnpadData(makeMask({{200, 200, 255}}, at::kByte),
                   {{0, 1, 2}, {0, 2, 3}, 2});
  }
}

TEST_CASE("get_unpad_data: no tokens at all", "[unpad]") {
  const Expected nothing = {{}, {0}, 0};
  for (at::ScalarType dtype : maskDTypes()) {
    CAPTURE(dtype);
    checkUnpadData(at::zeros({3, 7}, dtype), nothing);
    checkUnpadData(at::zeros({0, 5}, dtype), nothing);
    // No storage (a null data pointer): the scan offset it, UB that
    // fuzz/mask_scan_fuzzer found and scripts/sanitize.sh reports here.
    checkUnpadData(at::zeros({5, 0}, dtype), nothing);
    checkUnpadData(at::zeros({0, 0}, dtype), nothing);
  }
}

TEST_CASE("get_unpad_data: one token", "[unpad]") {
  checkUnpadData(makeMask({{0}}), {{}, {0}, 0});
  checkUnpadData(makeMask({{5}}), {{0}, {0, 1}, 1});
  checkUnpadData(makeMask({{1}}, at::kBool), {{0}, {0, 1}, 1});
}

TEST_CASE("get_unpad_data: every mask dtype gives the same int64/int32 "
          "outputs",
          "[unpad][dtype]") {
  for (at::ScalarType dtype : maskDTypes()) {
    CAPTURE(dtype);
    if (dtype == at::kBool) {
      // A bool mask is binary: each row's tokens are one document.
      checkUnpadData(makeMask(kDesignExample, dtype),
                     {kDesignExampleResult.indices, {0, 5, 11}, 6});
    } else {
      checkUnpadData(makeMask(kDesignExample, dtype), kDesignExampleResult);
    }
  }
}

TEST_CASE("get_unpad_data: a binary mask is one document per row", "[unpad]") {
  const Rows binary = {{1, 1, 1, 0}, {1, 0, 0, 0}, {0, 0, 0, 0}, {0, 1, 1, 1}};
  const Expected expected = {{0, 1, 2, 4, 13, 14, 15}, {0, 3, 4, 7}, 3};
  checkUnpadData(makeMask(binary, at::kBool), expected);
  checkUnpadData(makeMask(binary, at::kInt), expected);
}

TEST_CASE("get_unpad_data: non-contiguous masks", "[unpad][strides]") {
  for (at::ScalarType dtype : {at::kLong, at::kByte, at::kBool}) {
    CAPTURE(dtype);
    const bool binary = dtype == at::kBool;
    {
      INFO("a transposed [S, B] tensor");
      at::Tensor mask = makeMask(kDesignExample, dtype).t().contiguous().t();
      REQUIRE_FALSE(mask.is_contiguous());
      checkUnpadData(
          mask, binary ? Expected{kDesignExampleResult.indices, {0, 5, 11}, 6}
                       : kDesignExampleResult);
    }
    {
      INFO("every other column");
      at::Tensor full =
          makeMask({{1, 9, 1, 9, 2, 9, 0, 9}, {0, 9, 3, 9, 3, 9, 3, 9}}, dtype);
      at::Tensor mask = full.slice(1, 0, 8, 2);
      REQUIRE(mask.stride(1) == 2);
      checkUnpadData(mask, binary
                               ? Expected{{0, 1, 2, 5, 6, 7}, {0, 3, 6}, 3}
                               : Expected{{0, 1, 2, 5, 6, 7}, {0, 2, 3, 6}, 3});
    }
    {
      INFO("every other row and a column window");
      at::Tensor full = makeMask(
          {{9, 1, 1, 2, 9}, {9, 9, 9, 9, 9}, {9, 0, 4, 4, 9}, {9, 9, 9, 9, 9}},
          dtype);
      at::Tensor mask = full.slice(0, 0, 4, 2).slice(1, 1, 4);
      REQUIRE(mask.sizes() == at::IntArrayRef{2, 3});
      checkUnpadData(mask, binary ? Expected{{0, 1, 2, 4, 5}, {0, 3, 5}, 3}
                                  : Expected{{0, 1, 2, 4, 5}, {0, 2, 3, 5}, 2});
    }
    {
      INFO("one row expanded over the batch (row stride 0)");
      at::Tensor mask = makeMask({{1, 1, 2, 0}}, dtype).expand({3, 4});
      REQUIRE(mask.stride(0) == 0);
      checkUnpadData(
          mask, binary ? Expected{{0, 1, 2, 4, 5, 6, 8, 9, 10}, {0, 3, 6, 9}, 3}
                       : Expected{{0, 1, 2, 4, 5, 6, 8, 9, 10},
                                  {0, 2, 3, 5, 6, 8, 9},
                                  2});
    }
    {
      INFO("one column expanded over the row (column stride 0)");
      at::Tensor mask = makeMask({{3}, {0}, {1}}, dtype).expand({3, 4});
      REQUIRE(mask.stride(1) == 0);
      checkUnpadData(mask, {{0, 1, 2, 3, 8, 9, 10, 11}, {0, 4, 8}, 4});
    }
  }
}

TEST_CASE("get_unpad_data: strict=False on the design's example", "[unpad]") {
  auto [indices, cuSeqlens, maxSeqlen] =
      packjit::get_unpad_data(makeMask(kDesignExample), /*strict=*/false);
  CHECK(toVector(indices) == kDesignExampleResult.indices);
  CHECK(toVector(cuSeqlens) == kDesignExampleResult.cuSeqlens);
  CHECK(maxSeqlen == kDesignExampleResult.maxSeqlen);
}

TEST_CASE("get_unpad_data: large masks keep earlier results intact",
          "[unpad][large]") {
  // Outputs of 1 MB and more come from a reused block cache: a result still
  // held must not be overwritten by later calls.
  const int64_t batch = 4, seqLen = 65536;
  at::Tensor allTokens = at::ones({batch, seqLen}, at::kInt);
  auto [firstIndices, firstCu, firstMax] = packjit::get_unpad_data(allTokens);
  REQUIRE(firstIndices.numel() == batch * seqLen);
  for (int round = 0; round < 6; ++round) {
    at::Tensor halfTokens = at::zeros({batch, seqLen}, at::kInt);
    halfTokens.slice(1, 0, seqLen / 2).fill_(round + 1);
    auto [indices, cu, maxSeqlen] = packjit::get_unpad_data(halfTokens);
    CHECK(indices.numel() == batch * seqLen / 2);
    CHECK(indices[batch * seqLen / 2 - 1].item<int64_t>() ==
          (batch - 1) * seqLen + seqLen / 2 - 1);
    CHECK(maxSeqlen == seqLen / 2);
  }
  CHECK(at::equal(firstIndices, at::arange(batch * seqLen, at::kLong)));
  CHECK(toVector(firstCu) ==
        Values{0, seqLen, 2 * seqLen, 3 * seqLen, 4 * seqLen});
  CHECK(firstMax == seqLen);
}
