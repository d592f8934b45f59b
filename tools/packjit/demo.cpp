// `packjit demo`: get_unpad_data on the design's example mask and on a
// generated packed batch, on the GPU when there is one.
#include "commands.h"

#include "packjit/core/bench_support.h"
#include "packjit/core/error.h"
#include "packjit/ops.h"
#include "packjit/synthetic.h"

#include <ATen/ATen.h>
#include <torch/cuda.h>

#if PACKJIT_HAVE_RUNTIME
#include "packjit/runtime/device.h"
#endif

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

namespace packjit::cli {
namespace {

std::string formatList(const at::Tensor &tensor, int64_t limit = 32) {
  at::Tensor values = tensor.to(at::kCPU, at::kLong).contiguous();
  const int64_t *data = values.data_ptr<int64_t>();
  std::ostringstream out;
  out << "[";
  const int64_t n = values.numel();
  for (int64_t i = 0; i < std::min(n, limit); ++i)
    out << (i ? "," : "") << data[i];
  if (n > limit)
    out << ",... (" << n << " values)";
  out << "]";
  return out.str();
}

at::Device pickDevice(const std::string &requested) {
  if (requested == "cpu")
    return at::kCPU;
  const bool haveCuda = torch::cuda::is_available();
  if (requested == "cuda" && !haveCuda)
    throw Error("--device cuda: no CUDA device is available to PyTorch here");
  return haveCuda ? at::Device(at::kCUDA, 0) : at::Device(at::kCPU);
}

// "cuda:0 (NVIDIA H100 80GB HBM3, sm_90, PTX ISA 8.8)", or "cpu".
std::string describe(const at::Device &device) {
  std::ostringstream out;
  out << device;
#if PACKJIT_HAVE_RUNTIME
  if (device.is_cuda()) {
    const runtime::Device &d = runtime::device(device.index());
    out << " (" << d.name << ", " << d.target.arch << ", PTX ISA "
        << d.target.ptxVersion / 10 << "." << d.target.ptxVersion % 10 << ")";
  }
#endif
  return out.str();
}

// get_unpad_data counts tokens in int32 (cu_seqlens): a larger generated
// batch is refused before its mask is allocated (16 GB at 2^31 tokens).
void checkBatchSize(int64_t batch, int64_t seqLen) {
  constexpr int64_t kMaxTokens = std::numeric_limits<int32_t>::max();
  int64_t tokens = 0;
  if (__builtin_mul_overflow(batch, seqLen, &tokens) || tokens > kMaxTokens)
    throw Error("demo: --batch " + std::to_string(batch) + " x --seq-len " +
                std::to_string(seqLen) +
                " is more tokens than get_unpad_data takes (2^31-1: "
                "cu_seqlens is int32)");
}

void run(const std::string &requestedDevice, int64_t batch, int64_t seqLen) {
  checkBatchSize(batch, seqLen);
  const at::Device device = pickDevice(requestedDevice);
  std::cout << "packjit demo on " << describe(device) << "\n\n";

  at::Tensor example =
      at::tensor(std::vector<int64_t>{1, 1, 2, 2, 2, 0, 1, 2, 2, 3, 3, 3})
          .view({2, 6})
          .to(device);
  auto [indices, cuSeqlens, maxSeqlen] = get_unpad_data(example);
  std::cout << "attention_mask = [[1,1,2,2,2,0],[1,2,2,3,3,3]]\n"
            << "indices             = " << formatList(indices) << "\n"
            << "cu_seqlens          = " << formatList(cuSeqlens) << "\n"
            << "max_seqlen_in_batch = " << maxSeqlen << "\n\n";

  PackedMaskOptions options;
  options.batch = batch;
  options.seqLen = seqLen;
  at::Tensor packed = makePackedMask(options).to(device);
  std::vector<double> micros;
  for (int i = 0; i < 25; ++i) {
    const auto start = BenchClock::now();
    std::tie(indices, cuSeqlens, maxSeqlen) = get_unpad_data(packed);
    micros.push_back(microsecondsSince(start));
  }
  std::cout << "packed batch [" << batch << ", " << seqLen
            << "] int64: " << indices.numel() << " tokens in "
            << cuSeqlens.numel() - 1
            << " documents, max_seqlen_in_batch = " << maxSeqlen << "\n"
            << "cu_seqlens          = " << formatList(cuSeqlens, 12) << "\n"
            << (device.is_cuda() ? "kernel              = " +
                                       get_unpad_data_kernel_spec(packed) + "\n"
                                 : std::string())
            << "get_unpad_data: first call " << micros.front()
            << " us, median of the next " << micros.size() - 1 << ": "
            << median({micros.begin() + 1, micros.end()}) << " us\n";
}

} // namespace

void addDemoCommand(CLI::App &app) {
  auto device = std::make_shared<std::string>("auto");
  auto batch = std::make_shared<int64_t>(8);
  auto seqLen = std::make_shared<int64_t>(4096);
  CLI::App *cmd = app.add_subcommand(
      "demo",
      "Run get_unpad_data on the example mask and a generated packed batch");
  cmd->add_option("--device", *device,
                  "auto (GPU when there is one), cpu or cuda")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  cmd->add_option("--batch", *batch, "Rows of the generated batch")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--seq-len", *seqLen, "Tokens per row of the generated batch")
      ->check(CLI::PositiveNumber);
  cmd->callback([=] { run(*device, *batch, *seqLen); });
}

} // namespace packjit::cli
