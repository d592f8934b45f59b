// The launch code of scale_rows.mlir, a kernel that is not part of packjit
// (docs/compiler.md, "Adding a kernel"): read the template, make a kernel
// family over its contract, launch it with typed arguments on PyTorch's
// current stream, and compare with the same computation in torch.
//
// Usage: custom_kernel [TEMPLATE]  (default: the scale_rows.mlir beside this
// file). Exits 0 when every dtype matches torch, 1 otherwise, 77 without a
// CUDA device (CTest: skipped).
#include "packjit/core/error.h"
#include "packjit/core/kernel_contract.h"
#include "packjit/core/kernel_templates.h"
#include "packjit/runtime/driver.h"
#include "packjit/runtime/launch.h"

#include <ATen/ATen.h>
#include <torch/cuda.h>
#ifdef PACKJIT_EXAMPLE_WITH_C10_CUDA
#include <c10/cuda/CUDAStream.h>
#endif

#include <iostream>
#include <string>

namespace {

using namespace packjit;

// PyTorch's current stream on `device`, so that the kernel runs after the
// work that made its inputs and before the work that reads its output. The
// driver's CUstream and the CUDA runtime's cudaStream_t are one type.
CUstream currentStream(const at::Device &device) {
#ifdef PACKJIT_EXAMPLE_WITH_C10_CUDA
  return reinterpret_cast<CUstream>(
      c10::cuda::getCurrentCUDAStream(device.index()).stream());
#else
  (void)device; // a torch without CUDA never gets here: main exits 77 first
  return nullptr;
#endif
}

DType packjitDType(at::ScalarType type) {
  switch (type) {
  case at::kFloat:
    return DType::Float32;
  case at::kHalf:
    return DType::Float16;
  case at::kBFloat16:
    return DType::BFloat16;
  case at::kDouble:
    return DType::Float64;
  default:
    throw Error("scale_rows has no kernel for " +
                std::string(c10::toString(type)));
  }
}

// x[r, :] *= scale[r] for x [rows, cols], contiguous, on a CUDA device.
void scaleRows(runtime::KernelFamily &family, runtime::ConstexprSlot block,
               int64_t blockSize, at::Tensor &x, const at::Tensor &scale) {
  const DType dtypes[] = {packjitDType(x.scalar_type())};
  runtime::ConstexprValues values = family.defaults();
  values.set(block, blockSize);
  // Compiled on the first call for this dtype and BLOCK (or loaded from the
  // disk cache), then a lookup.
  const runtime::Kernel &kernel =
      family.get(x.device().index(), dtypes, values);
  // One block per row, BLOCK threads; the arguments are checked against the
  // template's parameters (%x, %scale, %cols) before the launch.
  runtime::launch(kernel, runtime::Dim3{static_cast<unsigned>(x.size(0))},
                  runtime::Dim3{static_cast<unsigned>(blockSize)},
                  currentStream(x.device()),
                  {runtime::KernelArg::pointer(x.data_ptr()),
                   runtime::KernelArg::pointer(scale.data_ptr()),
                   runtime::KernelArg::i64(x.size(1))});
  std::cout << "  " << kernel.spec.fileStem() << " ("
            << runtime::imageOriginName(kernel.origin) << ", "
            << kernel.spec.arch << ")\n";
}

} // namespace

int main(int argc, char **argv) {
  const std::string templatePath =
      argc > 1 ? argv[1] : PACKJIT_SCALE_ROWS_TEMPLATE;
  std::string why;
  if (!torch::cuda::is_available() || !runtime::cudaDriverAvailable(&why)) {
    std::cout << "SKIP: no CUDA device"
              << (why.empty() ? " (torch sees none)" : ": " + why) << "\n";
    return 77;
  }
  try {
    // The template's header (T, BLOCK) and parameters (x, scale, cols), read
    // once; the family compiles the text it was read from.
    runtime::KernelFamily family(
        KernelContract::fromText("scale_rows", readTemplateFile(templatePath)));
    const runtime::ConstexprSlot block = family.slot("BLOCK");
    const at::Device device(at::kCUDA, 0);
    const int64_t rows = 37, cols = 1000, blockSize = 128;
    std::cout << "scale_rows from " << templatePath << ", " << rows << " x "
              << cols << ", BLOCK=" << blockSize << ", on " << device << ":\n";
    bool allMatch = true;
    for (at::ScalarType type :
         {at::kFloat, at::kHalf, at::kBFloat16, at::kDouble}) {
      at::Tensor x = at::randn({rows, cols},
                               at::TensorOptions().device(device).dtype(type));
      const at::Tensor scale = at::randn({rows}, x.options());
      // torch's answer: one rounding of each product, as the kernel's.
      const at::Tensor expected = x * scale.unsqueeze(1);
      scaleRows(family, block, blockSize, x, scale);
      const bool same = x.equal(expected);
      std::cout << "  " << type << ": "
                << (same ? "matches torch"
                         : "MISMATCH, largest difference " +
                               std::to_string(
                                   (x - expected).abs().max().item<double>()))
                << "\n";
      allMatch = allMatch && same;
    }
    return allMatch ? 0 : 1;
  } catch (const std::exception &e) {
    std::cerr << "custom_kernel: " << e.what() << "\n";
    return 1;
  }
}
