// Launching a cached kernel on the caller's stream (the op library passes
// PyTorch's current stream), with typed arguments checked against the
// kernel's parameters (its template's gpu.func).
#pragma once

#include "packjit/runtime/kernel_cache.h"

#include <bit>
#include <cstdint>
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
  static KernelArg i64(int64_t value) {
    return {ParamKind::I64, static_cast<uint64_t>(value)};
  }
  static KernelArg i32(int32_t value) {
    return {ParamKind::I32, static_cast<uint32_t>(value)};
  }
  static KernelArg i16(int16_t value) {
    return {ParamKind::I16, static_cast<uint16_t>(value)};
  }
  static KernelArg i8(int8_t value) {
    return {ParamKind::I8, static_cast<uint8_t>(value)};
  }
  static KernelArg f32(float value) {
    return {ParamKind::F32, std::bit_cast<uint32_t>(value)};
  }
  static KernelArg f64(double value) {
    return {ParamKind::F64, std::bit_cast<uint64_t>(value)};
  }

  ParamKind kind() const { return kind_; }
  // What cuLaunchKernel reads: the value in its width's low-order bytes
  // (the hosts CUDA runs on are little-endian).
  const void *data() const { return &bits_; }

private:
  KernelArg(ParamKind kind, uint64_t bits) : bits_(bits), kind_(kind) {}
  uint64_t bits_;
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
