#include "owned_prefix.h"

#include "cuda_support.h"

#include "packjit/runtime/driver.h"

#include <ATen/ATen.h>

namespace packjit::ops::cuda {

namespace {
constexpr int64_t kAllowedSlackBytes = int64_t{1} << 20;
}

at::Tensor ownedPrefix(const at::Tensor &buffer, int64_t count) {
  const int64_t element = buffer.element_size();
  const int64_t slack = (buffer.numel() - count) * element;
  if (slack < kAllowedSlackBytes || count * 8 >= buffer.numel() * 7)
    return buffer.narrow(0, 0, count);
  at::Tensor owned = at::empty({count}, buffer.options());
  if (count != 0)
    withRuntimeErrors("packjit", [&] {
      PACKJIT_CUDA_CHECK(runtime::cudaDriver().cuMemcpyDtoDAsync(
          reinterpret_cast<CUdeviceptr>(owned.data_ptr()),
          reinterpret_cast<CUdeviceptr>(buffer.data_ptr()), count * element,
          currentStream(buffer)));
    });
  return owned;
}

} // namespace packjit::ops::cuda
