// get_seqlens_in_batch and is_indexed_packed_mask on fixed masks.
#include "test_support.h"

#include "packjit/ops.h"

#include <catch2/catch.hpp>

using packjit::test::makeMask;
using packjit::test::maskDTypes;
using packjit::test::Rows;
using packjit::test::toVector;
using Values = std::vector<int64_t>;

namespace {

at::ScalarType expectedSeqlensDType(at::ScalarType maskDType) {
  return maskDType == at::kLong || maskDType == at::kInt ? maskDType : at::kInt;
}

} // namespace

TEST_CASE("get_seqlens_in_batch: document lengths and dtype per mask dtype",
          "[seqlens][dtype]") {
  const Rows rows = {{1, 1, 2, 2, 2, 0}, {1, 2, 2, 3, 3, 3}};
  for (at::ScalarType dtype : maskDTypes()) {
    CAPTURE(dtype);
    at::Tensor lengths = packjit::get_seqlens_in_batch(makeMask(rows, dtype));
    CHECK(lengths.scalar_type() == expectedSeqlensDType(dtype));
    CHECK(lengths.dim() == 1);
    if (dtype == at::kBool)
      CHECK(toVector(lengths) == Values{5, 6});
    else
      CHECK(toVector(lengths) == Values{2, 3, 1, 2, 3});
  }
}

TEST_CASE("get_seqlens_in_batch: the design's one-row examples", "[seqlens]") {
  CHECK(toVector(packjit::get_seqlens_in_batch(makeMask({{1, 0, 1, 2}}))) ==
        Values{2, 1});
  CHECK(toVector(packjit::get_seqlens_in_batch(makeMask({{0, 0, 1, 1, 2}}))) ==
        Values{2, 1});
  CHECK(toVector(packjit::get_seqlens_in_batch(makeMask({{1, 1, 3, 3}}))) ==
        Values{2, 2});
  CHECK(toVector(packjit::get_seqlens_in_batch(
            makeMask({{0, 0, 0}, {4, 4, 0}}))) == Values{2});
}

TEST_CASE("get_seqlens_in_batch: no documents gives an empty 1-D tensor",
          "[seqlens]") {
  for (at::ScalarType dtype : maskDTypes()) {
    CAPTURE(dtype);
    for (auto shape : {std::vector<int64_t>{2, 3}, {0, 4}, {4, 0}, {0, 0}}) {
      at::Tensor lengths =
          packjit::get_seqlens_in_batch(at::zeros(shape, dtype));
      CHECK(lengths.sizes() == at::IntArrayRef{0});
      CHECK(lengths.scalar_type() == expectedSeqlensDType(dtype));
    }
  }
}

TEST_CASE("get_seqlens_in_batch: lengths above the narrow dtype's range",
          "[seqlens]") {
  // An int8 or uint8 mask may hold documents longer than 127 / 255 tokens;
  // the lengths are int32 so they do not wrap.
  for (at::ScalarType dtype : {at::kChar, at::kByte, at::kShort, at::kBool}) {
    CAPTURE(dtype);
    at::Tensor mask = at::ones({2, 300}, dtype);
    at::Tensor lengths = packjit::get_seqlens_in_batch(mask);
    CHECK(lengths.scalar_type() == at::kInt);
    CHECK(toVector(lengths) == Values{300, 300});
  }
}

TEST_CASE("get_seqlens_in_batch: non-contiguous and strict=False",
          "[seqlens]") {
  at::Tensor mask = makeMask({{1, 2, 1, 1}, {0, 3, 3, 0}}).t().contiguous().t();
  REQUIRE_FALSE(mask.is_contiguous());
  CHECK(toVector(packjit::get_seqlens_in_batch(mask, /*strict=*/false)) ==
        Values{1, 1, 2, 2});
  CHECK_THROWS_WITH(packjit::get_seqlens_in_batch(mask),
                    Catch::Contains("packjit.get_seqlens_in_batch") &&
                        Catch::Contains("attention_mask[0, 2] = 1"));
}

TEST_CASE("get_seqlens_in_batch: sums to get_unpad_data's token count",
          "[seqlens]") {
  const Rows rows = {{0, 1, 1, 4, 4, 4, 0, 9}, {2, 2, 2, 2, 0, 0, 0, 0}};
  at::Tensor mask = makeMask(rows, at::kShort);
  auto [indices, cuSeqlens, maxSeqlen] = packjit::get_unpad_data(mask);
  at::Tensor lengths = packjit::get_seqlens_in_batch(mask);
  CHECK(toVector(lengths) == Values{2, 3, 1, 4});
  CHECK(toVector(at::cumsum(lengths, 0)) ==
        toVector(cuSeqlens.slice(0, 1, cuSeqlens.size(0))));
  CHECK(indices.numel() == 10);
  CHECK(maxSeqlen == 4);
}

TEST_CASE("is_indexed_packed_mask", "[is_indexed]") {
  CHECK_FALSE(packjit::is_indexed_packed_mask(c10::nullopt));
  CHECK_FALSE(packjit::is_indexed_packed_mask(at::Tensor()));
  CHECK_FALSE(packjit::is_indexed_packed_mask(at::ones({2, 3}, at::kBool)));
  CHECK_FALSE(
      packjit::is_indexed_packed_mask(makeMask({{1, 1, 0}, {1, 0, 0}})));
  CHECK_FALSE(packjit::is_indexed_packed_mask(at::zeros({2, 3}, at::kLong)));
  CHECK_FALSE(packjit::is_indexed_packed_mask(at::zeros({0, 3}, at::kLong)));
  CHECK_FALSE(packjit::is_indexed_packed_mask(at::zeros({3, 0}, at::kInt)));
  // Not 2-D: false even when values are above 1.
  CHECK_FALSE(packjit::is_indexed_packed_mask(at::full({4}, 3, at::kLong)));
  CHECK_FALSE(
      packjit::is_indexed_packed_mask(at::full({1, 2, 2}, 3, at::kLong)));
  CHECK_FALSE(packjit::is_indexed_packed_mask(at::full({}, 3, at::kLong)));
  for (at::ScalarType dtype : maskDTypes()) {
    if (dtype == at::kBool)
      continue;
    CAPTURE(dtype);
    CHECK(packjit::is_indexed_packed_mask(
        makeMask({{1, 1, 2}, {1, 0, 0}}, dtype)));
    CHECK_FALSE(packjit::is_indexed_packed_mask(
        makeMask({{1, 1, 1}, {1, 0, 0}}, dtype)));
  }
  CHECK(packjit::is_indexed_packed_mask(makeMask({{0, 200}}, at::kByte)));
  CHECK_FALSE(packjit::is_indexed_packed_mask(makeMask({{-5, 1}}, at::kChar)));
  // A value above 1 only in a non-contiguous view's visible part counts.
  at::Tensor full = makeMask({{1, 7, 1, 7}});
  CHECK_FALSE(packjit::is_indexed_packed_mask(full.slice(1, 0, 4, 2)));
  CHECK(packjit::is_indexed_packed_mask(full.slice(1, 1, 4, 2)));
}
