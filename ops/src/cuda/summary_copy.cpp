#include "summary_copy.h"

#include "cuda_support.h"

#include "packjit/runtime/driver.h"

#include <ATen/ATen.h>

#include <algorithm>

namespace packjit::ops::cuda {

HostSummary readSummary(const int64_t *summary, int64_t count,
                        const at::Tensor &like, const char *op) {
  TORCH_CHECK(count <= kMaxSummaryFields, op,
              ": internal error: summary too long");
  // Pinned, so that the copy is a true async DMA; one per thread, reused.
  thread_local at::Tensor pinned =
      at::empty({kMaxSummaryFields},
                at::TensorOptions().dtype(at::kLong).pinned_memory(true));
  const CUstream stream = currentStream(like);
  withRuntimeErrors(op, [&] {
    const runtime::CudaDriver &driver = runtime::cudaDriver();
    PACKJIT_CUDA_CHECK(driver.cuMemcpyDtoHAsync(
        pinned.data_ptr(), reinterpret_cast<CUdeviceptr>(summary),
        count * sizeof(int64_t), stream));
    PACKJIT_CUDA_CHECK(driver.cuStreamSynchronize(stream));
  });
  HostSummary out{};
  std::copy_n(pinned.data_ptr<int64_t>(), count, out.begin());
  return out;
}

} // namespace packjit::ops::cuda
