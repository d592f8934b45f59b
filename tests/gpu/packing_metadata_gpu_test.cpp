// packing_metadata and packing_metadata_padded on CUDA against the CPU op:
// random masks of every dtype and random position ids ([N], [B, S],
// [4, B, S]), both inputs, pad_to 1..16, every field element for element;
// the strict errors name the same place; the padded form in a CUDA graph.
// Exits 77 (CTest: skipped) without a CUDA device.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "packjit/ops.h"

#include <ATen/ATen.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/cuda.h>

#include <functional>
#include <iostream>
#include <string>

using Catch::Contains;

namespace {

const std::vector<at::ScalarType> kMaskDTypes = {
    at::kLong, at::kInt, at::kShort, at::kChar, at::kByte, at::kBool};

// Rows that number their documents from 1 (+1 or +2 at random starts), with
// random padding; ids <= 100 so that every dtype holds them.
at::Tensor randomMask(int64_t batch, int64_t seqLen, at::ScalarType dtype) {
  const at::Tensor starts = at::rand({batch, seqLen}).lt(0.08);
  starts.select(1, 0).fill_(false);
  const at::Tensor ids =
      (at::randint(1, 3, {batch, seqLen}, at::kLong) * starts).cumsum(1) + 1;
  const at::Tensor mask =
      ids.clamp_max(100) * at::rand({batch, seqLen}).ge(0.15);
  return dtype == at::kBool ? mask.ne(0) : mask.to(dtype);
}

// Per row, documents of random lengths whose positions count from 0.
at::Tensor randomPositions(int64_t batch, int64_t seqLen) {
  const at::Tensor starts = at::rand({batch, seqLen}).lt(0.1);
  starts.select(1, 0).fill_(true);
  const at::Tensor column =
      at::arange(seqLen, at::kLong).expand({batch, seqLen});
  const at::Tensor lastStart = std::get<0>(
      at::cummax(at::where(starts, column, at::zeros_like(column)), 1));
  return column - lastStart;
}

void checkSame(const packjit::PackingMetadata &got,
               const packjit::PackingMetadata &want) {
  CHECK(got.indices.is_cuda());
  CHECK(got.max_seqlen == want.max_seqlen);
  for (auto [g, w] :
       {std::pair{got.indices, want.indices},
        std::pair{got.cu_seqlens, want.cu_seqlens},
        std::pair{got.seqlens, want.seqlens},
        std::pair{got.seq_idx, want.seq_idx},
        std::pair{got.position_ids, want.position_ids},
        std::pair{got.cu_seqlens_padded, want.cu_seqlens_padded}}) {
    CHECK(g.scalar_type() == w.scalar_type());
    CHECK(at::equal(g.cpu(), w));
    // Each field its own allocation.
    CHECK(g.storage().nbytes() ==
          static_cast<size_t>(g.numel()) * g.element_size());
  }
}

void checkPaddedSame(const packjit::PackingMetadataPadded &got,
                     const packjit::PackingMetadataPadded &want) {
  for (auto [g, w] : {std::pair{got.indices, want.indices},
                      std::pair{got.cu_seqlens, want.cu_seqlens},
                      std::pair{got.seqlens, want.seqlens},
                      std::pair{got.seq_idx, want.seq_idx},
                      std::pair{got.position_ids, want.position_ids},
                      std::pair{got.cu_seqlens_padded, want.cu_seqlens_padded},
                      std::pair{got.summary, want.summary}}) {
    CHECK(g.is_cuda());
    CHECK(at::equal(g.cpu(), w));
  }
}

std::string errorOf(const std::function<void()> &call) {
  try {
    call();
  } catch (const c10::Error &e) {
    return e.what_without_backtrace();
  }
  return "";
}

} // namespace

TEST_CASE("CUDA packing_metadata matches the CPU", "[packing_metadata][gpu]") {
  at::manual_seed(14);
  int compared = 0;
  for (at::ScalarType dtype : kMaskDTypes)
    for (auto [batch, seqLen] : {std::pair<int64_t, int64_t>{1, 1},
                                 {3, 37},
                                 {4, 1000},
                                 {2, 4097},
                                 {16, 512}}) {
      CAPTURE(dtype, batch, seqLen);
      const at::Tensor mask = randomMask(batch, seqLen, dtype);
      const int64_t padTo = 1 + compared % 16;
      for (bool strict : {true, false}) {
        // Per-row numbering from 1 never crosses a row end: strict passes.
        checkSame(
            packjit::packing_metadata(mask.cuda(), c10::nullopt, padTo, strict),
            packjit::packing_metadata(mask, c10::nullopt, padTo, strict));
        for (int64_t maxDocuments : {int64_t{-1}, int64_t{3}, int64_t{4096}})
          checkPaddedSame(
              packjit::packing_metadata_padded(mask.cuda(), c10::nullopt,
                                               maxDocuments, padTo, strict),
              packjit::packing_metadata_padded(mask, c10::nullopt, maxDocuments,
                                               padTo, strict));
      }
      const at::Tensor positions = randomPositions(batch, seqLen);
      for (const at::Tensor &ids :
           {positions, positions.reshape({-1}), positions.to(at::kInt),
            at::stack({positions, positions, positions, positions})}) {
        checkSame(packjit::packing_metadata(c10::nullopt, ids.cuda(), padTo),
                  packjit::packing_metadata(c10::nullopt, ids, padTo));
        checkPaddedSame(
            packjit::packing_metadata_padded(c10::nullopt, ids.cuda(), 8,
                                             padTo),
            packjit::packing_metadata_padded(c10::nullopt, ids, 8, padTo));
      }
      // Both inputs, consistent: positions restart at each mask document.
      if (dtype == at::kLong) {
        const packjit::PackingMetadata cpu = packjit::packing_metadata(mask);
        at::Tensor both = at::full({batch * seqLen}, 7, at::kLong);
        both.scatter_(0, cpu.indices, cpu.position_ids);
        both = both.reshape({batch, seqLen});
        checkSame(packjit::packing_metadata(mask.cuda(), both.cuda()),
                  packjit::packing_metadata(mask, both));
      }
      ++compared;
    }
  CHECK(compared == 30);
}

TEST_CASE("CUDA packing_metadata raises the CPU's errors",
          "[packing_metadata][gpu]") {
  const auto same = [](const c10::optional<at::Tensor> &mask,
                       const c10::optional<at::Tensor> &positions,
                       const char *expected) {
    const std::string cpu =
        errorOf([&] { packjit::packing_metadata(mask, positions); });
    const auto toCuda = [](const c10::optional<at::Tensor> &t) {
      return t ? c10::optional<at::Tensor>(t->cuda()) : c10::nullopt;
    };
    const std::string gpu = errorOf(
        [&] { packjit::packing_metadata(toCuda(mask), toCuda(positions)); });
    CHECK_THAT(cpu, Contains(expected));
    CHECK(gpu == cpu);
    // The padded form reports it in summary[4].
    const packjit::PackingMetadataPadded p =
        packjit::packing_metadata_padded(toCuda(mask), toCuda(positions));
    CHECK(p.summary[4].item<int64_t>() == 1);
  };
  const at::Tensor crossing =
      at::tensor({1, 1, 2, 2, 2, 3, 3, 0}).reshape({2, 4});
  same(crossing, c10::nullopt, "crosses the end of a row");
  same(at::tensor({1, 2, 1}).reshape({1, 3}), c10::nullopt, "non-decreasing");
  same(c10::nullopt, at::tensor({0, 1, 2, 3, 4, 5}).reshape({2, 3}),
       "continues position_ids[0, 2]");
  same(c10::nullopt, at::tensor({0, 1, 3}), "increase by exactly 1");
  const at::Tensor mask = at::tensor({1, 1, 2, 2}).reshape({1, 4});
  same(mask, at::tensor({0, 1, 2, 3}).reshape({1, 4}), "starts document 2");
  same(mask, at::tensor({0, 0, 0, 1}).reshape({1, 4}),
       "inside mask document 1");
}

TEST_CASE("packing_metadata_padded replays in a CUDA graph",
          "[packing_metadata][gpu]") {
  const at::Tensor mask = randomMask(4, 300, at::kInt).cuda();
  c10::cuda::CUDAStream side = c10::cuda::getStreamFromPool();
  c10::cuda::CUDAStreamGuard guard(side);
  packjit::packing_metadata_padded(mask, c10::nullopt, 64, 4); // warm-up
  at::cuda::CUDAGraph graph;
  graph.capture_begin();
  const packjit::PackingMetadataPadded captured =
      packjit::packing_metadata_padded(mask, c10::nullopt, 64, 4);
  graph.capture_end();
  for (int replay = 0; replay < 3; ++replay) {
    const at::Tensor next = randomMask(4, 300, at::kInt);
    mask.copy_(next);
    graph.replay();
    side.synchronize();
    checkPaddedSame(
        captured, packjit::packing_metadata_padded(next, c10::nullopt, 64, 4));
  }
}

int main(int argc, char **argv) {
  if (!torch::cuda::is_available()) {
    std::cerr
        << "packjit_gpu_packing_metadata_tests: no CUDA device; skipped\n";
    return 77;
  }
  return Catch::Session().run(argc, argv);
}
