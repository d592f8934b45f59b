// Random data for the unpad_input / pad_input tests, CPU and GPU alike.
#pragma once

#include <ATen/ATen.h>

namespace packjit::test {

// The data dtypes unpad_input / pad_input support.
inline const at::ScalarType kDataDTypes[] = {
    at::kFloat, at::kHalf, at::kBFloat16, at::kDouble, at::kLong, at::kInt};

// Normal floats, or integers in [-1000, 1000), of `dtype` on the CPU.
inline at::Tensor randomData(at::IntArrayRef shape, at::ScalarType dtype) {
  if (at::isFloatingType(dtype))
    return at::randn(shape, at::kFloat).to(dtype);
  return at::randint(-1000, 1000, shape, at::kLong).to(dtype);
}

} // namespace packjit::test
