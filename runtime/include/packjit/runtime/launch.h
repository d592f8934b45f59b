// Launching a cached kernel on the caller's stream (the op library passes
// PyTorch's current stream), with typed arguments checked against the
// kernel's parameters (its template's gpu.func).
#pragma once

#include "packjit/runtime/kernel_cache.h"

#include <cstring>
#include <initializer_list>
#include <span>

namespace packjit::runtime {

struct Dim3 {
  unsigned x = 1, y = 1, z = 1;
};

// One launch argument: a device address or a number of the kernel
// parameter's width, e.g. KernelArg::pointer(src), KernelArg::i64(nnz).
class KernelArg {
public:
  static KernelArg pointer(CUdeviceptr address) {
    return {ParamKind::Pointer, address};
  }
  static KernelArg pointer(const void *address) {
    return pointer(reinterpret_cast<CUdeviceptr>(address));
  }
  static KernelArg i64(int64_t value) { return {ParamKind::I64, value}; }
  static KernelArg i32(int32_t value) { return {ParamKind::I32, value}; }
  static KernelArg i16(int16_t value) { return {ParamKind::I16, value}; }
  static KernelArg i8(int8_t value) { return {ParamKind::I8, value}; }
  static KernelArg f32(float value) { return {ParamKind::F32, value}; }
  static KernelArg f64(double value) { return {ParamKind::F64, value}; }

  ParamKind kind() const { return kind_; }
  // What cuLaunchKernel reads: the value's bytes.
  const void *data() const { return bytes_; }

private:
  template <typename T> KernelArg(ParamKind kind, T value) : kind_(kind) {
    static_assert(sizeof(T) <= sizeof bytes_);
    std::memcpy(bytes_, &value, sizeof value);
  }
  alignas(8) unsigned char bytes_[8] = {};
  ParamKind kind_;
};

// cuLaunchKernel in the kernel's context. Throws packjit::Error naming the
// kernel when `args` do not match its parameters in number and kinds (before
// anything is launched), or when the launch fails.
void launch(const Kernel &kernel, Dim3 grid, Dim3 block, CUstream stream,
            std::span<const KernelArg> args, unsigned sharedMemoryBytes = 0);
inline void launch(const Kernel &kernel, Dim3 grid, Dim3 block, CUstream stream,
                   std::initializer_list<KernelArg> args,
                   unsigned sharedMemoryBytes = 0) {
  launch(kernel, grid, block, stream,
         std::span<const KernelArg>(args.begin(), args.size()),
         sharedMemoryBytes);
}

} // namespace packjit::runtime
