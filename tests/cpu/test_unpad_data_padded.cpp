// get_unpad_data_padded on the CPU: the fixed shapes of the sync-free
// variant (indices -1 after nnz, cu_seqlens nnz after D, the summary), the
// max_documents bound, and agreement with get_unpad_data on random masks.
#include "test_support.h"

#include "packjit/ops.h"
#include "packjit/synthetic.h"

#include <catch2/catch.hpp>

using Catch::Contains;
using packjit::test::makeMask;
using packjit::test::maskDTypes;
using packjit::test::toVector;
using Values = std::vector<int64_t>;

TEST_CASE("padded variant: the design example", "[ops][padded]") {
  for (at::ScalarType dtype : maskDTypes()) {
    if (dtype == at::kBool)
      continue;
    CAPTURE(dtype);
    at::Tensor mask = makeMask({{1, 1, 2, 2, 2, 0}, {1, 2, 2, 3, 3, 3}}, dtype);
    auto [indices, cu, summary] = packjit::get_unpad_data_padded(mask);
    CHECK(toVector(indices) == Values{0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11, -1});
    CHECK(toVector(cu) ==
          Values{0, 2, 5, 6, 8, 11, 11, 11, 11, 11, 11, 11, 11});
    CHECK(toVector(summary) == Values{11, 5, 3, -1});
    CHECK(indices.scalar_type() == at::kLong);
    CHECK(cu.scalar_type() == at::kInt);
    CHECK(summary.scalar_type() == at::kLong);
  }
}

TEST_CASE("padded variant: max_documents bounds cu_seqlens", "[ops][padded]") {
  at::Tensor mask = makeMask({{1, 1, 2, 2, 2, 0}, {1, 2, 2, 3, 3, 3}});
  // Room for more documents than there are: nnz repeated.
  CHECK(toVector(std::get<1>(packjit::get_unpad_data_padded(mask, true, 7))) ==
        Values{0, 2, 5, 6, 8, 11, 11, 11});
  // Exactly D.
  CHECK(toVector(std::get<1>(packjit::get_unpad_data_padded(mask, true, 5))) ==
        Values{0, 2, 5, 6, 8, 11});
  // Fewer than D: the first max_documents + 1 boundaries; summary says D.
  auto [indices, cu, summary] = packjit::get_unpad_data_padded(mask, true, 3);
  CHECK(toVector(cu) == Values{0, 2, 5, 6});
  CHECK(toVector(summary) == Values{11, 5, 3, -1});
  CHECK(toVector(std::get<1>(packjit::get_unpad_data_padded(mask, true, 0))) ==
        Values{0});
  CHECK_THROWS_WITH(
      packjit::get_unpad_data_padded(mask, true, -2),
      Contains("max_documents should be -1 (B*S) or >= 0, got -2"));
}

TEST_CASE("padded variant: empty and all-padding masks", "[ops][padded]") {
  auto [indices, cu, summary] =
      packjit::get_unpad_data_padded(at::zeros({0, 4}, at::kLong));
  CHECK(indices.numel() == 0);
  CHECK(toVector(cu) == Values{0});
  CHECK(toVector(summary) == Values{0, 0, 0, -1});
  std::tie(indices, cu, summary) =
      packjit::get_unpad_data_padded(at::zeros({2, 2}, at::kInt));
  CHECK(toVector(indices) == Values{-1, -1, -1, -1});
  CHECK(toVector(cu) == Values{0, 0, 0, 0, 0});
  CHECK(toVector(summary) == Values{0, 0, 0, -1});
}

TEST_CASE("padded variant: strict violations raise on the CPU",
          "[ops][padded][errors]") {
  at::Tensor mask = makeMask({{1, 2, 1}});
  CHECK_THROWS_WITH(
      packjit::get_unpad_data_padded(mask),
      Contains("packjit.get_unpad_data_padded: strict mode: "
               "attention_mask[0, 2] = 1 is smaller than the value before it"));
  CHECK(toVector(std::get<2>(packjit::get_unpad_data_padded(mask, false))) ==
        Values{3, 3, 1, -1});
}

TEST_CASE("padded variant agrees with get_unpad_data",
          "[ops][padded][random]") {
  for (uint64_t seed = 0; seed < 20; ++seed) {
    packjit::PackedMaskOptions options;
    options.batch = 1 + seed % 5;
    options.seqLen = 1 + 97 * seed;
    options.docsPerRow = 1 + seed % 7;
    options.paddingFraction = 0.05 * (seed % 6);
    options.dtype = maskDTypes()[seed % maskDTypes().size()];
    options.seed = seed;
    at::Tensor mask = packjit::makePackedMask(options);
    CAPTURE(seed, options.batch, options.seqLen, options.dtype);
    auto [indices, cu, longest] = packjit::get_unpad_data(mask);
    auto [padIndices, padCu, summary] = packjit::get_unpad_data_padded(mask);
    const int64_t nnz = indices.numel(), docs = cu.numel() - 1,
                  n = mask.numel();
    REQUIRE(padIndices.numel() == n);
    REQUIRE(padCu.numel() == n + 1);
    CHECK(at::equal(padIndices.narrow(0, 0, nnz), indices));
    CHECK(padIndices.narrow(0, nnz, n - nnz).eq(-1).all().item<bool>());
    CHECK(at::equal(padCu.narrow(0, 0, docs + 1), cu));
    CHECK(padCu.narrow(0, docs + 1, n - docs).eq(nnz).all().item<bool>());
    CHECK(toVector(summary) == Values{nnz, docs, longest, -1});
  }
}
