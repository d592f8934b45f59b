// is_indexed_packed_mask on CUDA: one mask_any_gt1 launch
// (kernels_src/mask_any_gt1.mlir), whose last block posts the answer into
// this thread's host mailbox; threads stop reading once the answer is known.
// Installed into the composite op at load time (is_indexed_packed_mask.h).
#include "../is_indexed_packed_mask.h"
#include "cuda_support.h"
#include "host_mailbox.h"
#include "stream_workspaces.h"

#include "packjit/plan/mask_any_gt1.h"
#include "packjit/runtime/launch.h"

#include <ATen/ATen.h>
#include <ATen/cuda/CUDAContext.h>

#include <algorithm>

namespace packjit::ops::cuda {
namespace {

using runtime::Dim3;
using runtime::KernelArg;
using runtime::KernelFamily;

// Blocks per SM: enough 16-byte loads in flight to stream the mask at the
// memory's speed; every thread loops over the rest.
constexpr int64_t kBlocksPerSm = 8;

bool anyAboveOne(const at::Tensor &maskIn) {
  constexpr const char *op = "packjit.is_indexed_packed_mask";
  c10::cuda::CUDAGuard guard(maskIn.device());
  checkNotCapturing(maskIn, op,
                    "Decide the mask's kind outside the graph (it does not "
                    "change between replays).");
  const at::Tensor mask = contiguousAligned(maskIn);
  const int device = mask.device().index();
  HostMailbox &mailbox = withRuntimeErrors(op, [&]() -> HostMailbox & {
    return HostMailbox::forThisThread(device);
  });
  const HostMailbox::Ticket ticket = mailbox.next();
  static StreamWorkspaces *workspaces = new StreamWorkspaces;
  const c10::cuda::CUDAStream stream = c10::cuda::getCurrentCUDAStream(device);
  const at::Tensor workspace = workspaces->get(mask, stream, 2);
  const int64_t words = (mask.numel() * mask.element_size() + 15) / 16;
  const int64_t sms =
      at::cuda::getDeviceProperties(device)->multiProcessorCount;
  const plan::MaskAnyGt1Plan plan =
      plan::maskAnyGt1Plan(maskDType(mask.scalar_type()));
  const int64_t blocks = std::clamp<int64_t>(
      (words + plan.block - 1) / plan.block, 1, kBlocksPerSm * sms);
  withRuntimeErrors(op, [&] {
    static KernelFamily family(plan::kMaskAnyGt1Kernel);
    static const runtime::ConstexprSlot block = family.slot("BLOCK");
    runtime::ConstexprValues values = family.defaults();
    values.set(block, plan.block);
    const runtime::Kernel &kernel =
        family.get(device, {&plan.dtype, 1}, values);
    runtime::launch(
        kernel, Dim3{static_cast<unsigned>(blocks)},
        Dim3{static_cast<unsigned>(plan.block)},
        reinterpret_cast<CUstream>(stream.stream()),
        {KernelArg::pointer(mask.data_ptr()), KernelArg::i64(mask.numel()),
         KernelArg::pointer(workspace.data_ptr()),
         KernelArg::pointer(ticket.address), KernelArg::i64(ticket.sequence)});
  });
  const auto answer = withRuntimeErrors(op, [&] {
    return mailbox.wait(ticket, reinterpret_cast<CUstream>(stream.stream()));
  });
  return answer[0] != 0;
}

[[maybe_unused]] const bool installed =
    (installCudaAnyAboveOne(&anyAboveOne), true);

} // namespace
} // namespace packjit::ops::cuda
