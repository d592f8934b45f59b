// Errors: strict-mode violations, negative ids, bad shapes and dtypes, and
// masks too large for int32 cu_seqlens. Each is a c10::Error whose message
// names the op and the problem.
#include "test_support.h"

#include "packjit/ops.h"

#include <c10/util/Exception.h>

#include <catch2/catch.hpp>

#include <limits>

using Catch::Contains;
using packjit::test::makeMask;
using packjit::test::maskDTypes;
using packjit::test::toVector;
using Values = std::vector<int64_t>;

TEST_CASE("strict mode: a decreasing id names row, position, value and the "
          "value before it",
          "[errors][strict]") {
  for (at::ScalarType dtype :
       {at::kLong, at::kInt, at::kShort, at::kChar, at::kByte}) {
    CAPTURE(dtype);
    at::Tensor mask = makeMask({{1, 1, 2, 2}, {1, 3, 0, 2}}, dtype);
    CHECK_THROWS_AS(packjit::get_unpad_data(mask), c10::Error);
    CHECK_THROWS_WITH(
        packjit::get_unpad_data(mask),
        Contains("packjit.get_unpad_data: strict mode") &&
            Contains("attention_mask[1, 3] = 2 is smaller than the value "
                     "before it") &&
            Contains("the previous non-zero value in its row is 3 at "
                     "position 1") &&
            Contains("strict=False"));
    CHECK_THROWS_WITH(packjit::get_seqlens_in_batch(mask),
                      Contains("packjit.get_seqlens_in_batch: strict mode") &&
                          Contains("attention_mask[1, 3] = 2"));
  }
}

TEST_CASE("strict mode: the first violation in row-major order is reported",
          "[errors][strict]") {
  // Row 0 is valid; row 1 decreases at position 4 (and again later); row 2
  // decreases earlier in its row but comes later in row-major order.
  at::Tensor mask =
      makeMask({{1, 2, 3, 0, 0, 0}, {1, 1, 4, 4, 2, 1}, {5, 1, 0, 0, 0, 0}});
  CHECK_THROWS_WITH(packjit::get_unpad_data(mask),
                    Contains("attention_mask[1, 4] = 2") &&
                        Contains("is 4 at position 3"));
  // Within one row, the earlier of a decrease and a negative id wins.
  CHECK_THROWS_WITH(packjit::get_unpad_data(makeMask({{2, 1, -1}})),
                    Contains("attention_mask[0, 1] = 1 is smaller"));
  CHECK_THROWS_WITH(packjit::get_unpad_data(makeMask({{2, -1, 1}})),
                    Contains("attention_mask[0, 1] = -1 is negative"));
}

TEST_CASE("strict mode: the previous value skips padding", "[errors][strict]") {
  CHECK_THROWS_WITH(packjit::get_unpad_data(makeMask({{0, 3, 0, 0, 1}})),
                    Contains("attention_mask[0, 4] = 1") &&
                        Contains("is 3 at position 1"));
}

TEST_CASE("strict=False counts runs on decreasing masks", "[errors][strict]") {
  auto [indices, cuSeqlens, maxSeqlen] =
      packjit::get_unpad_data(makeMask({{1, 2, 1}}), /*strict=*/false);
  CHECK(toVector(indices) == Values{0, 1, 2});
  CHECK(toVector(cuSeqlens) == Values{0, 1, 2, 3});
  CHECK(maxSeqlen == 1);
  CHECK(toVector(packjit::get_seqlens_in_batch(makeMask({{1, 2, 1}}),
                                               /*strict=*/false)) ==
        Values{1, 1, 1});
  // A zero between two runs of the same id joins them, even out of order.
  auto [indices2, cuSeqlens2, maxSeqlen2] = packjit::get_unpad_data(
      makeMask({{3, 3, 1, 0, 1, 2, 2, 0}}), /*strict=*/false);
  CHECK(toVector(indices2) == Values{0, 1, 2, 4, 5, 6});
  CHECK(toVector(cuSeqlens2) == Values{0, 2, 4, 6});
  CHECK(maxSeqlen2 == 2);
}

TEST_CASE("negative ids raise in both modes", "[errors][negative]") {
  for (at::ScalarType dtype : {at::kLong, at::kInt, at::kShort, at::kChar}) {
    CAPTURE(dtype);
    at::Tensor mask = makeMask({{1, 1, 0}, {0, -3, 4}}, dtype);
    for (bool strict : {true, false}) {
      CAPTURE(strict);
      CHECK_THROWS_WITH(packjit::get_unpad_data(mask, strict),
                        Contains("packjit.get_unpad_data") &&
                            Contains("attention_mask[1, 1] = -3 is negative") &&
                            Contains("no non-zero value before it in its row"));
      CHECK_THROWS_WITH(packjit::get_seqlens_in_batch(mask, strict),
                        Contains("attention_mask[1, 1] = -3 is negative"));
    }
  }
  CHECK_THROWS_WITH(
      packjit::get_unpad_data(makeMask({{0, 2, -1}}), /*strict=*/false),
      Contains("attention_mask[0, 2] = -1 is negative") &&
          Contains(
              "the previous non-zero value in its row is 2 at position 1"));
}

TEST_CASE("masks that are not 2-D are rejected", "[errors][shape]") {
  for (auto shape : {std::vector<int64_t>{}, {6}, {2, 3, 1}, {1, 1, 1, 1}}) {
    at::Tensor mask = at::ones(shape, at::kLong);
    CAPTURE(mask.dim());
    CHECK_THROWS_WITH(packjit::get_unpad_data(mask),
                      Contains("packjit.get_unpad_data: attention_mask should "
                               "be a 2-D [B, S] tensor, got " +
                               std::to_string(mask.dim()) + "-D"));
    CHECK_THROWS_WITH(packjit::get_seqlens_in_batch(mask),
                      Contains("packjit.get_seqlens_in_batch") &&
                          Contains("2-D [B, S]"));
  }
}

TEST_CASE("floating and complex masks are rejected", "[errors][dtype]") {
  for (at::ScalarType dtype :
       {at::kFloat, at::kDouble, at::kHalf, at::kBFloat16, at::kComplexFloat,
        at::kComplexDouble}) {
    CAPTURE(dtype);
    at::Tensor mask = at::ones({2, 3}, dtype);
    const std::string dtypeName = c10::toString(dtype);
    CHECK_THROWS_WITH(packjit::get_unpad_data(mask),
                      Contains("attention_mask should be an integer or bool "
                               "tensor, got " +
                               dtypeName));
    CHECK_THROWS_WITH(packjit::get_seqlens_in_batch(mask),
                      Contains("integer or bool"));
    CHECK_THROWS_WITH(packjit::is_indexed_packed_mask(mask),
                      Contains("packjit.is_indexed_packed_mask") &&
                          Contains("integer or bool"));
  }
}

TEST_CASE("more than 2^31-1 tokens are rejected before any work",
          "[errors][size]") {
  // Expanded views: no memory behind the 2^31 elements.
  const int64_t tooMany = int64_t(std::numeric_limits<int32_t>::max()) + 1;
  at::Tensor mask = at::ones({1, 1}, at::kByte).expand({2, tooMany / 2});
  REQUIRE(mask.numel() == tooMany);
  CHECK_THROWS_WITH(packjit::get_unpad_data(mask),
                    Contains("2147483648 tokens") &&
                        Contains("more than cu_seqlens (int32) can count"));
  CHECK_THROWS_WITH(packjit::get_seqlens_in_batch(mask),
                    Contains("2147483648 tokens"));
  at::Tensor wide = at::ones({1, 1}, at::kBool).expand({65536, 65536});
  CHECK_THROWS_WITH(packjit::get_unpad_data(wide, /*strict=*/false),
                    Contains("4294967296 tokens"));
  at::Tensor positions = at::zeros({1}, at::kLong).expand({tooMany});
  CHECK_THROWS_WITH(packjit::cu_seqlens_from_position_ids(positions),
                    Contains("packjit.cu_seqlens_from_position_ids") &&
                        Contains("2147483648 tokens"));
}

TEST_CASE("cu_seqlens_from_position_ids rejects bad shapes and dtypes",
          "[errors][position_ids]") {
  CHECK_THROWS_WITH(
      packjit::cu_seqlens_from_position_ids(at::zeros({1, 2, 3}, at::kLong)),
      Contains("position_ids should be [N], [1, N] or [B, S]"));
  CHECK_THROWS_WITH(
      packjit::cu_seqlens_from_position_ids(at::zeros({}, at::kLong)),
      Contains("position_ids should be [N], [1, N] or [B, S]"));
  for (at::ScalarType dtype :
       {at::kBool, at::kFloat, at::kDouble, at::kComplexFloat}) {
    CAPTURE(dtype);
    CHECK_THROWS_WITH(
        packjit::cu_seqlens_from_position_ids(at::zeros({4}, dtype)),
        Contains("position_ids should be an integer tensor"));
  }
}

TEST_CASE("bool and uint8 masks never raise strict errors",
          "[errors][strict]") {
  at::Tensor boolMask = makeMask({{1, 0, 1, 1}, {0, 1, 0, 1}}, at::kBool);
  CHECK_NOTHROW(packjit::get_unpad_data(boolMask));
  at::Tensor byteMask = makeMask({{0, 255, 255}}, at::kByte);
  CHECK_NOTHROW(packjit::get_unpad_data(byteMask));
  CHECK_THROWS_WITH(packjit::get_unpad_data(makeMask({{255, 254}}, at::kByte)),
                    Contains("attention_mask[0, 1] = 254"));
}
