// context_parallel_partition(_padded) on CUDA against the CPU op: random
// boundaries (int32 and int64, cp_size 1-16, every rank, up to 1M tokens),
// the padded form, the errors raised after the one sync, bad documents in
// the sync-free form's summary, and the current stream.
// Exits 77 (CTest: skipped) without a CUDA device.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "packjit/ops.h"

#include <ATen/ATen.h>
#include <torch/cuda.h>

#include <iostream>
#include <random>
#include <vector>

using Catch::Contains;
using Values = std::vector<int64_t>;

namespace {

at::Tensor boundaries(const Values &values, at::ScalarType dtype = at::kInt) {
  return at::tensor(values, at::kLong).to(dtype);
}

Values randomBoundaries(std::mt19937_64 &rng, int64_t cp, int64_t documents,
                        int64_t maxChunks) {
  Values cu{0};
  for (int64_t d = 0; d < documents; ++d)
    cu.push_back(cu.back() +
                 static_cast<int64_t>(rng() % (maxChunks + 1)) * 2 * cp);
  return cu;
}

void checkSameAsCpu(const at::Tensor &cu, int64_t cp, int64_t rank) {
  auto [cpu, cpuLocal, cpuMax] =
      packjit::context_parallel_partition(cu, cp, rank);
  auto [gpu, gpuLocal, gpuMax] =
      packjit::context_parallel_partition(cu.cuda(), cp, rank);
  CATCH_CHECK(gpu.is_cuda());
  CATCH_CHECK(at::equal(gpu.cpu(), cpu));
  CATCH_CHECK(at::equal(gpuLocal.cpu(), cpuLocal));
  CATCH_CHECK(gpuMax == cpuMax);
  const int64_t total = cu[-1].item<int64_t>();
  auto [padded, local, summary] = packjit::context_parallel_partition_padded(
      cu.cuda(), cp, rank, total + 4 * cp);
  CATCH_CHECK(at::equal(padded.narrow(0, 0, cpu.numel()).cpu(), cpu));
  CATCH_CHECK((padded.narrow(0, cpu.numel(), 4) == -1).all().item<bool>());
  CATCH_CHECK(at::equal(local.cpu(), cpuLocal));
  CATCH_CHECK(summary.cpu().equal(at::tensor({total, cpuMax, int64_t{-1}})));
}

} // namespace

CATCH_TEST_CASE("CUDA partition equals the CPU on random boundaries",
                "[gpu][context_parallel]") {
  std::mt19937_64 rng(1930);
  for (int trial = 0; trial < 400; ++trial) {
    const int64_t cp = 1 + trial % 16;
    const Values cu = randomBoundaries(rng, cp, rng() % 40, 8);
    for (int64_t rank = 0; rank < cp; ++rank) {
      CATCH_CAPTURE(trial, cp, rank);
      checkSameAsCpu(boundaries(cu, trial % 2 ? at::kLong : at::kInt), cp,
                     rank);
    }
  }
  // Large: 1M tokens in a few thousand documents, grid-stride loops.
  for (int64_t cp : {1, 2, 8}) {
    const Values cu = randomBoundaries(rng, cp, 4000, 512 / cp);
    for (int64_t rank : {int64_t{0}, cp - 1})
      checkSameAsCpu(boundaries(cu), cp, rank);
  }
}

CATCH_TEST_CASE("CUDA partition errors match the CPU's",
                "[gpu][context_parallel][errors]") {
  auto gpu = [](const Values &values) { return boundaries(values).cuda(); };
  CATCH_CHECK_THROWS_WITH(
      packjit::context_parallel_partition(gpu({0, 8, 14, 22}), 2, 0),
      Contains("document 1 has padded length 6") &&
          Contains("TransformerEngine #1930"));
  CATCH_CHECK_THROWS_WITH(
      packjit::context_parallel_partition(gpu({0, 8, 4}), 2, 1),
      Contains("should be non-decreasing"));
  CATCH_CHECK_THROWS_WITH(
      packjit::context_parallel_partition(gpu({4, 8}), 2, 0),
      Contains("cu_seqlens_padded[0] should be 0, got 4"));
  CATCH_CHECK_THROWS_WITH(
      packjit::context_parallel_partition(gpu({0, 4}), 2, 2),
      Contains("cp_rank should be in [0, cp_size)"));
  // The sync-free form reports the first bad document instead.
  auto [indices, local, summary] = packjit::context_parallel_partition_padded(
      gpu({0, 8, 14, 22, 23}), 2, 0, 24);
  CATCH_CHECK(
      summary.cpu().equal(at::tensor({int64_t{23}, int64_t{4}, int64_t{1}})));
  auto [i2, l2, firstBad] =
      packjit::context_parallel_partition_padded(gpu({3, 8}), 1, 0, 8);
  CATCH_CHECK(firstBad[2].item<int64_t>() == 0);
}

int main(int argc, char **argv) {
  if (!torch::cuda::is_available()) {
    std::cerr << "packjit_gpu_context_parallel_tests: no CUDA device; "
                 "skipped\n";
    return 77;
  }
  return Catch::Session().run(argc, argv);
}
