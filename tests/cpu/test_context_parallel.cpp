// context_parallel_partition(_padded) on the CPU through the C++ API:
// fixed cases worked out by hand from TransformerEngine's rule, every rank's
// share of random boundaries against a chunk-by-chunk reference (disjoint,
// covering the padded buffer), int64 boundaries, and the errors.
#include "packjit/ops.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <numeric>
#include <random>
#include <vector>

using Catch::Contains;
using Values = std::vector<int64_t>;

namespace {

at::Tensor boundaries(const Values &values, at::ScalarType dtype = at::kInt) {
  return at::tensor(values, at::kLong).to(dtype);
}

Values toValues(const at::Tensor &t) {
  at::Tensor l = t.to(at::kLong).contiguous();
  return Values(l.data_ptr<int64_t>(), l.data_ptr<int64_t>() + l.numel());
}

// Rank r's share, chunk by chunk: chunk r then chunk 2*cp-1-r of each
// document.
Values expectedShare(const Values &cu, int64_t cp, int64_t rank) {
  Values out;
  for (size_t d = 0; d + 1 < cu.size(); ++d) {
    const int64_t chunk = (cu[d + 1] - cu[d]) / (2 * cp);
    for (int64_t which : {rank, 2 * cp - 1 - rank})
      for (int64_t j = 0; j < chunk; ++j)
        out.push_back(cu[d] + which * chunk + j);
  }
  return out;
}

} // namespace

TEST_CASE("context_parallel_partition: hand-worked cases",
          "[context_parallel]") {
  // Documents of padded lengths 8 and 16, cp = 2: chunks of 2 and 4.
  const at::Tensor cu = boundaries({0, 8, 24});
  auto [r0, local0, max0] = packjit::context_parallel_partition(cu, 2, 0);
  CHECK(toValues(r0) == Values{0, 1, 6, 7, 8, 9, 10, 11, 20, 21, 22, 23});
  CHECK(toValues(local0) == Values{0, 4, 12});
  CHECK(local0.scalar_type() == at::kInt);
  CHECK(max0 == 8);
  auto [r1, local1, max1] = packjit::context_parallel_partition(cu, 2, 1);
  CHECK(toValues(r1) == Values{2, 3, 4, 5, 12, 13, 14, 15, 16, 17, 18, 19});
  // cp = 1 keeps everything in order.
  CHECK(toValues(std::get<0>(packjit::context_parallel_partition(cu, 1, 0))) ==
        toValues(at::arange(24)));
  // No documents, and empty documents.
  auto [none, noneLocal, noneMax] =
      packjit::context_parallel_partition(boundaries({0}), 4, 3);
  CHECK(none.numel() == 0);
  CHECK(toValues(noneLocal) == Values{0});
  CHECK(noneMax == 0);
  CHECK(toValues(std::get<0>(packjit::context_parallel_partition(
            boundaries({0, 0, 4, 4}), 2, 1))) == Values{1, 2});
}

TEST_CASE("context_parallel_partition: random boundaries, every rank",
          "[context_parallel]") {
  std::mt19937_64 rng(15);
  for (int trial = 0; trial < 300; ++trial) {
    const int64_t cp = 1 + trial % 16;
    Values cu{0};
    const int64_t documents = rng() % 9;
    for (int64_t d = 0; d < documents; ++d)
      cu.push_back(cu.back() + static_cast<int64_t>(rng() % 6) * 2 * cp);
    const at::ScalarType dtype = trial % 2 ? at::kLong : at::kInt;
    Values all;
    for (int64_t rank = 0; rank < cp; ++rank) {
      CAPTURE(cu, cp, rank);
      auto [indices, local, longest] =
          packjit::context_parallel_partition(boundaries(cu, dtype), cp, rank);
      const Values share = toValues(indices);
      CHECK(share == expectedShare(cu, cp, rank));
      all.insert(all.end(), share.begin(), share.end());
      // The padded form: the same share, then -1 up to total_tokens / cp.
      auto [padded, local2, summary] =
          packjit::context_parallel_partition_padded(boundaries(cu, dtype), cp,
                                                     rank, cu.back() + 2 * cp);
      Values expected = share;
      expected.insert(expected.end(), 2, -1);
      CHECK(toValues(padded) == expected);
      CHECK(toValues(summary) == Values{cu.back(), longest, -1});
    }
    std::sort(all.begin(), all.end());
    Values every(cu.back());
    std::iota(every.begin(), every.end(), 0);
    CHECK(all == every);
  }
}

TEST_CASE("context_parallel_partition: errors name the op and the problem",
          "[context_parallel][errors]") {
  using packjit::context_parallel_partition;
  CHECK_THROWS_WITH(
      context_parallel_partition(boundaries({0, 4, 10}), 2, 0),
      Contains("packjit.context_parallel_partition: document 1 has padded "
               "length 6 (cu_seqlens_padded[1] = 4, [2] = 10), not a multiple "
               "of 2*cp_size = 4") &&
          Contains("TransformerEngine #1930"));
  CHECK_THROWS_WITH(context_parallel_partition(boundaries({0, 8, 4}), 2, 0),
                    Contains("should be non-decreasing, but "
                             "cu_seqlens_padded[2] = 4 < cu_seqlens_padded[1] "
                             "= 8"));
  CHECK_THROWS_WITH(context_parallel_partition(boundaries({2, 6}), 1, 0),
                    Contains("cu_seqlens_padded[0] should be 0, got 2"));
  CHECK_THROWS_WITH(context_parallel_partition(boundaries({0, 4}), 0, 0),
                    Contains("cp_size should be >= 1, got 0"));
  CHECK_THROWS_WITH(context_parallel_partition(boundaries({0, 4}), 2, -1),
                    Contains("cp_rank should be in [0, cp_size) = [0, 2), got "
                             "-1"));
  CHECK_THROWS_WITH(
      context_parallel_partition(boundaries({0, 4}, at::kFloat), 2, 0),
      Contains("should be int32 or int64"));
  CHECK_THROWS_WITH(context_parallel_partition(at::zeros({0}, at::kInt), 2, 0),
                    Contains("at least one boundary"));
  CHECK_THROWS_WITH(context_parallel_partition(
                        boundaries({0, int64_t{1} << 33}, at::kLong), 2, 0),
                    Contains("exceeds int32"));
  CHECK_THROWS_WITH(
      packjit::context_parallel_partition_padded(boundaries({0, 4}), 2, 0, 3),
      Contains("total_tokens should be >= 0 and a multiple of "
               "cp_size = 2, got 3"));
}
