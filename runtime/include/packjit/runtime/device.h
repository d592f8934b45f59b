// CUDA devices as packjit uses them: each in its primary context (the one
// PyTorch uses), with the target (arch, PTX ISA) its kernels are built for.
#pragma once

#include <cuda.h>

#include <string>

namespace packjit::runtime {

// What kernels for a device are specialized for.
struct DeviceTarget {
  std::string arch;      // "sm_90"
  int ptxVersion = 0;    // choosePtxVersion(arch, driverVersion)
  int driverVersion = 0; // cuDriverGetVersion, e.g. 13000
};

struct Device {
  int ordinal = 0;
  CUdevice handle = 0;
  CUcontext context = nullptr; // primary context, retained for the process
  std::string name;
  int computeCapabilityMajor = 0;
  int computeCapabilityMinor = 0;
  DeviceTarget target;
};

// Number of CUDA devices; throws packjit::Error without a driver.
int deviceCount();
// The device, its primary context retained on first use. Throws
// packjit::Error without a driver, for a bad ordinal, or for an
// architecture packjit does not support. Thread-safe.
const Device &device(int ordinal);

// Makes `context` current for its lifetime (pushed only when another one is
// current) and restores what was there.
class ScopedContext {
public:
  explicit ScopedContext(CUcontext context);
  ~ScopedContext();
  ScopedContext(const ScopedContext &) = delete;
  ScopedContext &operator=(const ScopedContext &) = delete;

private:
  bool pushed_ = false;
};

} // namespace packjit::runtime
