// cu_seqlens_from_position_ids: the packing-by-position-ids convention.
#include "test_support.h"

#include "packjit/ops.h"

#include <catch2/catch.hpp>

#include <limits>
#include <string>

using packjit::test::makeMask;
using packjit::test::Rows;
using packjit::test::toVector;
using Values = std::vector<int64_t>;

namespace {

at::Tensor positions1d(const Values &values, at::ScalarType dtype = at::kLong) {
  return makeMask({values}, dtype).squeeze(0);
}

void checkCuSeqlens(const at::Tensor &positions, const Values &expectedCu,
                    int64_t expectedMax, bool strict = true) {
  auto [cuSeqlens, maxSeqlen] =
      packjit::cu_seqlens_from_position_ids(positions, strict);
  CHECK(cuSeqlens.scalar_type() == at::kInt);
  CHECK(cuSeqlens.dim() == 1);
  CHECK(cuSeqlens.device().is_cpu());
  CHECK(toVector(cuSeqlens) == expectedCu);
  CHECK(maxSeqlen == expectedMax);
}

const std::vector<at::ScalarType> kPositionDTypes = {
    at::kLong, at::kInt, at::kShort, at::kChar, at::kByte};

} // namespace

TEST_CASE("cu_seqlens_from_position_ids: [N] and [1, N]", "[position_ids]") {
  const Values packed = {0, 1, 2, 0, 1, 0, 0, 1, 2, 3};
  const Values expectedCu = {0, 3, 5, 6, 10};
  checkCuSeqlens(positions1d(packed), expectedCu, 4);
  checkCuSeqlens(makeMask({packed}), expectedCu, 4);
}

TEST_CASE("cu_seqlens_from_position_ids: [B, S] starts a sequence at each row",
          "[position_ids]") {
  checkCuSeqlens(makeMask({{0, 1, 2, 3}, {0, 1, 0, 1}}), {0, 4, 6, 8}, 4);
  // The second row continues positions, but a row start is a sequence start.
  checkCuSeqlens(makeMask({{0, 1, 2}, {3, 4, 5}}), {0, 3, 6}, 3);
  checkCuSeqlens(makeMask({{0}, {0}, {0}}), {0, 1, 2, 3}, 1);
}

TEST_CASE("cu_seqlens_from_position_ids: the smallest position starts a "
          "sequence (RoBERTa-like)",
          "[position_ids]") {
  // padding_idx = 1: positions start at 2.
  checkCuSeqlens(positions1d({2, 3, 4, 2, 3, 2}), {0, 3, 5, 6}, 3);
  checkCuSeqlens(makeMask({{2, 3, 4, 5}, {2, 3, 2, 3}}), {0, 4, 6, 8}, 4);
  // A single sequence that does not start at 0.
  checkCuSeqlens(positions1d({5, 6, 7}), {0, 3}, 3);
  // The smallest position is taken over the whole tensor, not per row.
  checkCuSeqlens(makeMask({{2, 3, 4}, {3, 4, 2}}), {0, 3, 5, 6}, 3);
}

TEST_CASE("cu_seqlens_from_position_ids: every integer dtype",
          "[position_ids][dtype]") {
  for (at::ScalarType dtype : kPositionDTypes) {
    CAPTURE(dtype);
    checkCuSeqlens(positions1d({0, 1, 2, 0, 1}, dtype), {0, 3, 5}, 3);
    checkCuSeqlens(makeMask({{0, 1, 0, 1, 2}, {0, 1, 2, 3, 4}}, dtype),
                   {0, 2, 5, 10}, 5);
  }
  checkCuSeqlens(positions1d({253, 254, 255, 253}, at::kByte), {0, 3, 4}, 3);
  checkCuSeqlens(positions1d({125, 126, 127}, at::kChar), {0, 3}, 3);
}

TEST_CASE("cu_seqlens_from_position_ids: non-contiguous positions",
          "[position_ids][strides]") {
  at::Tensor rows = makeMask({{0, 1, 2, 0}, {0, 1, 0, 1}}).t().contiguous().t();
  REQUIRE_FALSE(rows.is_contiguous());
  checkCuSeqlens(rows, {0, 3, 4, 6, 8}, 3);
  at::Tensor every = positions1d({0, 9, 1, 9, 2, 9, 0, 9, 1, 9});
  checkCuSeqlens(every.slice(0, 0, 10, 2), {0, 3, 5}, 3);
}

TEST_CASE("cu_seqlens_from_position_ids: empty input", "[position_ids]") {
  for (auto shape : {std::vector<int64_t>{0}, {1, 0}, {0, 4}, {3, 0}})
    checkCuSeqlens(at::zeros(shape, at::kLong), {0}, 0);
}

TEST_CASE("cu_seqlens_from_position_ids: strict mode", "[position_ids]") {
  SECTION("a gap inside a sequence names the place and the values") {
    CHECK_THROWS_WITH(
        packjit::cu_seqlens_from_position_ids(positions1d({0, 1, 3, 4})),
        Catch::Contains("packjit.cu_seqlens_from_position_ids") &&
            Catch::Contains("position_ids[2] = 3 follows 1") &&
            Catch::Contains("expected 2, or the sequence start 0") &&
            Catch::Contains("strict=False"));
  }
  SECTION("1-D ids are named by one index, [1, N] ids by two") {
    CHECK_THROWS_WITH(packjit::cu_seqlens_from_position_ids(
                          positions1d({0, 1, 3}).view({1, 3})),
                      Catch::Contains("position_ids[0, 2] = 3 follows 1"));
  }
  SECTION("nothing follows INT64_MAX") {
    // previous + 1 overflowed (UB) in the check and in the message; the
    // sanitizer build (scripts/sanitize.sh) reports it here.
    constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
    CHECK_THROWS_WITH(packjit::cu_seqlens_from_position_ids(
                          makeMask({{kMax - 1, kMax, 8}, {7, 8, 9}})),
                      Catch::Contains("position_ids[0, 2] = 8 follows " +
                                      std::to_string(kMax) +
                                      " (none can follow it"));
  }
  SECTION("the first violation in row-major order is reported") {
    CHECK_THROWS_WITH(packjit::cu_seqlens_from_position_ids(
                          makeMask({{0, 1, 2, 3}, {0, 1, 1, 5}, {0, 2, 0, 0}})),
                      Catch::Contains("position_ids[1, 2] = 1 follows 1"));
  }
  SECTION("the sequence start is the tensor's smallest position") {
    CHECK_THROWS_WITH(
        packjit::cu_seqlens_from_position_ids(positions1d({2, 3, 4, 2, 4})),
        Catch::Contains("position_ids[4] = 4 follows 2") &&
            Catch::Contains("or the sequence start 2"));
  }
  SECTION("a decrease to a value other than the start") {
    CHECK_THROWS_WITH(
        packjit::cu_seqlens_from_position_ids(positions1d({0, 1, 2, 1, 2})),
        Catch::Contains("position_ids[3] = 1 follows 2"));
  }
  SECTION("strict=False splits only at the start value and row starts") {
    checkCuSeqlens(positions1d({0, 1, 3, 4}), {0, 4}, 4, /*strict=*/false);
    checkCuSeqlens(positions1d({0, 1, 2, 1, 2, 0, 5}), {0, 5, 7}, 5,
                   /*strict=*/false);
    checkCuSeqlens(makeMask({{0, 7, 7}, {9, 0, 0}}), {0, 3, 4, 5, 6}, 3,
                   /*strict=*/false);
  }
}

TEST_CASE("cu_seqlens_from_position_ids_padded: fixed shapes",
          "[position_ids][padded]") {
  const at::Tensor ids = makeMask({{0, 1, 2, 0, 1}, {5, 0, 1, 2, 3}});
  SECTION("room for every token: the boundaries, then N") {
    auto [cu, summary] = packjit::cu_seqlens_from_position_ids_padded(ids);
    CHECK(cu.scalar_type() == at::kInt);
    CHECK(toVector(cu) == Values{0, 3, 5, 6, 10, 10, 10, 10, 10, 10, 10});
    CHECK(toVector(summary) == Values{10, 4, 4, 0});
  }
  SECTION("max_documents: the first boundaries that fit") {
    auto [cu, summary] = packjit::cu_seqlens_from_position_ids_padded(
        ids, /*strict=*/true, /*max_documents=*/2);
    CHECK(toVector(cu) == Values{0, 3, 5});
    CHECK(toVector(summary) == Values{10, 4, 4, 0});
    std::tie(cu, summary) =
        packjit::cu_seqlens_from_position_ids_padded(ids, true, 6);
    CHECK(toVector(cu) == Values{0, 3, 5, 6, 10, 10, 10});
  }
  SECTION("empty input, and bad arguments") {
    auto [cu, summary] = packjit::cu_seqlens_from_position_ids_padded(
        at::zeros({0}, at::kLong), true, 3);
    CHECK(toVector(cu) == Values{0, 0, 0, 0});
    CHECK(toVector(summary) == Values{0, 0, 0, 0});
    CHECK_THROWS_WITH(
        packjit::cu_seqlens_from_position_ids_padded(ids, true, -2),
        Catch::Contains("max_documents should be -1 (B*S) or >= 0, got -2"));
    CHECK_THROWS_WITH(
        packjit::cu_seqlens_from_position_ids_padded(positions1d({0, 1, 3})),
        Catch::Contains("position_ids[2] = 3 follows 1"));
  }
}
