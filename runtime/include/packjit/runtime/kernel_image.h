// What the caches and bundles hold for one KernelSpec: the PTX and, where the
// driver or ptxas compiled it, the resulting cubin and what it was compiled
// for.
#pragma once

#include <string>

namespace packjit::runtime {

struct KernelImage {
  std::string ptx;
  std::string entryName;   // the kernel's function name in the PTX
  std::string cubin;       // SASS for one arch; empty when none was made
  std::string cubinTarget; // cubinTargetFor() or ptxasCubinTarget()

  friend bool operator==(const KernelImage &, const KernelImage &) = default;
};

// "sm_90/driver=13000": a cubin is reused only on the same arch with the
// same driver (the driver's PTX compiler made it).
std::string cubinTargetFor(const std::string &arch, int driverVersion);
// "sm_90/ptxas=13.0.88": a cubin the CUDA toolkit's ptxas made ahead of time
// (`packjit aot`); any driver that supports that toolkit loads it.
std::string ptxasCubinTarget(const std::string &arch,
                             const std::string &ptxasVersion);
bool isPtxasCubinTarget(const std::string &cubinTarget);
// Whether a cubin made for `cubinTarget` is worth handing to the driver of a
// device whose cubinTargetFor() is `deviceTarget`: the driver's own cubin for
// the same arch and driver version, or ptxas's for the same arch (a driver
// older than that toolkit refuses it; the loader then JIT-compiles the PTX).
bool cubinFitsDevice(const std::string &cubinTarget,
                     const std::string &deviceTarget);

} // namespace packjit::runtime
