// unpad_input / pad_input / unpad_inputs on CUDA against the CPU ops and
// index_select / index_put: every dtype, odd row widths, strided and
// misaligned views, both pad_input strategies, out-of-range indices (no
// write out of bounds; compute-sanitizer runs this too; PACKJIT_CHECK=1
// raises on them), backward (repeated indices sum), errors.
// Exits 77 (CTest: skipped) without a CUDA device.
#define CATCH_CONFIG_RUNNER
#include "../support/padding_data.h"

#include <catch2/catch.hpp>

#include "packjit/ops.h"

#include <ATen/ATen.h>
#include <torch/cuda.h>

#include <cstdlib>
#include <iostream>

using Catch::Contains;

namespace {

using packjit::test::kDataDTypes;
using packjit::test::randomData;

at::Tensor cuda(const at::Tensor &t) { return t.to(at::kCUDA); }

// Compares CUDA's unpad/pad of `hidden` with the CPU ops and torch's.
void checkRoundTrip(const at::Tensor &hidden, const at::Tensor &indices) {
  const int64_t batch = hidden.size(0), seqlen = hidden.size(1);
  at::Tensor expected = hidden.flatten(0, 1).index_select(0, indices);
  at::Tensor got = packjit::unpad_input(cuda(hidden), cuda(indices));
  CATCH_CHECK(got.is_cuda());
  CATCH_CHECK(at::equal(got.cpu(), expected));
  CATCH_CHECK(at::equal(got.cpu(), packjit::unpad_input(hidden, indices)));
  at::Tensor padded = packjit::pad_input(got, cuda(indices), batch, seqlen);
  CATCH_CHECK(at::equal(padded.cpu(),
                        packjit::pad_input(expected, indices, batch, seqlen)));
}

} // namespace

CATCH_TEST_CASE("CUDA matches the CPU for every dtype and row width",
                "[padding][gpu]") {
  at::manual_seed(60);
  int roundTrips =
      0; // the loops really ran: Catch counts assertions, not cases
  const std::vector<std::vector<int64_t>> rowShapes = {
      {}, {1}, {3}, {7, 5}, {2, 3, 4}, {8, 128}, {32, 128}, {1, 1025}};
  for (at::ScalarType dtype : kDataDTypes) {
    for (const auto &rowShape : rowShapes) {
      CATCH_CAPTURE(dtype, rowShape);
      std::vector<int64_t> shape = {3, 37};
      shape.insert(shape.end(), rowShape.begin(), rowShape.end());
      checkRoundTrip(randomData(shape, dtype),
                     at::randperm(3 * 37, at::kLong).slice(0, 0, 70));
      ++roundTrips;
    }
  }
  CATCH_CHECK(roundTrips == 6 * 8);
}

CATCH_TEST_CASE("CUDA: strided, transposed and misaligned views",
                "[padding][gpu]") {
  at::manual_seed(61);
  int roundTrips = 0;
  for (at::ScalarType dtype : kDataDTypes) {
    CATCH_CAPTURE(dtype);
    at::Tensor indices = at::randperm(4 * 33, at::kLong).slice(0, 0, 90);
    checkRoundTrip(randomData({4, 33, 3, 2, 8}, dtype).select(2, 1), indices);
    checkRoundTrip(randomData({4, 33, 5, 3}, dtype).transpose(2, 3), indices);
    checkRoundTrip(randomData({33, 4, 6}, dtype).transpose(0, 1), indices);
    // Offsets of 1-3 elements force narrow words; 16 bytes keeps 16-byte words.
    const int64_t wideOffset = 16 / at::elementSize(dtype);
    for (int64_t offset : {int64_t{1}, int64_t{2}, int64_t{3}, wideOffset}) {
      for (int64_t width : {8, 64}) {
        CATCH_CAPTURE(offset, width);
        at::Tensor flat = randomData({4 * 33 * width + offset}, dtype);
        checkRoundTrip(flat.slice(0, offset).view({4, 33, width}), indices);
        ++roundTrips;
      }
    }
    roundTrips += 3;
  }
  CATCH_CHECK(roundTrips == 6 * (3 + 4 * 2));
}

CATCH_TEST_CASE(
    "CUDA pad_input: small outputs (zero fill + scatter) and large ones "
    "(inverse map + gather)",
    "[padding][gpu]") {
  at::manual_seed(62);
  for (int64_t seqlen : {16, 2048}) { // 64 KiB and 16 MiB of bf16 output
    CATCH_CAPTURE(seqlen);
    at::Tensor x = randomData({2 * seqlen / 3, 8, 128}, at::kBFloat16);
    at::Tensor indices =
        at::randperm(4 * seqlen, at::kLong).slice(0, 0, x.size(0));
    at::Tensor padded = packjit::pad_input(cuda(x), cuda(indices), 4, seqlen);
    CATCH_CHECK(
        at::equal(padded.cpu(), packjit::pad_input(x, indices, 4, seqlen)));
  }
}

CATCH_TEST_CASE("CUDA unpad_inputs gathers each tensor", "[padding][gpu]") {
  at::manual_seed(64);
  at::Tensor qkv = randomData({2, 50, 3, 4, 16}, at::kBFloat16);
  at::Tensor indices = at::randperm(100, at::kLong).slice(0, 0, 64);
  // q, k, v: strided views of one packed tensor, one launch.
  std::vector<at::Tensor> parts = cuda(qkv).unbind(2);
  // Then a narrower tensor, a misaligned one and a fifth: other launches.
  std::vector<at::Tensor> cpuParts = qkv.unbind(2);
  cpuParts.push_back(randomData({2, 50, 3}, at::kBFloat16));
  cpuParts.push_back(randomData({2 * 50 * 64 + 1}, at::kBFloat16)
                         .slice(0, 1)
                         .view({2, 50, 64}));
  cpuParts.push_back(randomData({2, 50, 4, 16}, at::kBFloat16));
  for (size_t i = 3; i < cpuParts.size(); ++i)
    parts.push_back(cuda(cpuParts[i]));
  std::vector<at::Tensor> got = packjit::unpad_inputs(parts, cuda(indices));
  CATCH_REQUIRE(got.size() == cpuParts.size());
  for (size_t i = 0; i < cpuParts.size(); ++i) {
    CATCH_CAPTURE(i);
    CATCH_CHECK(at::equal(got[i].cpu(),
                          cpuParts[i].flatten(0, 1).index_select(0, indices)));
  }
}

CATCH_TEST_CASE(
    "CUDA: out-of-range indices read zeros and write nothing out of bounds",
    "[padding][gpu]") {
  at::Tensor hidden = cuda(at::arange(1, 13, at::kFloat).view({2, 3, 2}));
  at::Tensor indices =
      cuda(at::tensor(std::vector<int64_t>{1, 6, -1, 5, 1000000}));
  at::Tensor got = packjit::unpad_input(hidden, indices).cpu();
  CATCH_CHECK(at::equal(
      got, at::tensor(std::vector<float>{3, 4, 0, 0, 0, 0, 11, 12, 0, 0})
               .view({5, 2})));
  for (int64_t seqlen : {3, 40000}) { // both pad_input strategies
    CATCH_CAPTURE(seqlen);
    at::Tensor x = cuda(at::ones({5, 64}, at::kFloat));
    at::Tensor padded = packjit::pad_input(x, indices, 2, seqlen).cpu();
    const int64_t inRange =
        seqlen == 3 ? 2 : 3; // 1 and 5; and 6 when 6 < 2*seqlen
    CATCH_CHECK(padded.sum().item<float>() == inRange * 64);
  }
}

CATCH_TEST_CASE("CUDA backward matches the CPU", "[padding][gpu][autograd]") {
  at::manual_seed(63);
  at::Tensor indices = at::randperm(2 * 64, at::kLong).slice(0, 0, 100);
  at::Tensor hidden = randomData({2, 64, 4, 32}, at::kBFloat16);
  at::Tensor weight = randomData({100, 4, 32}, at::kBFloat16);
  std::vector<at::Tensor> grads;
  for (at::Device device : {at::Device(at::kCPU), at::Device(at::kCUDA)}) {
    at::Tensor h =
        hidden.to(device).detach().requires_grad_(); // a leaf on each device
    at::Tensor out =
        packjit::unpad_input(h, indices.to(device)) * weight.to(device);
    packjit::pad_input(out, indices.to(device), 2, 64).sum().backward();
    grads.push_back(h.grad().cpu());
  }
  CATCH_CHECK(at::equal(grads[0], grads[1]));
}

CATCH_TEST_CASE(
    "CUDA backward: repeated indices sum, out-of-range rows get none",
    "[padding][gpu][autograd][duplicates]") {
  const at::Tensor repeated = at::tensor(std::vector<int64_t>{3, 0, 3, 7, 3});
  at::Tensor weight = at::randn({5, 8});
  at::Tensor cpuHidden = at::randn({2, 4, 8}).requires_grad_();
  (packjit::unpad_input(cpuHidden, repeated) * weight).sum().backward();
  at::Tensor h = cuda(cpuHidden.detach()).requires_grad_();
  (packjit::unpad_input(h, cuda(repeated)) * cuda(weight)).sum().backward();
  CATCH_CHECK(at::allclose(h.grad().cpu(), cpuHidden.grad()));
  // PACKJIT_CHECK off: indices 8 and -1 read zeros forward and take no
  // gradient (index_add itself would fault on them).
  at::Tensor g = cuda(at::randn({2, 4, 8})).requires_grad_();
  packjit::unpad_input(g, cuda(at::tensor(std::vector<int64_t>{8, 1, -1})))
      .sum()
      .backward();
  at::Tensor expected = at::zeros({8, 8});
  expected[1].fill_(1);
  CATCH_CHECK(at::equal(g.grad().cpu().flatten(0, 1), expected));
}

CATCH_TEST_CASE("PACKJIT_CHECK=1: bad CUDA indices raise the CPU's errors",
                "[padding][gpu][errors][check]") {
  at::Tensor hidden = cuda(at::randn({2, 3, 4}));
  at::Tensor x = cuda(at::randn({2, 4}));
  const at::Tensor outOfRange = cuda(at::tensor(std::vector<int64_t>{0, 6}));
  const at::Tensor negative = cuda(at::tensor(std::vector<int64_t>{-1, 2}));
  const at::Tensor good = cuda(at::tensor(std::vector<int64_t>{0, 5}));
  const at::Tensor uncheckedUnpad = packjit::unpad_input(hidden, outOfRange);
  const at::Tensor uncheckedPad = packjit::pad_input(x, good, 2, 3);
  setenv("PACKJIT_CHECK", "1", 1);
  for (const char *strategy : {"scatter", "gather"}) {
    CATCH_CAPTURE(strategy);
    setenv("PACKJIT_PAD_INPUT", strategy, 1);
    CATCH_CHECK_THROWS_WITH(
        packjit::unpad_input(hidden, outOfRange),
        Contains("packjit.unpad_input: indices[1] = 6 is out of range [0, 6) "
                 "(hidden has batch*seqlen rows)"));
    CATCH_CHECK_THROWS_WITH(
        packjit::unpad_input(hidden, negative),
        Contains("packjit.unpad_input: indices[0] = -1 is out of range"));
    CATCH_CHECK_THROWS_WITH(
        packjit::unpad_inputs({hidden, hidden}, outOfRange),
        Contains("packjit.unpad_inputs: indices[1] = 6 is out of range"));
    CATCH_CHECK_THROWS_WITH(
        packjit::pad_input(x, outOfRange, 2, 3),
        Contains("packjit.pad_input: indices[1] = 6 is out of range [0, 6) "
                 "(the output has batch*seqlen rows)"));
    CATCH_CHECK_THROWS_WITH(
        packjit::pad_input(x, negative, 2, 3),
        Contains("packjit.pad_input: indices[0] = -1 is out of range"));
    CATCH_CHECK_THROWS_WITH(
        packjit::pad_input(x, cuda(at::tensor(std::vector<int64_t>{4, 4})), 2,
                           3),
        Contains("packjit.pad_input: indices[1] = 4 repeats indices[0]"));
    // Good indices: the same results as unchecked.
    CATCH_CHECK(at::equal(packjit::pad_input(x, good, 2, 3), uncheckedPad));
    CATCH_CHECK(at::equal(packjit::unpad_input(hidden, good),
                          hidden.flatten(0, 1).index_select(0, good)));
  }
  unsetenv("PACKJIT_PAD_INPUT");
  unsetenv("PACKJIT_CHECK");
  // Off again: the bad row reads zeros, no error.
  CATCH_CHECK(
      at::equal(packjit::unpad_input(hidden, outOfRange), uncheckedUnpad));
  CATCH_CHECK_FALSE(uncheckedUnpad[1].any().item<bool>());
}

CATCH_TEST_CASE("CUDA errors: devices and dtypes", "[padding][gpu][errors]") {
  at::Tensor hidden = cuda(at::randn({2, 3, 4}));
  CATCH_CHECK_THROWS_WITH(
      packjit::unpad_input(hidden, at::tensor(std::vector<int64_t>{0})),
      Contains("packjit.unpad_input: hidden is on cuda:0 but indices is on "
               "cpu; both should be on the same device"));
  CATCH_CHECK_THROWS_WITH(packjit::pad_input(at::randn({1, 4}),
                                             cuda(at::zeros({1}, at::kLong)), 2,
                                             3),
                          Contains("both should be on the same device"));
  CATCH_CHECK_THROWS_WITH(
      packjit::unpad_input(hidden, cuda(at::zeros({1}, at::kInt))),
      Contains("indices should be an int64 tensor"));
  CATCH_CHECK_THROWS_WITH(packjit::unpad_input(hidden.to(at::kByte),
                                               cuda(at::zeros({1}, at::kLong))),
                          Contains("hidden should be float32"));
}

int main(int argc, char **argv) {
  if (!torch::cuda::is_available()) {
    std::cerr << "packjit_gpu_padding_tests: no CUDA device; skipped\n";
    return 77;
  }
  return Catch::Session().run(argc, argv);
}
