#include "unpad_data_scan.h"

#include "cuda_support.h"
#include "stream_workspaces.h"

#include "packjit/plan/mask_scan.h"
#include "packjit/runtime/launch.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cstdlib>
#include <optional>

namespace packjit::ops::cuda {
namespace {

using runtime::ConstexprSlot;
using runtime::ConstexprValues;
using runtime::Dim3;
using runtime::KernelArg;
using runtime::KernelFamily;

constexpr int64_t kWorkspaceHeader = 8; // words before the tile statuses
constexpr int64_t kWordsPerTile = 16;

// PACKJIT_SCAN_CHUNK=32|64 forces the mask bytes per thread (benchmarks);
// anything else leaves the choice to the plan (packjit/plan/mask_scan.h).
int64_t forcedChunk() {
  static const int64_t forced = [] {
    const char *env = std::getenv("PACKJIT_SCAN_CHUNK");
    return plan::parseScanChunk(env ? env : "").value_or(0);
  }();
  return forced;
}

plan::ShapePolicy shapePolicy() {
  static const plan::ShapePolicy policy = [] {
    const char *env = std::getenv("PACKJIT_SHAPES");
    std::optional<plan::ShapePolicy> parsed =
        plan::parseShapePolicy(env ? env : "");
    if (!parsed)
      TORCH_WARN("packjit: PACKJIT_SHAPES=", env,
                 " is not exact, bucket or dynamic; using bucket");
    return parsed.value_or(plan::ShapePolicy::Bucket);
  }();
  return policy;
}

// Tile statuses and counters (kernels_src/mask_scan.mlir: `workspace`): word
// 0 the epoch, word 1 the finished-block count, then epoch-tagged tile
// statuses; all zero before a launch that uses them for the first time, and
// one launch at a time per workspace. The kernel leaves a workspace ready for
// its next launch, so eager launches reuse one per (device, stream), with no
// memset. Captured launches never use those (see launchMaskScan).
int64_t workspaceWords(int64_t tiles) {
  return kWorkspaceHeader + kWordsPerTile * tiles;
}

// Eager launches' workspaces, one per (device, stream); never shared with
// another kernel's.
StreamWorkspaces &maskScanWorkspaces() {
  static StreamWorkspaces *workspaces =
      new StreamWorkspaces; // outlives static tensors' users
  return *workspaces;
}

// The mask_scan family and its constexprs, by name.
struct MaskScanKernel {
  KernelFamily family{"mask_scan"};
  ConstexprSlot block = family.slot("BLOCK");
  ConstexprSlot strict = family.slot("STRICT");
  ConstexprSlot padded = family.slot("PADDED");
  ConstexprSlot seq = family.slot("SEQ");
  ConstexprSlot chunk = family.slot("CHUNK");
};

MaskScanKernel &maskScanKernel() {
  static MaskScanKernel kernel;
  return kernel;
}

// The family's values of the plan's constexprs.
ConstexprValues constexprValues(const plan::MaskScanConstexprs &c) {
  const MaskScanKernel &k = maskScanKernel();
  ConstexprValues values = k.family.defaults();
  values.set(k.block, c.block)
      .set(k.strict, c.strict)
      .set(k.padded, c.padded)
      .set(k.seq, c.seq)
      .set(k.chunk, c.chunk);
  return values;
}

// What a scan of one mask launches: chosen by the plan
// (packjit/plan/mask_scan.h), which `packjit aot --ops` bundles ahead of
// time. plan.generic() is the same launch with the row length read at run
// time.
struct Specialization {
  DType dtype;
  plan::MaskScanConstexprs plan;
  ConstexprValues constexprs; // of plan

  // Tiles of BLOCK threads x CHUNK bytes for `mask`: the grid.
  int64_t tiles(const at::Tensor &mask) const {
    return plan.tiles(mask.numel(), mask.element_size());
  }
};

Specialization specialization(const at::Tensor &mask,
                              const ScanRequest &request) {
  plan::MaskScanInput input;
  input.dtype = maskDType(mask.scalar_type());
  input.batch = mask.size(0);
  input.seqLen = mask.size(1);
  input.strict = request.strict;
  input.padded = request.padded;
  input.shapes = shapePolicy();
  input.forcedChunk = forcedChunk();
  const plan::MaskScanConstexprs constexprs = plan::maskScanConstexprs(input);
  return {input.dtype, constexprs, constexprValues(constexprs)};
}

} // namespace

std::string maskScanSpec(const at::Tensor &mask, const ScanRequest &request) {
  const Specialization s = specialization(mask, request);
  return maskScanKernel()
      .family.spec(mask.device().index(), {&s.dtype, 1}, s.constexprs)
      .canonical();
}

ScanBuffers launchMaskScan(const at::Tensor &maskIn, const ScanRequest &request,
                           const char *op) {
  const c10::cuda::CUDAStream torchStream =
      c10::cuda::getCurrentCUDAStream(maskIn.device().index());
  const CUstream stream = reinterpret_cast<CUstream>(torchStream.stream());
  // At most one driver query per launch: without PADDED the caller has
  // refused a capture already.
  const bool capturing = request.padded && withRuntimeErrors(op, [&] {
                           return streamIsCapturing(stream);
                         });

  const at::Tensor mask = contiguousAligned(maskIn);
  const int64_t n = mask.numel();
  const int64_t maxDocs = request.maxDocs < 0 ? n : request.maxDocs;
  ScanBuffers out;
  out.indicesBuffer = at::empty({n}, mask.options().dtype(at::kLong));
  out.cuSeqlensBuffer =
      at::empty({maxDocs + 1}, mask.options().dtype(at::kInt));
  out.summaryBuffer =
      at::empty({kSummaryFields}, mask.options().dtype(at::kLong));

  const Specialization s = specialization(mask, request);
  const int64_t tiles = s.tiles(mask);
  // While `stream` is being captured, this launch gets a workspace of its
  // own: from the caching allocator, so from the graph's private pool (the
  // graph owns it; it is free again once this call returns, like any
  // temporary of a captured op), zeroed by a fill enqueued on `stream` before
  // the kernel. The fill is captured too, so every replay starts from zero
  // whatever the pool's memory held before. A cached workspace is never
  // captured: graphs may replay concurrently with each other and with eager
  // calls, and a capture needs no warm-up on its stream.
  at::Tensor workspace; // alive until the launch is enqueued
  withRuntimeErrors(op, [&] {
    // A new specialization compiles in the background; meanwhile the same
    // kernel with SEQ=0 (S read at run time) serves (docs/runtime.md).
    const runtime::Kernel &kernel = maskScanKernel().family.getTiered(
        mask.device().index(), {&s.dtype, 1}, s.constexprs,
        constexprValues(s.plan.generic()));
    if (capturing)
      workspace =
          at::zeros({workspaceWords(tiles)}, mask.options().dtype(at::kLong));
    else
      workspace =
          maskScanWorkspaces().get(mask, torchStream, workspaceWords(tiles));
    runtime::launch(
        kernel, Dim3{static_cast<unsigned>(tiles)},
        Dim3{static_cast<unsigned>(s.plan.block)}, stream,
        {KernelArg::pointer(mask.data_ptr()), KernelArg::i64(n),
         KernelArg::i64(mask.size(1)), KernelArg::pointer(out.indicesData()),
         KernelArg::pointer(out.cuSeqlensData()), KernelArg::i64(maxDocs),
         KernelArg::pointer(out.summaryData()),
         KernelArg::pointer(workspace.data_ptr()),
         KernelArg::pointer(request.mailbox.address),
         KernelArg::i64(request.mailbox.sequence)});
  });
  return out;
}

} // namespace packjit::ops::cuda
