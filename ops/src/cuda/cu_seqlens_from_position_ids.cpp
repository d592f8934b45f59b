// cu_seqlens_from_position_ids and its sync-free variant on CUDA: one
// position_ids_scan launch each (kernels_src/position_ids_scan.mlir: one
// pass, tiles chained by decoupled look-back). The eager op waits for the
// summary the kernel posts into this thread's host mailbox (no copy, no
// stream sync), so it refuses a capture; the padded variant waits for
// nothing. Narrow position dtypes are widened to int32 first (the template
// reads int64 and int32); without strict mode the smallest position comes
// from one torch reduction first.
#include "../cu_seqlens_from_position_ids_checks.h"
#include "../find_op.h"
#include "../sym_size.h"
#include "cuda_support.h"
#include "host_mailbox.h"
#include "owned_prefix.h"
#include "stream_workspaces.h"

#include "packjit/plan/position_ids_scan.h"
#include "packjit/runtime/launch.h"

#include <ATen/ATen.h>

#include <cstdlib>
#include <optional>
#include <torch/library.h>

namespace packjit::ops::cuda {
namespace {

using runtime::ConstexprSlot;
using runtime::Dim3;
using runtime::KernelArg;
using runtime::KernelFamily;

// The kernel's workspace: 12 header words (8..11: the eager launch's
// summary), then one status word per tile.
constexpr int64_t kWorkspaceHeader = 12;
constexpr int64_t kEagerSummaryWord = 8;
// Summary words: N, D, longest, invalid.
constexpr int64_t kDocs = 1, kLongest = 2, kInvalid = 3;
constexpr int64_t kSummaryWords = 4;

struct PositionIdsKernel {
  KernelFamily family{"position_ids_scan"};
  ConstexprSlot block = family.slot("BLOCK");
  ConstexprSlot strict = family.slot("STRICT");
  ConstexprSlot padded = family.slot("PADDED");
  ConstexprSlot chunks = family.slot("CHUNKS");

  runtime::ConstexprValues values(const plan::PositionIdsScanPlan &plan) {
    runtime::ConstexprValues v = family.defaults();
    v.set(block, plan.block)
        .set(strict, plan.strict)
        .set(padded, plan.padded)
        .set(chunks, plan.chunks);
    return v;
  }
};

// PACKJIT_POSITION_IDS_CHUNKS=1..4 forces the chunks per thread
// (benchmarks); `packjit aot --ops` reads it the same way.
int64_t forcedChunks() {
  static const int64_t forced = [] {
    const char *env = std::getenv("PACKJIT_POSITION_IDS_CHUNKS");
    std::optional<int64_t> parsed =
        plan::parsePositionIdsChunks(env ? env : "");
    if (!parsed)
      TORCH_WARN("packjit: ignoring PACKJIT_POSITION_IDS_CHUNKS=", env,
                 " (expected 1, 2, 3 or 4)");
    return parsed.value_or(0);
  }();
  return forced;
}

StreamWorkspaces &positionIdsWorkspaces() {
  static StreamWorkspaces *workspaces =
      new StreamWorkspaces; // outlives static tensors' users
  return *workspaces;
}

// Int64 or int32 ids as the kernel reads them (contiguousAligned); a copy
// only when the input is neither.
at::Tensor loadablePositions(const at::Tensor &rows) {
  const bool wide =
      rows.scalar_type() == at::kLong || rows.scalar_type() == at::kInt;
  return contiguousAligned(wide ? rows : rows.to(at::kInt));
}

struct ScanLaunch {
  bool strict = true;
  bool padded = false;
  int64_t maxDocs = 0;
  at::Tensor cuSeqlens;        // room for maxDocs + 1
  at::Tensor summary;          // PADDED: the result; else unused
  HostMailbox::Ticket mailbox; // without PADDED
};

// Enqueues the scan of `positions` (loadablePositions, N >= 1) on the
// current stream. A captured launch gets a zeroed workspace of its own.
void launchPositionIdsScan(const at::Tensor &positions,
                           const ScanLaunch &request, bool capturing,
                           const char *op) {
  static PositionIdsKernel k;
  plan::PositionIdsScanPlan plan = plan::positionIdsScanPlan(
      {positions.scalar_type() == at::kLong ? DType::Int64 : DType::Int32,
       positions.size(0), positions.size(1), request.strict, request.padded,
       forcedChunks()});
  const int64_t n = positions.numel();
  const at::Tensor smallest =
      request.strict ? at::Tensor() : at::amin(positions);
  withRuntimeErrors(op, [&] {
    // A new CHUNKS compiles in the background; meanwhile the one-chunk
    // kernel serves, with its own (larger) grid.
    const runtime::Kernel &kernel =
        k.family.getTiered(positions.device().index(), {&plan.dtype, 1},
                           k.values(plan), k.values(plan.generic()));
    plan.chunks = kernel.spec.constexprs.at("CHUNKS");
    const int64_t tileTokens = plan.tileTokens();
    const int64_t tiles = (n + tileTokens - 1) / tileTokens;
    const int64_t words = kWorkspaceHeader + tiles;
    const c10::cuda::CUDAStream torchStream =
        c10::cuda::getCurrentCUDAStream(positions.device().index());
    const at::Tensor workspace =
        capturing ? at::zeros({words}, positions.options().dtype(at::kLong))
                  : positionIdsWorkspaces().get(positions, torchStream, words);
    int64_t *summary = request.padded
                           ? request.summary.data_ptr<int64_t>()
                           : workspace.data_ptr<int64_t>() + kEagerSummaryWord;
    runtime::launch(
        kernel, Dim3{static_cast<unsigned>(tiles)},
        Dim3{static_cast<unsigned>(plan.block)},
        reinterpret_cast<CUstream>(torchStream.stream()),
        {KernelArg::pointer(positions.data_ptr()), KernelArg::i64(n),
         KernelArg::i64(positions.size(1)),
         KernelArg::pointer(smallest.defined() ? smallest.data_ptr() : nullptr),
         KernelArg::pointer(request.cuSeqlens.data_ptr()),
         KernelArg::i64(request.maxDocs), KernelArg::pointer(summary),
         KernelArg::pointer(workspace.data_ptr()),
         KernelArg::pointer(request.mailbox.address),
         KernelArg::i64(request.mailbox.sequence)});
  });
}

// Raises the CPU path's error for the first offending position (the kernel
// only knows that one exists), in the shape the caller passed (1-D ids are
// named position_ids[k]).
[[noreturn]] void reportViolation(const at::Tensor &positions,
                                  const at::Tensor &positionIds,
                                  const char *op) {
  static auto cpuOp =
      findOp<std::tuple<at::Tensor, SymSize>(const at::Tensor &, bool)>(
          "packjit::cu_seqlens_from_position_ids");
  const at::Tensor onHost = positions.cpu();
  cpuOp.call(positionIds.dim() == 1 ? onHost.reshape({-1}) : onHost, true);
  TORCH_CHECK(false, op,
              ": internal error: the CUDA scan found a strict-mode "
              "violation that the CPU scan does not");
}

std::tuple<at::Tensor, SymSize>
cuSeqlensFromPositionIds(const at::Tensor &positionIds, bool strict) {
  constexpr const char *op = "packjit.cu_seqlens_from_position_ids";
  const at::Tensor rows = asRowsOfPositions(positionIds);
  c10::cuda::CUDAGuard guard(rows.device());
  checkNotCapturing(rows, op,
                    "Use packjit.cu_seqlens_from_position_ids_padded inside "
                    "graphs: the same boundaries at a fixed shape, with D and "
                    "max_seqlen in its summary tensor, on the device.");
  if (rows.numel() == 0)
    return {at::zeros({1}, rows.options().dtype(at::kInt)), 0};
  const at::Tensor positions = loadablePositions(rows);
  const int64_t n = positions.numel();
  HostMailbox &mailbox = withRuntimeErrors(op, [&]() -> HostMailbox & {
    return HostMailbox::forThisThread(positions.device().index());
  });
  ScanLaunch request;
  request.strict = strict;
  request.maxDocs = n;
  request.cuSeqlens = at::empty({n + 1}, positions.options().dtype(at::kInt));
  request.mailbox = mailbox.next();
  launchPositionIdsScan(positions, request, /*capturing=*/false, op);
  const auto summary = withRuntimeErrors(op, [&] {
    return mailbox.wait(request.mailbox, currentStream(positions));
  });
  if (summary[kInvalid] != 0)
    reportViolation(positions, positionIds, op);
  const int64_t docs = summary[kDocs];
  return {ownedPrefix(request.cuSeqlens, docs + 1), summary[kLongest]};
}

std::tuple<at::Tensor, at::Tensor>
cuSeqlensFromPositionIdsPadded(const at::Tensor &positionIds, bool strict,
                               int64_t maxDocuments) {
  constexpr const char *op = "packjit.cu_seqlens_from_position_ids_padded";
  const at::Tensor rows = asRowsOfPositions(positionIds);
  checkPositionIdsMaxDocuments(maxDocuments);
  c10::cuda::CUDAGuard guard(rows.device());
  const int64_t n = rows.numel();
  const int64_t maxDocs = maxDocuments < 0 ? n : maxDocuments;
  ScanLaunch request;
  request.strict = strict;
  request.padded = true;
  request.maxDocs = maxDocs;
  request.cuSeqlens = at::empty({maxDocs + 1}, rows.options().dtype(at::kInt));
  request.summary = at::empty({kSummaryWords}, rows.options().dtype(at::kLong));
  if (n == 0) {
    request.cuSeqlens.zero_();
    request.summary.zero_();
    return {request.cuSeqlens, request.summary};
  }
  const bool capturing = withRuntimeErrors(
      op, [&] { return streamIsCapturing(currentStream(rows)); });
  launchPositionIdsScan(loadablePositions(rows), request, capturing, op);
  return {request.cuSeqlens, request.summary};
}

} // namespace

TORCH_LIBRARY_IMPL(packjit, CUDA, m) {
  m.impl("cu_seqlens_from_position_ids", &cuSeqlensFromPositionIds);
  m.impl("cu_seqlens_from_position_ids_padded",
         &cuSeqlensFromPositionIdsPadded);
}

} // namespace packjit::ops::cuda
