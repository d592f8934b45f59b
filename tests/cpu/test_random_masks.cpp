// Random masks with fixed seeds: strict-valid masks of every dtype against
// the reference algorithm (packjit::reference), and masks with ids in any
// order (strict=False) against a naive per-row implementation.
#include "test_support.h"

#include "packjit/ops.h"
#include "packjit/reference.h"
#include "packjit/synthetic.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <random>

using packjit::test::makeMask;
using packjit::test::maskDTypes;
using packjit::test::naiveUnpadData;
using packjit::test::Rows;
using packjit::test::toRows;
using packjit::test::toVector;

namespace {

enum class Padding { None, Right, Left, Middle, Scattered, AllZero };

int64_t uniform(std::mt19937_64 &rng, int64_t low, int64_t high) {
  return std::uniform_int_distribution<int64_t>(low, high)(rng);
}

// A row of non-decreasing ids (with gaps) laid out around padding.
std::vector<int64_t> strictRow(std::mt19937_64 &rng, int64_t seqLen,
                               Padding padding, int64_t maxId) {
  std::vector<int64_t> row(seqLen, 0);
  if (padding == Padding::AllZero || seqLen == 0)
    return row;
  const double fraction = padding == Padding::None
                              ? 0.0
                              : std::uniform_real_distribution<>(0, 0.9)(rng);
  const int64_t pad = static_cast<int64_t>(fraction * double(seqLen));
  int64_t begin = 0, end = seqLen;
  if (padding == Padding::Right)
    end = seqLen - pad;
  else if (padding == Padding::Left)
    begin = pad;
  else if (padding == Padding::Middle)
    begin = uniform(rng, 0, pad), end = begin + (seqLen - pad);
  const int64_t meanLength =
      std::max<int64_t>(1, uniform(rng, 1, seqLen / 2 + 1));
  int64_t id = uniform(rng, 1, 3);
  for (int64_t s = begin; s < end;) {
    const int64_t length = uniform(rng, 1, 2 * meanLength);
    for (int64_t t = s; t < std::min(end, s + length); ++t)
      row[t] = std::min(id, maxId);
    s += length;
    id += uniform(rng, 1, 3); // gaps between ids
  }
  if (padding == Padding::Scattered)
    for (int64_t s = 0; s < seqLen; ++s)
      if (uniform(rng, 0, 9) < 3)
        row[s] = 0;
  return row;
}

int64_t maxIdFor(at::ScalarType dtype) {
  switch (dtype) {
  case at::kChar:
    return 127;
  case at::kByte:
    return 255;
  case at::kBool:
    return 1;
  default:
    return 1 << 20;
  }
}

void checkAgainstReference(const at::Tensor &mask) {
  auto [indices, cuSeqlens, maxSeqlen] = packjit::get_unpad_data(mask);
  at::Tensor lengths = packjit::get_seqlens_in_batch(mask);
  if (mask.ne(0).any().item<bool>()) {
    auto [refIndices, refCu, refMax] = packjit::reference::get_unpad_data(mask);
    CHECK(toVector(indices) == toVector(refIndices));
    CHECK(toVector(cuSeqlens) == toVector(refCu));
    CHECK(maxSeqlen == refMax);
    CHECK(toVector(lengths) ==
          toVector(packjit::reference::get_seqlens_in_batch(mask)));
  } else {
    // The reference raises on an all-zero batch; packjit returns nothing.
    CHECK(indices.numel() == 0);
    CHECK(toVector(cuSeqlens) == std::vector<int64_t>{0});
    CHECK(maxSeqlen == 0);
    CHECK(lengths.numel() == 0);
  }
  CHECK(indices.scalar_type() == at::kLong);
  CHECK(cuSeqlens.scalar_type() == at::kInt);
}

void checkAgainstNaive(const at::Tensor &mask) {
  const auto expected = naiveUnpadData(toRows(mask));
  auto [indices, cuSeqlens, maxSeqlen] =
      packjit::get_unpad_data(mask, /*strict=*/false);
  CHECK(toVector(indices) == expected.indices);
  CHECK(toVector(cuSeqlens) == expected.cuSeqlens);
  CHECK(maxSeqlen == expected.maxSeqlen);
  CHECK(toVector(packjit::get_seqlens_in_batch(mask, /*strict=*/false)) ==
        expected.lengths);
}

} // namespace

TEST_CASE("random strict-valid masks match the reference for every dtype",
          "[random][reference]") {
  const Padding paddings[] = {Padding::None,      Padding::Right,
                              Padding::Left,      Padding::Middle,
                              Padding::Scattered, Padding::AllZero};
  for (at::ScalarType dtype : maskDTypes()) {
    for (uint64_t seed = 0; seed < 60; ++seed) {
      std::mt19937_64 rng(seed * 1000 + static_cast<uint64_t>(dtype));
      const int64_t batch = uniform(rng, 1, 6);
      const int64_t seqLen = uniform(rng, 1, 70);
      Rows rows;
      for (int64_t b = 0; b < batch; ++b) {
        // Mostly one layout per mask, sometimes mixed per row.
        Padding padding = paddings[seed % 5];
        if (uniform(rng, 0, 3) == 0)
          padding = paddings[uniform(rng, 0, 5)];
        rows.push_back(strictRow(rng, seqLen, padding, maxIdFor(dtype)));
      }
      at::Tensor mask = makeMask(rows, dtype);
      CAPTURE(dtype, seed, batch, seqLen);
      checkAgainstReference(mask);
      // The same values through a transposed layout.
      checkAgainstReference(mask.t().contiguous().t());
    }
  }
}

TEST_CASE("synthetic packed masks match the reference", "[random][reference]") {
  for (at::ScalarType dtype : maskDTypes()) {
    for (uint64_t seed = 0; seed < 8; ++seed) {
      packjit::PackedMaskOptions options;
      options.batch = 1 + static_cast<int64_t>(seed % 4);
      options.seqLen = 128 + 61 * static_cast<int64_t>(seed);
      options.docsPerRow = 1 + static_cast<int64_t>(seed) * 3;
      options.paddingFraction = 0.1 * double(seed % 5);
      options.dtype = dtype;
      options.seed = seed;
      CAPTURE(dtype, seed);
      at::Tensor mask = packjit::makePackedMask(options);
      REQUIRE(mask.min().item<int64_t>() >= 0); // no int8 wrap-around
      checkAgainstReference(mask);
    }
  }
}

TEST_CASE("random masks with ids in any order match a naive implementation "
          "under strict=False",
          "[random][naive]") {
  for (at::ScalarType dtype : maskDTypes()) {
    for (uint64_t seed = 0; seed < 50; ++seed) {
      std::mt19937_64 rng(seed * 7919 + static_cast<uint64_t>(dtype));
      const int64_t batch = uniform(rng, 1, 5);
      const int64_t seqLen = uniform(rng, 1, 60);
      const int64_t maxId =
          std::min<int64_t>(maxIdFor(dtype), uniform(rng, 1, 6));
      const int64_t zeroPercent = uniform(rng, 0, 80);
      Rows rows(batch, std::vector<int64_t>(seqLen));
      for (auto &row : rows) {
        int64_t value = uniform(rng, 1, maxId);
        for (int64_t &slot : row) {
          if (uniform(rng, 0, 3) == 0) // runs of equal ids, in any order
            value = uniform(rng, 1, maxId);
          slot = uniform(rng, 0, 99) < zeroPercent ? 0 : value;
        }
      }
      at::Tensor mask = makeMask(rows, dtype);
      CAPTURE(dtype, seed, batch, seqLen);
      checkAgainstNaive(mask);
      checkAgainstNaive(mask.t().contiguous().t());
    }
  }
}

TEST_CASE("random masks: strict mode accepts exactly the non-decreasing ones",
          "[random][strict]") {
  std::mt19937_64 rng(2024);
  int accepted = 0, rejected = 0;
  for (int trial = 0; trial < 200; ++trial) {
    const int64_t batch = uniform(rng, 1, 4), seqLen = uniform(rng, 1, 12);
    Rows rows(batch, std::vector<int64_t>(seqLen));
    for (auto &row : rows)
      for (int64_t &slot : row)
        slot = uniform(rng, 0, 3);
    bool valid = true;
    for (const auto &row : rows) {
      int64_t previous = 0;
      for (int64_t value : row) {
        if (value == 0)
          continue;
        valid = valid && value >= previous;
        previous = value;
      }
    }
    at::Tensor mask = makeMask(rows, at::kInt);
    CAPTURE(trial);
    if (valid) {
      ++accepted;
      CHECK_NOTHROW(packjit::get_unpad_data(mask));
    } else {
      ++rejected;
      CHECK_THROWS_WITH(packjit::get_unpad_data(mask),
                        Catch::Contains("strict mode"));
    }
  }
  CHECK(accepted > 10);
  CHECK(rejected > 10);
}
