#include "summary_copy.h"

#include "packjit/core/error.h" // before cuda_support.h, which uses it
#include "cuda_support.h"

#include "packjit/runtime/driver.h"

#include <ATen/ATen.h>

#include <algorithm>

namespace packjit::ops::cuda {

HostSummary readSummary(const at::Tensor &summary, const char *op) {
  TORCH_CHECK(summary.numel() <= kMaxSummaryFields && summary.is_contiguous() &&
                  summary.scalar_type() == at::kLong,
              op, ": internal error: bad summary tensor");
  // Pinned, so that the copy is a true async DMA; one per thread, reused.
  thread_local at::Tensor pinned = at::empty(
      {kMaxSummaryFields}, at::TensorOptions().dtype(at::kLong).pinned_memory(true));
  const CUstream stream = currentStream(summary);
  withRuntimeErrors(op, [&] {
    const runtime::CudaDriver &driver = runtime::cudaDriver();
    PACKJIT_CUDA_CHECK(driver.cuMemcpyDtoHAsync(
        pinned.data_ptr(), reinterpret_cast<CUdeviceptr>(summary.data_ptr()),
        summary.numel() * sizeof(int64_t), stream));
    PACKJIT_CUDA_CHECK(driver.cuStreamSynchronize(stream));
  });
  HostSummary out{};
  std::copy_n(pinned.data_ptr<int64_t>(), summary.numel(), out.begin());
  return out;
}

} // namespace packjit::ops::cuda
