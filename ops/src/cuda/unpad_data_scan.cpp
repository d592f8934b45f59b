#include "unpad_data_scan.h"

#include "cuda_support.h"
#include "stream_workspaces.h"

#include "packjit/runtime/launch.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace packjit::ops::cuda {
namespace {

using runtime::ConstexprSlot;
using runtime::ConstexprValues;
using runtime::Dim3;
using runtime::KernelArg;
using runtime::KernelFamily;

constexpr int64_t kBlock = 256;
constexpr int64_t kWorkspaceHeader = 8; // words before the tile statuses
constexpr int64_t kWordsPerTile = 16;

DType maskDType(at::ScalarType type) {
  switch (type) {
  case at::kLong:
    return DType::Int64;
  case at::kInt:
    return DType::Int32;
  case at::kShort:
    return DType::Int16;
  case at::kChar:
    return DType::Int8;
  case at::kByte:
    return DType::UInt8;
  case at::kBool:
    return DType::Bool;
  default:
    TORCH_CHECK(false, "unreachable: dtype checked by checkAttentionMask");
  }
}

// Mask bytes per thread (the template's CHUNK), measured on the H100:
// - while every tile is resident at once, the kernel's time is one tile's
//   latency chain plus one look-back step per window of 32 predecessors
//   (mask_scan.mlir): 32 bytes when that gives at most 32 tiles, else 8
//   tokens per thread (128K int64 tokens: 10.3 us with 64 tiles, 11.0 with
//   128; int32: 9.5 us with 8 tokens per thread, 12.3 with 16). A 64-tile
//   window (two tiles per lane) saved ~0.8 us at 64 tiles but cost 10 % at
//   64x65536 (register spills in the look-back): not kept;
// - beyond 4 MB of mask, 64 bytes: half the tiles, look-backs and fences
//   (64x65536 int64: 106 against 150 us).
// PACKJIT_SCAN_CHUNK=32|64 forces one (benchmarks).
constexpr int64_t kLargeMaskBytes = int64_t{4} << 20;
constexpr int64_t kLookBackWindow = 32;

int64_t chunkBytes(const at::Tensor &mask) {
  static const int64_t forced = [] {
    const char *env = std::getenv("PACKJIT_SCAN_CHUNK");
    if (env && std::strcmp(env, "32") == 0)
      return int64_t{32};
    if (env && std::strcmp(env, "64") == 0)
      return int64_t{64};
    return int64_t{0};
  }();
  if (forced)
    return forced;
  const int64_t bytes = mask.numel() * mask.element_size();
  if (bytes > kLargeMaskBytes)
    return 64;
  const int64_t tileBytes32 = kBlock * 32;
  if ((bytes + tileBytes32 - 1) / tileBytes32 <= kLookBackWindow)
    return 32;
  return std::clamp<int64_t>(8 * mask.element_size(), 32, 64);
}

enum class ShapePolicy { Exact, Bucket, Dynamic };

ShapePolicy shapePolicy() {
  static const ShapePolicy policy = [] {
    const char *env = std::getenv("PACKJIT_SHAPES");
    if (!env || !*env || std::strcmp(env, "bucket") == 0)
      return ShapePolicy::Bucket;
    if (std::strcmp(env, "exact") == 0)
      return ShapePolicy::Exact;
    if (std::strcmp(env, "dynamic") == 0)
      return ShapePolicy::Dynamic;
    TORCH_WARN("packjit: PACKJIT_SHAPES=", env,
               " is not exact, bucket or dynamic; using bucket");
    return ShapePolicy::Bucket;
  }();
  return policy;
}

// The kernel reads whole 16-byte words: a strided or misaligned view is
// copied first (a fresh allocation is aligned).
at::Tensor loadableMask(const at::Tensor &mask) {
  const bool aligned = reinterpret_cast<uintptr_t>(mask.data_ptr()) % 16 == 0;
  if (mask.is_contiguous() && aligned)
    return mask;
  return mask.clone(at::MemoryFormat::Contiguous);
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

struct Specialization {
  DType dtype;
  ConstexprValues constexprs;

  int64_t chunk() const { return constexprs[maskScanKernel().chunk]; }
  // Tiles of BLOCK threads x CHUNK bytes for `mask`: the grid.
  int64_t tiles(const at::Tensor &mask) const {
    const int64_t tileTokens = kBlock * (chunk() / mask.element_size());
    return (mask.numel() + tileTokens - 1) / tileTokens;
  }
};

Specialization specialization(const at::Tensor &mask,
                              const ScanRequest &request) {
  const MaskScanKernel &k = maskScanKernel();
  ConstexprValues values = k.family.defaults();
  values.set(k.block, kBlock)
      .set(k.strict, request.strict ? 1 : 0)
      .set(k.padded, request.padded ? 1 : 0)
      .set(k.seq, specializedSeqLen(mask.size(1)))
      .set(k.chunk, chunkBytes(mask));
  return {maskDType(mask.scalar_type()), values};
}

} // namespace

int64_t specializedSeqLen(int64_t seqLen) {
  switch (shapePolicy()) {
  case ShapePolicy::Exact:
    return seqLen;
  case ShapePolicy::Bucket:
    return (seqLen & (seqLen - 1)) == 0 ? seqLen : 0;
  case ShapePolicy::Dynamic:
    return 0;
  }
  return 0;
}

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

  const at::Tensor mask = loadableMask(maskIn);
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
    MaskScanKernel &k = maskScanKernel();
    ConstexprValues generic = s.constexprs;
    generic.set(k.seq, 0);
    const runtime::Kernel &kernel = k.family.getTiered(
        mask.device().index(), {&s.dtype, 1}, s.constexprs, generic);
    if (capturing)
      workspace =
          at::zeros({workspaceWords(tiles)}, mask.options().dtype(at::kLong));
    else
      workspace = maskScanWorkspaces().get(mask, torchStream,
                                             workspaceWords(tiles));
    runtime::launch(
        kernel, Dim3{static_cast<unsigned>(tiles)},
        Dim3{static_cast<unsigned>(kBlock)}, stream,
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
