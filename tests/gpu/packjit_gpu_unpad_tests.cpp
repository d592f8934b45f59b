// get_unpad_data, get_seqlens_in_batch, get_unpad_data_padded and
// cu_seqlens_from_position_ids on CUDA against the CPU ops: thousands of
// random masks (every dtype; B 1..64; S 1..131072, odd and powers of two;
// 0-50 % padding on the left, right or in the middle; 1..4096 documents per
// row; strided and misaligned views), strict-mode violations at random places
// (the same error text as the CPU), several streams and threads at once, and
// the padded variant captured in CUDA graphs the PyTorch way (warm-up on a
// side stream at most, capture on another stream, over stale allocator
// memory; two graphs replayed alternately and concurrently), replayed on new
// masks; the ops that wait on the host refuse a capture.
//
// PACKJIT_GPU_TESTS=quick runs a small representative set (for
// compute-sanitizer). Exits 77 (CTest: skipped) without a CUDA device.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "packjit/ops.h"
#include "packjit/runtime/background_compiles.h"

#include <ATen/ATen.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/cuda.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iostream>
#include <random>
#include <thread>
#include <tuple>

namespace {

bool quick() {
  const char *mode = std::getenv("PACKJIT_GPU_TESTS");
  return mode && std::strcmp(mode, "quick") == 0;
}

const at::ScalarType kMaskDTypes[] = {at::kLong, at::kInt,  at::kShort,
                                      at::kChar, at::kByte, at::kBool};

enum class Padding { Right, Left, Middle };

struct MaskShape {
  int64_t batch, seqLen, docsPerRow;
  double padding;
  Padding where;
};

// A packed row set: ids non-decreasing in each row (documents 1, 2, ... of
// random lengths, equal neighbours across a middle gap sometimes), padding
// placed as asked. Narrow dtypes keep ids in range (they wrap to 1..100,
// which only matters without strict mode).
at::Tensor randomMask(const MaskShape &shape, at::ScalarType dtype,
                      std::mt19937_64 &rng) {
  at::Tensor mask = at::zeros({shape.batch, shape.seqLen}, at::kLong);
  int64_t *data = mask.data_ptr<int64_t>();
  const bool narrow = dtype != at::kLong && dtype != at::kInt;
  std::uniform_real_distribution<double> unit(0, 1);
  for (int64_t b = 0; b < shape.batch; ++b) {
    int64_t *row = data + b * shape.seqLen;
    const int64_t pad =
        static_cast<int64_t>(unit(rng) * shape.padding * shape.seqLen);
    const int64_t tokens = shape.seqLen - pad;
    const int64_t docs =
        std::max<int64_t>(1, std::min(tokens, shape.docsPerRow));
    // Document boundaries: docs-1 distinct cut points in (0, tokens).
    std::vector<int64_t> id(tokens, 0);
    int64_t current = 1 + static_cast<int64_t>(rng() % 3);
    for (int64_t s = 0; s < tokens; ++s) {
      if (s != 0 && unit(rng) < double(docs - 1) / double(tokens))
        current += 1 + static_cast<int64_t>(rng() % 2);
      id[s] = narrow ? 1 + (current - 1) % 100 : current;
    }
    int64_t at = 0;
    if (shape.where == Padding::Left)
      at = pad;
    if (shape.where == Padding::Middle && tokens > 0) {
      // Padding splits the row in two; sometimes inside one document.
      const int64_t cut = static_cast<int64_t>(rng() % (tokens + 1));
      for (int64_t s = 0; s < cut; ++s)
        row[s] = id[s];
      for (int64_t s = cut; s < tokens; ++s)
        row[s + pad] = id[s];
      continue;
    }
    for (int64_t s = 0; s < tokens; ++s)
      row[at + s] = id[s];
  }
  return dtype == at::kBool ? mask.ne(0) : mask.to(dtype);
}

at::Tensor cuda(const at::Tensor &t) { return t.to(at::kCUDA); }

// The message of `fn`'s c10::Error, or "" when it returns.
template <typename Fn> std::string errorOf(Fn &&fn) {
  try {
    fn();
  } catch (const c10::Error &e) {
    return e.msg();
  }
  return "";
}

// CUDA's get_unpad_data, get_seqlens_in_batch and padded variant against
// the CPU's, on `onDevice` (a CUDA view of `cpuMask`'s values).
void checkAgainstCpu(const at::Tensor &cpuMask, const at::Tensor &onDevice,
                     bool strict) {
  std::tuple<at::Tensor, at::Tensor, int64_t> want, got;
  const std::string cpuError =
      errorOf([&] { want = packjit::get_unpad_data(cpuMask, strict); });
  const std::string cudaError =
      errorOf([&] { got = packjit::get_unpad_data(onDevice, strict); });
  CATCH_REQUIRE(cudaError == cpuError);
  if (!cpuError.empty()) {
    auto padded = packjit::get_unpad_data_padded(onDevice, strict);
    at::Tensor summary = std::get<2>(padded).cpu();
    CATCH_CHECK(summary[3].item<int64_t>() >= 0); // reported, not raised
    return;
  }
  CATCH_REQUIRE(std::get<0>(got).is_cuda());
  CATCH_CHECK(at::equal(std::get<0>(got).cpu(), std::get<0>(want)));
  CATCH_CHECK(at::equal(std::get<1>(got).cpu(), std::get<1>(want)));
  CATCH_CHECK(std::get<2>(got) == std::get<2>(want));
  CATCH_CHECK(at::equal(packjit::get_seqlens_in_batch(onDevice, strict).cpu(),
                        packjit::get_seqlens_in_batch(cpuMask, strict)));
  const int64_t docs = std::get<1>(want).numel() - 1;
  for (int64_t maxDocs : {int64_t{-1}, docs / 2}) {
    auto wantPadded = packjit::get_unpad_data_padded(cpuMask, strict, maxDocs);
    auto gotPadded = packjit::get_unpad_data_padded(onDevice, strict, maxDocs);
    CATCH_CHECK(
        at::equal(std::get<0>(gotPadded).cpu(), std::get<0>(wantPadded)));
    CATCH_CHECK(
        at::equal(std::get<1>(gotPadded).cpu(), std::get<1>(wantPadded)));
    CATCH_CHECK(
        at::equal(std::get<2>(gotPadded).cpu(), std::get<2>(wantPadded)));
  }
}

// Puts a strict-mode violation at a random token: a value below the
// previous non-zero one of its row, or a negative one.
at::Tensor withViolation(at::Tensor mask, std::mt19937_64 &rng) {
  at::Tensor wide = mask.to(at::kLong).contiguous();
  int64_t *data = wide.data_ptr<int64_t>();
  const int64_t n = wide.numel();
  const int64_t p = static_cast<int64_t>(rng() % n);
  data[p] = (rng() % 2 == 0 || mask.scalar_type() == at::kByte) ? 0 : -1;
  if (data[p] == 0) { // decreasing: find a non-zero before p in its row
    const int64_t rowStart = p - p % wide.size(1);
    for (int64_t q = p - 1; q >= rowStart; --q)
      if (data[q] > 1) {
        data[p] = data[q] - 1;
        break;
      }
  }
  return wide.to(mask.scalar_type());
}

std::vector<MaskShape> shapes(std::mt19937_64 &rng, int count) {
  static const int64_t kSeqLens[] = {1,     2,     3,     7,     31,   64,
                                     127,   1000,  1024,  4095,  4096, 8193,
                                     32768, 65535, 65536, 131072};
  std::vector<MaskShape> out;
  for (int i = 0; i < count; ++i) {
    MaskShape s;
    s.seqLen = kSeqLens[rng() % std::size(kSeqLens)];
    // Quick mode (the sanitizers) stays under 64K tokens: still many tiles.
    const int64_t maxTokens = quick() ? int64_t{1} << 16 : int64_t{1} << 21;
    if (quick())
      s.seqLen = std::min<int64_t>(s.seqLen, 8193);
    const int64_t maxBatch =
        std::max<int64_t>(1, std::min<int64_t>(64, maxTokens / s.seqLen));
    s.batch = 1 + static_cast<int64_t>(rng() % maxBatch);
    static const int64_t kDocs[] = {1, 2, 5, 16, 100, 1000, 4096};
    s.docsPerRow = kDocs[rng() % std::size(kDocs)];
    s.padding = (rng() % 4) * 0.5 / 3; // 0, 1/6, 1/3, 1/2
    s.where = static_cast<Padding>(rng() % 3);
    out.push_back(s);
  }
  return out;
}

} // namespace

CATCH_TEST_CASE("design example and edge cases on CUDA", "[unpad][gpu]") {
  at::Tensor example =
      at::tensor(std::vector<int64_t>{1, 1, 2, 2, 2, 0, 1, 2, 2, 3, 3, 3})
          .view({2, 6});
  auto [indices, cu, longest] = packjit::get_unpad_data(cuda(example));
  CATCH_CHECK(at::equal(
      indices.cpu(),
      at::tensor(std::vector<int64_t>{0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11})));
  CATCH_CHECK(
      at::equal(cu.cpu(), at::tensor(std::vector<int32_t>{0, 2, 5, 6, 8, 11})));
  CATCH_CHECK(longest == 3);
  std::mt19937_64 rng(1);
  for (auto dims :
       std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {0, 5}, {3, 0}, {5, 1}})
    for (at::ScalarType dtype : kMaskDTypes) {
      CATCH_CAPTURE(dims.first, dims.second, dtype);
      at::Tensor zeros = at::zeros({dims.first, dims.second}, dtype);
      checkAgainstCpu(zeros, cuda(zeros), true);
      at::Tensor ones = at::ones({dims.first, dims.second}, dtype);
      checkAgainstCpu(ones, cuda(ones), true);
    }
  // [1, 0, 1] is one document; [1, 1, 3, 3] two; rows never share one.
  at::Tensor middle =
      at::tensor(std::vector<int64_t>{1, 0, 1, 2, 1, 1, 3, 3, 2, 0, 0, 2})
          .view({3, 4});
  checkAgainstCpu(middle, cuda(middle), true);
}

CATCH_TEST_CASE("CUDA matches the CPU on random masks",
                "[unpad][gpu][random]") {
  std::mt19937_64 rng(2024);
  const int count = quick() ? 12 : 700;
  int checked = 0;
  for (const MaskShape &shape : shapes(rng, count)) {
    const at::ScalarType dtype = kMaskDTypes[checked % std::size(kMaskDTypes)];
    CATCH_CAPTURE(shape.batch, shape.seqLen, shape.docsPerRow, shape.padding,
                  static_cast<int>(shape.where), dtype);
    at::Tensor mask = randomMask(shape, dtype, rng);
    const bool narrow =
        dtype != at::kLong && dtype != at::kInt && dtype != at::kBool;
    // Narrow ids wrap past 100 documents, which is strict-invalid by design.
    checkAgainstCpu(mask, cuda(mask), !(narrow && shape.docsPerRow > 50));
    ++checked;
  }
  CATCH_CHECK(checked == count);
}

CATCH_TEST_CASE("CUDA handles strided and misaligned views",
                "[unpad][gpu][views]") {
  std::mt19937_64 rng(7);
  const int rounds = quick() ? 2 : 60;
  for (int i = 0; i < rounds; ++i) {
    for (at::ScalarType dtype : kMaskDTypes) {
      CATCH_CAPTURE(i, dtype);
      const int64_t batch = 1 + rng() % 9, seqLen = 1 + rng() % 3000;
      at::Tensor big = randomMask(
          {batch + 1, 2 * seqLen + 3, 8, 0.3, Padding::Right}, dtype, rng);
      at::Tensor onDevice = cuda(big);
      // Every other column; a column offset (misaligned); a transpose.
      checkAgainstCpu(big.slice(1, 0, 2 * seqLen, 2),
                      onDevice.slice(1, 0, 2 * seqLen, 2), true);
      checkAgainstCpu(big.slice(1, 1, seqLen + 1),
                      onDevice.slice(1, 1, seqLen + 1), true);
      checkAgainstCpu(big.slice(0, 1).slice(1, 3, 3 + seqLen),
                      onDevice.slice(0, 1).slice(1, 3, 3 + seqLen), true);
      // Contiguous but 1 element off a 16-byte boundary.
      checkAgainstCpu(big.slice(0, 0, 1).slice(1, 1),
                      onDevice.slice(0, 0, 1).slice(1, 1), true);
      at::Tensor transposed = big.t().contiguous().t();
      checkAgainstCpu(transposed, cuda(big.t().contiguous()).t(), true);
    }
  }
}

CATCH_TEST_CASE("strict-mode violations give the CPU's error",
                "[unpad][gpu][errors]") {
  std::mt19937_64 rng(99);
  const int count = quick() ? 6 : 300;
  int raised = 0;
  for (const MaskShape &shape : shapes(rng, count)) {
    const at::ScalarType dtype =
        kMaskDTypes[rng() % 5]; // not bool: no violations there
    CATCH_CAPTURE(shape.batch, shape.seqLen, dtype);
    at::Tensor mask = withViolation(randomMask(shape, dtype, rng), rng);
    const std::string cpuError =
        errorOf([&] { packjit::get_unpad_data(mask, true); });
    raised += !cpuError.empty();
    checkAgainstCpu(mask, cuda(mask), true);
    checkAgainstCpu(mask, cuda(mask), false);
  }
  CATCH_CHECK(raised > count / 4);
}

CATCH_TEST_CASE("several streams and threads at once",
                "[unpad][gpu][streams]") {
  std::mt19937_64 rng(5);
  std::vector<at::Tensor> masks;
  std::vector<std::tuple<at::Tensor, at::Tensor, int64_t>> expected;
  for (const MaskShape &shape : shapes(rng, quick() ? 4 : 24)) {
    masks.push_back(randomMask(shape, at::kLong, rng));
    expected.push_back(packjit::get_unpad_data(masks.back()));
  }
  std::vector<at::Tensor> onDevice;
  for (const at::Tensor &m : masks)
    onDevice.push_back(cuda(m));
  torch::cuda::synchronize();
  std::atomic<int> mismatches{0}, calls{0};
  std::vector<std::thread> threads;
  const int threadCount = 4, rounds = quick() ? 2 : 20;
  const c10::cuda::CUDAStream shared = c10::cuda::getStreamFromPool();
  for (int t = 0; t < threadCount; ++t)
    threads.emplace_back([&, t] {
      // Two threads share a stream, the others have their own.
      c10::cuda::CUDAStream stream =
          t < 2 ? shared : c10::cuda::getStreamFromPool(true);
      c10::cuda::CUDAStreamGuard guard(stream);
      for (int r = 0; r < rounds; ++r)
        for (size_t i = (t + r) % masks.size(), k = 0; k < masks.size();
             ++k, i = (i + 1) % masks.size()) {
          auto [indices, cu, longest] = packjit::get_unpad_data(onDevice[i]);
          const auto &[wantIndices, wantCu, wantLongest] = expected[i];
          if (!at::equal(indices.cpu(), wantIndices) ||
              !at::equal(cu.cpu(), wantCu) || longest != wantLongest)
            ++mismatches;
          ++calls;
        }
    });
  for (std::thread &t : threads)
    t.join();
  CATCH_CHECK(mismatches == 0);
  CATCH_CHECK(calls == threadCount * rounds * static_cast<int>(masks.size()));
}

namespace {

// CUDA graphs, the PyTorch way: a warm-up on a side stream at most, then a
// capture on another stream, replays on new masks copied into the static
// input.

// A device tensor of `words` stale int64 words: 0x7f bytes, all ones, small
// values that look like epochs and counters (1, 2), or random words.
at::Tensor staleWords(int64_t words, int kind, std::mt19937_64 &rng) {
  const at::TensorOptions options =
      at::TensorOptions(at::kCUDA).dtype(at::kLong);
  switch (kind % 5) {
  case 0:
    return at::full({words}, int64_t{0x7f7f7f7f7f7f7f7f}, options);
  case 1:
    return at::full({words}, int64_t{-1}, options);
  case 2:
  case 3:
    return at::full({words}, int64_t{kind % 5 - 1}, options);
  default: {
    at::Tensor host = at::empty({words}, at::kLong);
    int64_t *data = host.data_ptr<int64_t>();
    for (int64_t i = 0; i < words; ++i)
      data[i] = static_cast<int64_t>(rng());
    return host.to(at::kCUDA);
  }
  }
}

// Leaves stale bytes in the caching allocator's free blocks (small and large
// pools), then hands its cached segments back to the driver, which in
// practice gives a graph's new private pool the same memory, bytes intact.
void poisonCachingAllocator(std::mt19937_64 &rng) {
  std::vector<at::Tensor> junk;
  for (int64_t words : {int64_t{2048}, int64_t{131072}, int64_t{1} << 20})
    for (int kind = 0; kind < 5; ++kind)
      junk.push_back(staleWords(words, kind, rng));
  torch::cuda::synchronize();
  junk.clear();
  c10::cuda::CUDACachingAllocator::emptyCache();
}

// Inside a capture: blocks of the graph's pool filled with stale words from
// `noise` (updated before every replay) and constants, then freed, so that
// the next allocations of the capture (a scan's workspace among them) land
// on memory that held garbage a moment before, at every replay.
void staleBlocksInCapture(const at::Tensor &noise) {
  std::vector<at::Tensor> junk;
  for (int k = 0; k < 6; ++k) {
    junk.push_back(noise.clone());
    junk.push_back(at::full_like(noise, k % 2 ? int64_t{1} : int64_t{-1}));
  }
  junk.push_back(at::full({int64_t{1} << 19}, int64_t{0x7f7f7f7f7f7f7f7f},
                          noise.options()));
}

void refreshNoise(at::Tensor &noise, std::mt19937_64 &rng) {
  at::Tensor host = at::empty({noise.numel()}, at::kLong);
  int64_t *data = host.data_ptr<int64_t>();
  for (int64_t i = 0; i < noise.numel(); ++i)
    data[i] = static_cast<int64_t>(rng());
  noise.copy_(host);
}

using Padded = std::tuple<at::Tensor, at::Tensor, at::Tensor>;

void checkPadded(const Padded &got, const at::Tensor &cpuMask,
                 int64_t maxDocs) {
  const Padded want = packjit::get_unpad_data_padded(cpuMask, true, maxDocs);
  CATCH_CHECK(at::equal(std::get<0>(got).cpu(), std::get<0>(want)));
  CATCH_CHECK(at::equal(std::get<1>(got).cpu(), std::get<1>(want)));
  CATCH_CHECK(at::equal(std::get<2>(got).cpu(), std::get<2>(want)));
}

} // namespace

CATCH_TEST_CASE(
    "the padded variant captured the PyTorch way, over stale memory",
    "[unpad][gpu][graph]") {
  std::mt19937_64 rng(11);
  const MaskShape shape{8, 4096, 16, 0.3, Padding::Middle};
  // int32, S = 4096: 8 and 32 rows run the same kernel (CHUNK 32).
  const MaskShape larger{32, 4096, 16, 0.3, Padding::Middle};
  at::Tensor staticMask = cuda(randomMask(shape, at::kInt, rng));
  at::Tensor largerMask = cuda(randomMask(larger, at::kInt, rng));
  { // The warm-up, on a side stream only.
    c10::cuda::CUDAStreamGuard side(c10::cuda::getStreamFromPool());
    packjit::get_unpad_data_padded(staticMask, true, 1000);
  }
  torch::cuda::synchronize();
  poisonCachingAllocator(rng);
  at::Tensor noise = at::empty({int64_t{1} << 17},
                               at::TensorOptions(at::kCUDA).dtype(at::kLong));
  refreshNoise(noise, rng);
  torch::cuda::synchronize();
  // A high-priority pool stream: not the warm-up's (other cases may have run
  // eager calls on it; a capture never uses a stream's cached workspace).
  c10::cuda::CUDAStreamGuard guard(c10::cuda::getStreamFromPool(true));
  at::cuda::CUDAGraph graph, largerGraph;
  graph.capture_begin();
  staleBlocksInCapture(noise);
  Padded out = packjit::get_unpad_data_padded(staticMask, true, 1000);
  staleBlocksInCapture(noise); // over the workspace just freed
  graph.capture_end();
  // No warm-up at this size: a capture never needs a larger mask first.
  largerGraph.capture_begin();
  staleBlocksInCapture(noise);
  Padded largerOut = packjit::get_unpad_data_padded(largerMask, true, -1);
  staleBlocksInCapture(noise);
  largerGraph.capture_end();
  for (int replay = 0; replay < (quick() ? 3 : 50); ++replay) {
    CATCH_CAPTURE(replay);
    refreshNoise(noise, rng);
    at::Tensor mask = randomMask(shape, at::kInt, rng);
    staticMask.copy_(mask);
    graph.replay();
    checkPadded(out, mask, 1000);
    at::Tensor bigger = randomMask(larger, at::kInt, rng);
    largerMask.copy_(bigger);
    largerGraph.replay();
    checkPadded(largerOut, bigger, -1);
  }
}

CATCH_TEST_CASE(
    "two graphs on two streams, replayed alternately and concurrently",
    "[unpad][gpu][graph][streams]") {
  std::mt19937_64 rng(12);
  const MaskShape shape{16, 8192, 32, 0.3, Padding::Right};
  at::Tensor masks[2] = {cuda(randomMask(shape, at::kLong, rng)),
                         cuda(randomMask(shape, at::kLong, rng))};
  {
    c10::cuda::CUDAStreamGuard side(c10::cuda::getStreamFromPool());
    packjit::get_unpad_data_padded(masks[0]);
  }
  torch::cuda::synchronize();
  c10::cuda::CUDAStream streams[2] = {c10::cuda::getStreamFromPool(true),
                                      c10::cuda::getStreamFromPool(true)};
  at::cuda::CUDAGraph graphs[2];
  Padded outs[2];
  for (int g = 0; g < 2; ++g) {
    c10::cuda::CUDAStreamGuard guard(streams[g]);
    graphs[g].capture_begin();
    outs[g] = packjit::get_unpad_data_padded(masks[g]);
    graphs[g].capture_end();
  }
  torch::cuda::synchronize();
  const int rounds = quick() ? 2 : 20;
  for (int round = 0; round < rounds; ++round) {
    CATCH_CAPTURE(round);
    at::Tensor next[2] = {randomMask(shape, at::kLong, rng),
                          randomMask(shape, at::kLong, rng)};
    at::Tensor eagerMask = randomMask(shape, at::kLong, rng);
    at::Tensor onDevice[2] = {cuda(next[0]), cuda(next[1])};
    at::Tensor eagerOnDevice = cuda(eagerMask);
    torch::cuda::synchronize();
    if (round % 2 == 0) { // alternately, on one stream
      for (int g = 0; g < 2; ++g) {
        masks[g].copy_(onDevice[g]);
        graphs[g].replay();
        checkPadded(outs[g], next[g], -1);
      }
      continue;
    }
    // Concurrently: each graph on its own stream, an eager call on a third.
    for (int g = 0; g < 2; ++g) {
      c10::cuda::CUDAStreamGuard guard(streams[1 - g]); // not its capture's
      masks[g].copy_(onDevice[g]);
      graphs[g].replay();
    }
    Padded eager;
    {
      c10::cuda::CUDAStreamGuard guard(c10::cuda::getStreamFromPool());
      eager = packjit::get_unpad_data_padded(eagerOnDevice);
    }
    torch::cuda::synchronize();
    for (int g = 0; g < 2; ++g)
      checkPadded(outs[g], next[g], -1);
    checkPadded(eager, eagerMask, -1);
  }
}

CATCH_TEST_CASE("the ops that wait on the host refuse a capture",
                "[unpad][gpu][graph][errors]") {
  std::mt19937_64 rng(13);
  const MaskShape shape{4, 1000, 8, 0.2, Padding::Right};
  at::Tensor cpuMask = randomMask(shape, at::kLong, rng);
  at::Tensor mask = cuda(cpuMask);
  at::Tensor positions = cuda(at::arange(12, at::kLong).remainder(5));
  torch::cuda::synchronize();
  c10::cuda::CUDAStreamGuard guard(c10::cuda::getStreamFromPool(true));
  const std::pair<const char *, std::function<void()>> ops[] = {
      {"packjit.get_unpad_data cannot be captured",
       [&] { packjit::get_unpad_data(mask); }},
      {"packjit.get_seqlens_in_batch cannot be captured",
       [&] { packjit::get_seqlens_in_batch(mask); }},
      {"packjit.cu_seqlens_from_position_ids cannot be captured",
       [&] { packjit::cu_seqlens_from_position_ids(positions); }}};
  for (const auto &[expected, call] : ops) {
    CATCH_CAPTURE(expected);
    at::cuda::CUDAGraph graph;
    graph.capture_begin();
    at::Tensor nonEmpty = mask.add(1); // the graph is not empty
    const std::string error = errorOf(call);
    graph.capture_end(); // the refusal left the capture valid
    CATCH_CHECK(error.find(expected) != std::string::npos);
    const bool positionIds =
        std::string(expected).find("position_ids") != std::string::npos;
    CATCH_CHECK(error.find(positionIds
                               ? "cu_seqlens_from_position_ids_padded"
                               : "get_unpad_data_padded") != std::string::npos);
  }
  // Nothing was left behind: the eager op still works on this stream.
  auto [indices, cu, longest] = packjit::get_unpad_data(mask);
  auto [wantIndices, wantCu, wantLongest] = packjit::get_unpad_data(cpuMask);
  CATCH_CHECK(at::equal(indices.cpu(), wantIndices));
  CATCH_CHECK(at::equal(cu.cpu(), wantCu));
  CATCH_CHECK(longest == wantLongest);
}

namespace {

// Position ids as DataCollatorWithFlattening packs them: runs start, start+1,
// ... that restart at `start` now and then (about every `meanRun` tokens)
// and at a random offset at each row start; `broken` adds 7 to one id.
at::Tensor randomPositionIds(int64_t batch, int64_t seqLen, int64_t meanRun,
                             bool broken, std::mt19937_64 &rng) {
  at::Tensor positions = at::empty({batch, seqLen}, at::kLong);
  int64_t *data = positions.data_ptr<int64_t>();
  const int64_t start = rng() % 3;
  for (int64_t b = 0; b < batch; ++b) {
    int64_t next = start + rng() % 5;
    for (int64_t s = 0; s < seqLen; ++s)
      data[b * seqLen + s] = static_cast<int64_t>(rng() % meanRun) == 0
                                 ? (next = start + 1, start)
                                 : next++;
  }
  if (broken)
    data[rng() % positions.numel()] += 7;
  return positions;
}

} // namespace

// Sizes from one token to several hundred tiles (a tile is 2048 int64 or
// 4096 int32 ids), rows from 1 to 70000 tokens, every dtype the op takes,
// strict and not, valid and broken: the eager op and the padded variant
// against the CPU's.
CATCH_TEST_CASE("cu_seqlens_from_position_ids on CUDA",
                "[unpad][gpu][position_ids]") {
  std::mt19937_64 rng(3);
  const int64_t rowLengths[] = {1, 2, 7, 100, 2047, 2048, 4097, 20000, 70000};
  const int count = quick() ? 12 : 120;
  for (int i = 0; i < count; ++i) {
    const int64_t batch = 1 + rng() % 6;
    const int64_t seqLen =
        i % 3 == 0 ? 1 + rng() % 9000 : rowLengths[rng() % 9];
    const int64_t meanRun = 1 + rng() % (i % 2 ? 8 : 3000);
    const at::Tensor positions =
        randomPositionIds(batch, seqLen, meanRun, i % 4 == 3, rng);
    for (at::ScalarType dtype : {at::kLong, at::kInt, at::kShort}) {
      if (dtype == at::kShort && seqLen > 30000)
        continue;
      at::Tensor p = positions.to(dtype);
      for (bool strict : {true, false}) {
        CATCH_CAPTURE(i, batch, seqLen, meanRun, dtype, strict);
        std::tuple<at::Tensor, int64_t> want, got;
        const std::string cpuError = errorOf(
            [&] { want = packjit::cu_seqlens_from_position_ids(p, strict); });
        const std::string cudaError = errorOf([&] {
          got = packjit::cu_seqlens_from_position_ids(cuda(p), strict);
        });
        CATCH_REQUIRE(cudaError == cpuError);
        const int64_t maxDocs =
            rng() % 2 ? -1 : static_cast<int64_t>(rng() % 50);
        auto [cu, summary] = packjit::cu_seqlens_from_position_ids_padded(
            cuda(p), strict, maxDocs);
        const at::Tensor s = summary.cpu();
        if (!cpuError.empty()) {
          CATCH_CHECK(s[3].item<int64_t>() == 1);
          continue;
        }
        CATCH_CHECK(at::equal(std::get<0>(got).cpu(), std::get<0>(want)));
        CATCH_CHECK(std::get<1>(got) == std::get<1>(want));
        auto [wantCu, wantSummary] =
            packjit::cu_seqlens_from_position_ids_padded(p, strict, maxDocs);
        CATCH_CHECK(at::equal(cu.cpu(), wantCu));
        CATCH_CHECK(at::equal(s, wantSummary));
      }
    }
  }
  if (!quick()) { // 4M ids, 2048 tiles
    const at::Tensor big =
        randomPositionIds(1, int64_t{1} << 22, 5000, false, rng);
    auto [cu, longest] = packjit::cu_seqlens_from_position_ids(cuda(big));
    auto [wantCu, wantLongest] = packjit::cu_seqlens_from_position_ids(big);
    CATCH_CHECK(at::equal(cu.cpu(), wantCu));
    CATCH_CHECK(longest == wantLongest);
  }
}

// From 2M ids a thread reads 4 chunks of 64 bytes (ops/plan), not one:
// each size first on the one-chunk kernel that serves while its own
// compiles in the background, then on its own; both against the CPU.
CATCH_TEST_CASE("cu_seqlens_from_position_ids with several chunks per thread",
                "[unpad][gpu][position_ids]") {
  std::mt19937_64 rng(5);
  struct Case {
    int64_t batch, seqLen, meanRun;
    bool broken;
  };
  const Case cases[] = {{1, (int64_t{1} << 21) + 12345, 3000, false},
                        {3, 700001, 5, false},
                        {1, (int64_t{1} << 22) + 777, 2000, false},
                        {2, (int64_t{1} << 21) + 1, 40000, true}};
  for (const Case &c : cases) {
    const at::Tensor positions =
        randomPositionIds(c.batch, c.seqLen, c.meanRun, c.broken, rng);
    for (at::ScalarType dtype : {at::kLong, at::kInt}) {
      const at::Tensor p = positions.to(dtype);
      const at::Tensor onGpu = cuda(p);
      for (bool strict : {true, false}) {
        std::tuple<at::Tensor, int64_t> want;
        const std::string cpuError = errorOf(
            [&] { want = packjit::cu_seqlens_from_position_ids(p, strict); });
        at::Tensor wantCu, wantSummary; // the CPU's padded form raises
        if (cpuError.empty())
          std::tie(wantCu, wantSummary) =
              packjit::cu_seqlens_from_position_ids_padded(p, strict, -1);
        for (const char *kernel : {"generic", "specialized"}) {
          CATCH_CAPTURE(c.batch, c.seqLen, dtype, strict, kernel);
          std::tuple<at::Tensor, int64_t> got;
          const std::string cudaError = errorOf([&] {
            got = packjit::cu_seqlens_from_position_ids(onGpu, strict);
          });
          CATCH_REQUIRE(cudaError == cpuError);
          auto [cu, summary] =
              packjit::cu_seqlens_from_position_ids_padded(onGpu, strict, -1);
          const at::Tensor s = summary.cpu();
          if (cpuError.empty()) {
            CATCH_CHECK(at::equal(std::get<0>(got).cpu(), std::get<0>(want)));
            CATCH_CHECK(std::get<1>(got) == std::get<1>(want));
            CATCH_CHECK(at::equal(cu.cpu(), wantCu));
            CATCH_CHECK(at::equal(s, wantSummary));
          } else {
            CATCH_CHECK(s[3].item<int64_t>() == 1);
          }
          packjit::runtime::waitForBackgroundCompiles();
        }
      }
    }
  }
}

CATCH_TEST_CASE("cu_seqlens_from_position_ids_padded captured in a CUDA graph",
                "[unpad][gpu][position_ids][graph]") {
  std::mt19937_64 rng(21);
  const int64_t batch = 4, seqLen = 8192;
  at::Tensor staticIds =
      cuda(randomPositionIds(batch, seqLen, 700, false, rng));
  for (bool strict : {true, false}) {
    CATCH_CAPTURE(strict);
    torch::cuda::synchronize();
    c10::cuda::CUDAStreamGuard guard(c10::cuda::getStreamFromPool(true));
    at::cuda::CUDAGraph graph;
    graph.capture_begin();
    auto [cu, summary] =
        packjit::cu_seqlens_from_position_ids_padded(staticIds, strict, 500);
    graph.capture_end();
    for (int replay = 0; replay < (quick() ? 3 : 30); ++replay) {
      CATCH_CAPTURE(replay);
      const bool broken = replay % 5 == 4;
      const at::Tensor ids =
          randomPositionIds(batch, seqLen, 1 + rng() % 2000, broken, rng);
      staticIds.copy_(ids);
      graph.replay();
      torch::cuda::synchronize();
      const bool invalid =
          strict && !errorOf([&] {
                       packjit::cu_seqlens_from_position_ids(ids, true);
                     }).empty();
      if (invalid) {
        CATCH_CHECK(summary.cpu()[3].item<int64_t>() == 1);
        continue;
      }
      auto [wantCu, wantSummary] =
          packjit::cu_seqlens_from_position_ids_padded(ids, strict, 500);
      CATCH_CHECK(at::equal(cu.cpu(), wantCu));
      CATCH_CHECK(at::equal(summary.cpu(), wantSummary));
    }
  }
}

CATCH_TEST_CASE("is_indexed_packed_mask on CUDA", "[unpad][gpu]") {
  for (at::ScalarType dtype : kMaskDTypes) {
    CATCH_CAPTURE(dtype);
    at::Tensor binary = at::ones({3, 100}, dtype);
    CATCH_CHECK_FALSE(packjit::is_indexed_packed_mask(cuda(binary)));
    if (dtype != at::kBool) {
      binary[2][99] = 2;
      CATCH_CHECK(packjit::is_indexed_packed_mask(cuda(binary)));
    }
  }
}

int main(int argc, char **argv) {
  if (!torch::cuda::is_available()) {
    std::cerr << "packjit_gpu_unpad_tests: no CUDA device; skipped\n";
    return 77;
  }
  return Catch::Session().run(argc, argv);
}
