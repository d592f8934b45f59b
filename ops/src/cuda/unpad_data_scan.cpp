#include "unpad_data_scan.h"

#include "packjit/core/error.h" // before cuda_support.h, which uses it

#include "cuda_support.h"

#include "packjit/runtime/driver.h"
#include "packjit/runtime/launch.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <vector>

namespace packjit::ops::cuda {
namespace {

using runtime::Dim3;
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

// Tile statuses and counters, one per (device, stream): the kernel leaves
// them ready for its next launch, but two launches must never share one at
// the same time. Grown, never freed: a CUDA graph may hold a pointer to any
// of them.
class Workspaces {
public:
  static Workspaces &instance() {
    static Workspaces *workspaces =
        new Workspaces; // outlives static tensors' users
    return *workspaces;
  }

  void *get(const at::Tensor &like, CUstream stream, int64_t tiles,
            const char *op) {
    const int64_t words = kWorkspaceHeader + kWordsPerTile * tiles;
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<at::Tensor> &list =
        workspaces_[{like.device().index(), stream}];
    if (!list.empty() && list.back().numel() >= words)
      return list.back().data_ptr();
    CUstreamCaptureStatus capturing = CU_STREAM_CAPTURE_STATUS_NONE;
    PACKJIT_CUDA_CHECK(
        runtime::cudaDriver().cuStreamIsCapturing(stream, &capturing));
    TORCH_CHECK(
        capturing == CU_STREAM_CAPTURE_STATUS_NONE, op,
        ": a mask of this size needs a new scan workspace, which cannot be "
        "allocated while the stream is being captured; call the op once on "
        "the capturing stream with the largest mask before capturing");
    const int64_t grown =
        list.empty() ? words : std::max(words, 2 * list.back().numel());
    list.push_back(at::zeros({grown}, like.options().dtype(at::kLong)));
    return list.back().data_ptr();
  }

private:
  std::mutex mutex_;
  std::map<std::pair<int, CUstream>, std::vector<at::Tensor>> workspaces_;
};

KernelFamily &maskScanFamily() {
  static KernelFamily family("mask_scan",
                             {"BLOCK", "STRICT", "PADDED", "SEQ", "CHUNK"});
  return family;
}

// Constexprs in maskScanFamily()'s order: BLOCK, STRICT, PADDED, SEQ, CHUNK.
struct Specialization {
  DType dtype;
  int64_t constexprs[5];

  int64_t chunk() const { return constexprs[4]; }
  // Tiles of BLOCK threads x CHUNK bytes for `mask`: the grid.
  int64_t tiles(const at::Tensor &mask) const {
    const int64_t tileTokens = kBlock * (chunk() / mask.element_size());
    return (mask.numel() + tileTokens - 1) / tileTokens;
  }
};

Specialization specialization(const at::Tensor &mask,
                              const ScanRequest &request) {
  return {maskDType(mask.scalar_type()),
          {kBlock, request.strict ? 1 : 0, request.padded ? 1 : 0,
           specializedSeqLen(mask.size(1)), chunkBytes(mask)}};
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
  return maskScanFamily()
      .spec(mask.device().index(), {&s.dtype, 1}, s.constexprs)
      .canonical();
}

ScanBuffers launchMaskScan(const at::Tensor &maskIn, const ScanRequest &request,
                           const char *op) {
  const at::Tensor mask = loadableMask(maskIn);
  const int64_t n = mask.numel();
  const int64_t maxDocs = request.maxDocs < 0 ? n : request.maxDocs;
  const int64_t cuWords = (maxDocs + 2) / 2;
  ScanBuffers out;
  out.buffer = at::empty({n + kSummaryFields + cuWords},
                         mask.options().dtype(at::kLong));
  out.tokens = n;
  out.maxDocs = maxDocs;

  const Specialization s = specialization(mask, request);
  const int64_t tiles = s.tiles(mask);
  const CUstream stream = currentStream(mask);
  withRuntimeErrors(op, [&] {
    const runtime::Kernel &kernel = maskScanFamily().get(
        mask.device().index(), {&s.dtype, 1}, s.constexprs);
    CUdeviceptr maskPtr = reinterpret_cast<CUdeviceptr>(mask.data_ptr());
    CUdeviceptr indicesPtr = reinterpret_cast<CUdeviceptr>(out.indicesData());
    CUdeviceptr cuPtr = reinterpret_cast<CUdeviceptr>(out.cuSeqlensData());
    CUdeviceptr summaryPtr = reinterpret_cast<CUdeviceptr>(out.summaryData());
    CUdeviceptr workspacePtr = reinterpret_cast<CUdeviceptr>(
        Workspaces::instance().get(mask, stream, tiles, op));
    CUdeviceptr mailboxPtr = request.mailbox.address;
    int64_t sequence = request.mailbox.sequence;
    int64_t seqLen = mask.size(1);
    int64_t docs = maxDocs;
    int64_t tokens = n;
    void *args[] = {&maskPtr,    &tokens,  &seqLen,     &indicesPtr,
                    &cuPtr,      &docs,    &summaryPtr, &workspacePtr,
                    &mailboxPtr, &sequence};
    runtime::launch(kernel, Dim3{static_cast<unsigned>(tiles)},
                    Dim3{static_cast<unsigned>(kBlock)}, stream, args);
  });
  return out;
}

} // namespace packjit::ops::cuda
