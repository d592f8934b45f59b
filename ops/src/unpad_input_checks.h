// Input checks of unpad_input / pad_input / unpad_inputs, shared by the CPU
// and CUDA kernels and the autograd kernels, so that both devices report the
// same problem with the same words, and the row geometry both kernels work
// on.
#pragma once

#include <ATen/Tensor.h>

#include <cstdint>
#include <vector>

namespace packjit::ops {

// Throws unless `hidden` is [B, S, ...] of a supported dtype, `indices` is a
// 1-D int64 tensor, and both are on one device. Does not read the indices.
void checkUnpadInput(const at::Tensor &hidden, const at::Tensor &indices,
                     const char *op);

// Throws unless `x` is [nnz, ...] of a supported dtype, `indices` is int64
// [nnz], batch and seqlen are not negative, and both tensors share a device.
void checkPadInput(const at::Tensor &x, const at::Tensor &indices,
                   int64_t batch, int64_t seqlen, const char *op);

// Throws naming the first index outside [0, rows) (CPU indices only; the
// CUDA kernels skip such rows instead, or with PACKJIT_CHECK=1 find them on
// the device and raise with throwIndexOutOfRange).
void checkIndicesInRange(const at::Tensor &indices, int64_t rows,
                         const char *op, const char *rowsWhat);

// The error of checkIndicesInRange for indices[position] = value.
[[noreturn]] void throwIndexOutOfRange(const char *op, int64_t position,
                                       int64_t value, int64_t rows,
                                       const char *rowsWhat);

// Throws naming the first index equal to an earlier one (CPU indices, all
// in [0, rows)): pad_input writes each output row once, so a repeated index
// has no single answer (and would make its backward wrong). unpad_input's
// indices may repeat: its backward sums them.
void checkIndicesDistinct(const at::Tensor &indices, int64_t rows,
                          const char *op);

// The sizes of `t` from dimension `first` on (the row shape).
std::vector<int64_t> trailingSizes(const at::Tensor &t, int64_t first);

// The product of trailingSizes(t, first): elements per row.
int64_t rowElements(const at::Tensor &t, int64_t first);

// Whether dimensions `first`.. of `t` lie row-major without gaps, so a row
// is one contiguous run of rowElements(t, first) elements.
bool rowIsContiguous(const at::Tensor &t, int64_t first);

// `hidden` [B, S, ...] as a 2-D [B*S, row] tensor whose rows are contiguous,
// a view when the strides allow it (row stride may exceed the row width),
// otherwise a copy.
at::Tensor rowsOf(const at::Tensor &hidden, int64_t rowDims);

} // namespace packjit::ops
