// The CUDA kernels of unpad_input / pad_input / unpad_inputs: the
// JIT-compiled gather_rows and scatter_rows templates, launched through the
// runtime on PyTorch's current stream.
//
// A row is copied as raw words: the widest of 8, 4 or 2 bytes that divides
// the row's bytes and both base addresses, so the kernels are specialized per
// word dtype and per row width in words (bf16 rows of 128 elements run as
// 32 i64 words). pad_input never zero-fills separately on large outputs: it
// builds the inverse map (output row -> input row, -1 for padding) with a
// scatter of row numbers, then gathers every output row, and the gather
// writes zeros where the map says -1.
#include "../cpu/padding_checks.h"
#include "packjit/core/error.h" // before cuda_support.h, which uses it
#include "cuda_support.h"

#include "packjit/runtime/launch.h"

#include <ATen/ATen.h>
#include <torch/library.h>

#include <cstdlib>
#include <cstring>

namespace packjit::ops::cuda {
namespace {

using runtime::Dim3;
using runtime::KernelFamily;

constexpr int64_t kBlock = 256;
constexpr int64_t kMaxRowWords = 1048576; // the templates' ROW range

struct Word {
  DType dtype;
  int64_t bytes;
};

// The widest word that divides `rowBytes` and every address in `pointers`.
Word wordFor(int64_t rowBytes, std::initializer_list<const void *> pointers) {
  static constexpr Word kWords[] = {
      {DType::Int64, 8}, {DType::Int32, 4}, {DType::Float16, 2}};
  for (const Word &word : kWords) {
    bool fits = rowBytes % word.bytes == 0;
    for (const void *p : pointers)
      fits = fits && reinterpret_cast<uintptr_t>(p) % word.bytes == 0;
    if (fits)
      return word;
  }
  TORCH_CHECK(false, "packjit: rows of ", rowBytes,
              " bytes at odd addresses cannot be copied by the CUDA kernels");
}

CUdeviceptr address(const at::Tensor &t) {
  return reinterpret_cast<CUdeviceptr>(t.data_ptr());
}

// One launch of `family` (gather_rows or scatter_rows; same ABI) over `count`
// rows of `rowWords` words.
void launchRows(KernelFamily &family, const char *op, const at::Tensor &like,
                Word word, int64_t rowWords, CUdeviceptr src, CUdeviceptr dst,
                CUdeviceptr indices, int64_t count, int64_t boundRows) {
  TORCH_CHECK(rowWords <= kMaxRowWords, op, ": rows of ", rowWords, " ",
              word.bytes, "-byte words exceed the kernels' limit of ",
              kMaxRowWords);
  const int64_t total = count * rowWords;
  const int64_t blocks = std::min<int64_t>((total + kBlock - 1) / kBlock,
                                           int64_t{1} << 30);
  withRuntimeErrors(op, [&] {
    const DType dtypes[] = {word.dtype};
    const int64_t constexprs[] = {kBlock, rowWords};
    const runtime::Kernel &kernel =
        family.get(like.device().index(), dtypes, constexprs);
    void *args[] = {&src, &dst, &indices, &count, &boundRows};
    runtime::launch(kernel, Dim3{static_cast<unsigned>(blocks)},
                    Dim3{static_cast<unsigned>(kBlock)}, currentStream(like), args);
  });
}

KernelFamily &gatherFamily() {
  static KernelFamily family("gather_rows", {"BLOCK", "ROW"});
  return family;
}

KernelFamily &scatterFamily() {
  static KernelFamily family("scatter_rows", {"BLOCK", "ROW"});
  return family;
}

// dst row i = src row indices[i] for i < count; rows of `rowBytes` bytes,
// `src` rows `srcStride` bytes apart. An index outside [0, srcRows) writes
// a row of zeros.
void gatherRows(const char *op, const at::Tensor &like, const at::Tensor &src,
                at::Tensor &dst, const at::Tensor &indices, int64_t count,
                int64_t srcRows) {
  const int64_t rowBytes = src.size(1) * src.element_size();
  const Word word = wordFor(rowBytes, {src.data_ptr(), dst.data_ptr()});
  launchRows(gatherFamily(), op, like, word, rowBytes / word.bytes, address(src),
             address(dst), address(indices), count, srcRows);
}

// dst row indices[i] = src row i for i < count; an index outside
// [0, dstRows) writes nothing.
void scatterRows(const char *op, const at::Tensor &like, const at::Tensor &src,
                 at::Tensor &dst, const at::Tensor &indices, int64_t count,
                 int64_t dstRows) {
  const int64_t rowBytes = src.size(1) * src.element_size();
  const Word word = wordFor(rowBytes, {src.data_ptr(), dst.data_ptr()});
  launchRows(scatterFamily(), op, like, word, rowBytes / word.bytes, address(src),
             address(dst), address(indices), count, dstRows);
}

// The kernels address rows as base + row * rowWidth: rows must be packed.
at::Tensor packedRows(const at::Tensor &t, int64_t rowDims) {
  at::Tensor rows = rowsOf(t, rowDims);
  return rows.stride(0) == rows.size(1) ? rows : rows.contiguous();
}

at::Tensor unpadInputImpl(const at::Tensor &hidden, const at::Tensor &indices,
                          const char *op) {
  checkUnpadInput(hidden, indices, op);
  c10::cuda::CUDAGuard guard(hidden.device());
  std::vector<int64_t> shape = trailingSizes(hidden, 2);
  shape.insert(shape.begin(), indices.size(0));
  at::Tensor out = at::empty(shape, hidden.options());
  if (out.numel() == 0)
    return out;
  at::Tensor src = packedRows(hidden, 2);
  at::Tensor dst = out.view({indices.size(0), src.size(1)});
  at::Tensor index = indices.contiguous();
  gatherRows(op, hidden, src, dst, index, index.size(0), src.size(0));
  return out;
}

at::Tensor unpadInput(const at::Tensor &hidden, const at::Tensor &indices) {
  return unpadInputImpl(hidden, indices, "packjit.unpad_input");
}

// Below this many output bytes pad_input zero-fills and scatters (two
// launches); above, it builds the inverse map and gathers (four launches,
// fewer bytes). PACKJIT_PAD_INPUT=scatter|gather forces one (benchmarks).
constexpr int64_t kGatherPadBytes = int64_t{8} << 20;

enum class PadStrategy { Auto, Scatter, Gather };

PadStrategy padStrategy() {
  static const PadStrategy strategy = [] {
    const char *env = std::getenv("PACKJIT_PAD_INPUT");
    if (env && std::strcmp(env, "scatter") == 0)
      return PadStrategy::Scatter;
    if (env && std::strcmp(env, "gather") == 0)
      return PadStrategy::Gather;
    return PadStrategy::Auto;
  }();
  return strategy;
}

at::Tensor padInput(const at::Tensor &x, const at::Tensor &indices, int64_t batch,
                    int64_t seqlen) {
  constexpr const char *op = "packjit.pad_input";
  checkPadInput(x, indices, batch, seqlen, op);
  c10::cuda::CUDAGuard guard(x.device());
  std::vector<int64_t> shape = trailingSizes(x, 1);
  shape.insert(shape.begin(), {batch, seqlen});
  const int64_t rows = batch * seqlen;
  const int64_t nnz = x.size(0);
  const int64_t outBytes = rows * rowElements(x, 1) * x.element_size();
  PadStrategy strategy = padStrategy();
  if (strategy == PadStrategy::Auto)
    strategy = outBytes < kGatherPadBytes ? PadStrategy::Scatter : PadStrategy::Gather;
  if (nnz == 0 || outBytes == 0 || strategy == PadStrategy::Scatter) {
    at::Tensor out = at::zeros(shape, x.options());
    if (nnz == 0 || outBytes == 0)
      return out;
    at::Tensor src = packedRows(x, 1);
    at::Tensor dst = out.view({rows, src.size(1)});
    scatterRows(op, x, src, dst, indices.contiguous(), nnz, rows);
    return out;
  }
  // inverse[indices[i]] = i, -1 elsewhere: an i64 scatter of row numbers.
  at::Tensor inverse = at::full({rows, 1}, -1, indices.options());
  at::Tensor rowNumbers = at::arange(nnz, indices.options()).view({nnz, 1});
  scatterRows(op, x, rowNumbers, inverse, indices.contiguous(), nnz, rows);
  at::Tensor out = at::empty(shape, x.options());
  at::Tensor src = packedRows(x, 1);
  at::Tensor dst = out.view({rows, src.size(1)});
  gatherRows(op, x, src, dst, inverse, rows, nnz);
  return out;
}

std::vector<at::Tensor> unpadInputs(at::TensorList hidden, const at::Tensor &indices) {
  std::vector<at::Tensor> out;
  out.reserve(hidden.size());
  for (const at::Tensor &h : hidden)
    out.push_back(unpadInputImpl(h, indices, "packjit.unpad_inputs"));
  return out;
}

} // namespace

TORCH_LIBRARY_IMPL(packjit, CUDA, m) {
  m.impl("unpad_input", &unpadInput);
  m.impl("pad_input", &padInput);
  m.impl("unpad_inputs", &unpadInputs);
}

} // namespace packjit::ops::cuda
