// The CUDA kernels of unpad_input / pad_input / unpad_inputs: the
// JIT-compiled gather_rows and scatter_rows templates, launched through the
// runtime on PyTorch's current stream.
//
// A row is copied as raw words: 16 bytes where the row's bytes, its stride
// and both base addresses allow, else the widest of 8, 4 or 2 bytes, so the
// kernels are specialized per word and per row width in words (bf16 rows of
// 8x128 elements run as 128 16-byte words). Sources are read at their row
// stride (q, k, v views of a packed qkv need no copy); unpad_inputs gathers
// up to three tensors in one launch. pad_input never zero-fills separately on
// large outputs: it
// builds the inverse map (output row -> input row, -1 for padding) with a
// scatter of row numbers, then gathers every output row, and the gather
// writes zeros where the map says -1.
//
// PACKJIT_CHECK=1 (a debug mode: a sync per call) launches the CHECK=1
// kernels on a copy of the indices followed by a flag word, reads the flag
// back and raises as the CPU kernels do: the first index out of range, and
// for pad_input a repeated index.
#include "../unpad_input_checks.h"
#include "cuda_support.h"
#include "packjit/plan/row_copy.h"
#include "packjit/runtime/launch.h"
#include "packjit/runtime/settings.h"

#include <ATen/ATen.h>
#include <torch/library.h>

#include <cstdlib>
#include <optional>
#include <span>

namespace packjit::ops::cuda {
namespace {

using runtime::ConstexprSlot;
using runtime::Dim3;
using runtime::KernelArg;
using runtime::KernelFamily;

constexpr int64_t kMaxTensorsPerLaunch = 3; // gather_rows' (src, dst) pairs

// How the kernels move a row, and their constexprs for it: chosen by the
// plan (packjit/plan/row_copy.h), which `packjit aot --ops` bundles ahead of
// time.
using plan::RowWord;

RowWord wordFor(int64_t rowBytes, int64_t strideBytes,
                std::initializer_list<const void *> pointers) {
  uint64_t addressBits = 0;
  for (const void *p : pointers)
    addressBits |= reinterpret_cast<uintptr_t>(p);
  std::optional<RowWord> word =
      plan::rowWord(rowBytes, strideBytes, addressBits);
  TORCH_CHECK(word, "packjit: rows of ", rowBytes,
              " bytes at odd addresses cannot be copied by the CUDA kernels");
  return *word;
}

KernelArg address(const at::Tensor &t) {
  return KernelArg::pointer(t.data_ptr());
}

// gather_rows or scatter_rows (the same constexprs): the family, its
// constexprs by name and the longest row its header allows.
struct RowKernel {
  explicit RowKernel(const char *name)
      : family(name), block(family.slot("BLOCK")), row(family.slot("ROW")),
        lanes(family.slot("LANES")), wide(family.slot("WIDE")),
        check(family.slot("CHECK")),
        maxRowWords(family.contract().constexprParameter("ROW").max) {}

  KernelFamily family;
  ConstexprSlot block, row, lanes, wide, check;
  int64_t maxRowWords;
};

RowKernel &gatherKernel() {
  static RowKernel kernel("gather_rows");
  return kernel;
}

RowKernel &scatterKernel() {
  static RowKernel kernel("scatter_rows");
  return kernel;
}

// One row copy: `src` and `dst` 2-D, rows contiguous, any row stride.
struct RowCopy {
  at::Tensor src;
  at::Tensor dst;
};

int64_t rowBytesOf(const at::Tensor &rows) {
  return rows.size(1) * rows.element_size();
}

RowWord wordOf(const RowCopy &copy) {
  return wordFor(rowBytesOf(copy.src),
                 copy.src.stride(0) * copy.src.element_size(),
                 {copy.src.data_ptr(), copy.dst.data_ptr()});
}

// The indices a kernel reads, and whether it checks them (CHECK=1): then
// `tensor` holds the indices and, after them, the flag word the kernel
// lowers to the first position out of range.
struct KernelIndices {
  at::Tensor tensor;
  bool checked = false;
};

// `indices` (contiguous) as the kernels read them: as they are, or under
// PACKJIT_CHECK=1 copied ahead of a flag word set to their count.
KernelIndices kernelIndices(const at::Tensor &indices) {
  if (!runtime::deviceChecksFromEnvironment())
    return {indices, false};
  const int64_t count = indices.size(0);
  at::Tensor withFlag = at::empty({count + 1}, indices.options());
  withFlag.narrow(0, 0, count).copy_(indices);
  withFlag.narrow(0, count, 1).fill_(count);
  return {withFlag, true};
}

// After a CHECK=1 launch: waits for it and raises checkIndicesInRange's
// error for the first index it found out of range.
void raiseOnIndexOutOfRange(const KernelIndices &indices, int64_t rows,
                            const char *op, const char *rowsWhat) {
  if (!indices.checked)
    return;
  const int64_t count = indices.tensor.size(0) - 1;
  const int64_t first = indices.tensor[count].item<int64_t>(); // syncs
  if (first < count)
    throwIndexOutOfRange(op, first, indices.tensor[first].item<int64_t>(), rows,
                         rowsWhat);
}

// PACKJIT_CHECK=1, pad_input: a repeated index raises checkIndicesDistinct's
// error. Sorted on the device; only a failure copies the indices to the
// host, to name the two positions as the CPU does.
void raiseOnRepeatedIndex(const KernelIndices &indices, int64_t rows,
                          const char *op) {
  if (!indices.checked)
    return;
  const int64_t count = indices.tensor.size(0) - 1;
  const at::Tensor values = indices.tensor.narrow(0, 0, count);
  if (count < 2)
    return;
  const at::Tensor sorted = std::get<0>(values.sort());
  if (sorted.narrow(0, 1, count - 1)
          .eq(sorted.narrow(0, 0, count - 1))
          .any()
          .item<bool>()) // syncs
    checkIndicesDistinct(values.cpu(), rows, op);
}

// The launch over `rows` rows (one group of BLOCK / LANES threads per row),
// `tensors` grid rows deep; `checked`: the CHECK=1 kernel.
void launchRows(RowKernel &rowKernel, const char *op, const at::Tensor &like,
                RowWord word, int64_t rowWords, int64_t rows, unsigned tensors,
                bool checked, std::span<const KernelArg> args) {
  TORCH_CHECK(rowWords <= rowKernel.maxRowWords, op, ": rows of ", rowWords,
              " ", word.bytes, "-byte words exceed the kernels' limit of ",
              rowKernel.maxRowWords);
  const plan::RowCopyConstexprs c =
      plan::rowCopyConstexprs(word, rowWords, checked);
  const int64_t rowsPerBlock = c.block / c.lanes;
  const int64_t blocks = std::min<int64_t>(
      (rows + rowsPerBlock - 1) / rowsPerBlock, int64_t{1} << 30);
  withRuntimeErrors(op, [&] {
    const DType dtypes[] = {word.dtype};
    runtime::ConstexprValues values = rowKernel.family.defaults();
    values.set(rowKernel.block, c.block)
        .set(rowKernel.row, c.row)
        .set(rowKernel.lanes, c.lanes)
        .set(rowKernel.wide, c.wide)
        .set(rowKernel.check, c.check);
    const runtime::Kernel &kernel =
        rowKernel.family.get(like.device().index(), dtypes, values);
    runtime::launch(kernel, Dim3{static_cast<unsigned>(blocks), tensors},
                    Dim3{static_cast<unsigned>(c.block)}, currentStream(like),
                    args);
  });
}

// dst_t row i = src_t row indices[i] for i < count and each copy t (at most
// kMaxTensorsPerLaunch, all of one word and row width): one launch. An
// index outside [0, srcRows) writes a row of zeros (and is reported when
// `indices` is checked).
void gatherRows(const char *op, const at::Tensor &like,
                std::span<const RowCopy> copies, RowWord word,
                const KernelIndices &indices, int64_t count, int64_t srcRows) {
  // Unused copies repeat the last one.
  auto copy = [&copies](size_t t) -> const RowCopy & {
    return copies[std::min(t, copies.size() - 1)];
  };
  auto stride = [&](size_t t) {
    return KernelArg::i64(copy(t).src.stride(0) * copy(t).src.element_size() /
                          word.bytes);
  };
  static_assert(kMaxTensorsPerLaunch == 3);
  const KernelArg args[] = {address(copy(0).src),
                            address(copy(0).dst),
                            address(copy(1).src),
                            address(copy(1).dst),
                            address(copy(2).src),
                            address(copy(2).dst),
                            address(indices.tensor),
                            KernelArg::i64(count),
                            KernelArg::i64(srcRows),
                            stride(0),
                            stride(1),
                            stride(2)};
  launchRows(gatherKernel(), op, like, word,
             rowBytesOf(copies[0].src) / word.bytes, count,
             static_cast<unsigned>(copies.size()), indices.checked, args);
}

void gatherRows(const char *op, const at::Tensor &like, const RowCopy &copy,
                const KernelIndices &indices, int64_t count, int64_t srcRows) {
  gatherRows(op, like, std::span<const RowCopy>(&copy, 1), wordOf(copy),
             indices, count, srcRows);
}

// dst row indices[i] = src row i for i < count; an index outside
// [0, dstRows) writes nothing (and is reported when `indices` is checked).
void scatterRows(const char *op, const at::Tensor &like, const RowCopy &copy,
                 const KernelIndices &indices, int64_t count, int64_t dstRows) {
  const RowWord word = wordOf(copy);
  const KernelArg args[] = {
      address(copy.src),
      address(copy.dst),
      address(indices.tensor),
      KernelArg::i64(count),
      KernelArg::i64(dstRows),
      KernelArg::i64(copy.src.stride(0) * copy.src.element_size() /
                     word.bytes)};
  launchRows(scatterKernel(), op, like, word, rowBytesOf(copy.src) / word.bytes,
             count, 1, indices.checked, args);
}

// The output of unpad_input(hidden, indices) and the row copy that fills it;
// hidden's rows are read in place when [B, S] merge into one stride.
std::pair<at::Tensor, RowCopy> unpadPlan(const at::Tensor &hidden,
                                         const at::Tensor &indices) {
  std::vector<int64_t> shape = trailingSizes(hidden, 2);
  shape.insert(shape.begin(), indices.size(0));
  at::Tensor out = at::empty(shape, hidden.options());
  if (out.numel() == 0)
    return {out, {}};
  at::Tensor src = rowsOf(hidden, 2);
  return {out, {src, out.view({indices.size(0), src.size(1)})}};
}

at::Tensor unpadInput(const at::Tensor &hidden, const at::Tensor &indices) {
  constexpr const char *op = "packjit.unpad_input";
  checkUnpadInput(hidden, indices, op);
  c10::cuda::CUDAGuard guard(hidden.device());
  auto [out, copy] = unpadPlan(hidden, indices);
  if (out.numel() == 0)
    return out;
  const KernelIndices index = kernelIndices(indices.contiguous());
  gatherRows(op, hidden, copy, index, indices.size(0), copy.src.size(0));
  raiseOnIndexOutOfRange(index, copy.src.size(0), op,
                         "hidden has batch*seqlen rows");
  return out;
}

// PACKJIT_PAD_INPUT=scatter|gather forces pad_input's strategy (else the
// plan picks it by output size); read on every call so that a benchmark can
// time both in one process.
std::optional<plan::PadStrategy> forcedPadStrategy() {
  const char *env = std::getenv("PACKJIT_PAD_INPUT");
  return env ? plan::parsePadStrategy(env) : std::nullopt;
}

at::Tensor padInput(const at::Tensor &x, const at::Tensor &indices,
                    int64_t batch, int64_t seqlen) {
  constexpr const char *op = "packjit.pad_input";
  checkPadInput(x, indices, batch, seqlen, op);
  c10::cuda::CUDAGuard guard(x.device());
  std::vector<int64_t> shape = trailingSizes(x, 1);
  shape.insert(shape.begin(), {batch, seqlen});
  const int64_t rows = batch * seqlen;
  const int64_t nnz = x.size(0);
  const int64_t outBytes = rows * rowElements(x, 1) * x.element_size();
  const plan::PadStrategy strategy =
      plan::padInputStrategy(outBytes, forcedPadStrategy());
  const KernelIndices index = kernelIndices(indices.contiguous());
  constexpr const char *rowsWhat = "the output has batch*seqlen rows";
  if (nnz == 0 || outBytes == 0 || strategy == plan::PadStrategy::Scatter) {
    at::Tensor out = at::zeros(shape, x.options());
    if (nnz == 0 || outBytes == 0)
      return out;
    at::Tensor src = rowsOf(x, 1); // rows read in place at any row stride
    scatterRows(op, x, {src, out.view({rows, src.size(1)})}, index, nnz, rows);
    raiseOnIndexOutOfRange(index, rows, op, rowsWhat);
    raiseOnRepeatedIndex(index, rows, op);
    return out;
  }
  // inverse[indices[i]] = i, -1 elsewhere: an i64 scatter of row numbers.
  at::Tensor inverse = at::full({rows, 1}, -1, indices.options());
  at::Tensor rowNumbers = at::arange(nnz, indices.options()).view({nnz, 1});
  scatterRows(op, x, {rowNumbers, inverse}, index, nnz, rows);
  raiseOnIndexOutOfRange(index, rows, op, rowsWhat);
  raiseOnRepeatedIndex(index, rows, op);
  at::Tensor out = at::empty(shape, x.options());
  at::Tensor src = rowsOf(x, 1);
  // The map's -1 rows are padding, not errors: never checked.
  gatherRows(op, x, {src, out.view({rows, src.size(1)})},
             KernelIndices{inverse.view({rows})}, rows, nnz);
  return out;
}

// One gather_rows launch for each run of up to three tensors that share a
// word and a row width (q, k and v of one attention layer: one launch).
std::vector<at::Tensor> unpadInputs(at::TensorList hidden,
                                    const at::Tensor &indices) {
  constexpr const char *op = "packjit.unpad_inputs";
  for (const at::Tensor &h : hidden)
    checkUnpadInput(h, indices, op);
  std::vector<at::Tensor> out;
  if (hidden.empty())
    return out;
  c10::cuda::CUDAGuard guard(hidden[0].device());
  const KernelIndices index = kernelIndices(indices.contiguous());
  std::vector<RowCopy> batch; // pending copies of one word and row width
  std::optional<RowWord> batchWord;
  const at::Tensor *batchLike = nullptr;
  auto flush = [&] {
    if (!batch.empty()) {
      const int64_t srcRows = batch[0].src.size(0);
      gatherRows(op, *batchLike, batch, *batchWord, index, indices.size(0),
                 srcRows);
      raiseOnIndexOutOfRange(index, srcRows, op,
                             "hidden has batch*seqlen rows");
    }
    batch.clear();
  };
  for (const at::Tensor &h : hidden) {
    auto [result, copy] = unpadPlan(h, indices);
    out.push_back(result);
    if (result.numel() == 0)
      continue;
    const RowWord word = wordOf(copy);
    const bool joins = !batch.empty() && batch.size() < kMaxTensorsPerLaunch &&
                       word.bytes == batchWord->bytes &&
                       rowBytesOf(copy.src) == rowBytesOf(batch[0].src) &&
                       copy.src.size(0) == batch[0].src.size(0) &&
                       h.device() == batchLike->device();
    if (!joins) {
      flush();
      batchWord = word;
      batchLike = &h;
    }
    batch.push_back(copy);
  }
  flush();
  return out;
}

} // namespace

TORCH_LIBRARY_IMPL(packjit, CUDA, m) {
  m.impl("unpad_input", &unpadInput);
  m.impl("pad_input", &padInput);
  m.impl("unpad_inputs", &unpadInputs);
}

} // namespace packjit::ops::cuda
