// What the caches and bundles hold for one KernelSpec: the PTX and, where the
// driver compiled it, the resulting cubin and what it was compiled for.
#pragma once

#include <string>

namespace packjit::runtime {

struct KernelImage {
  std::string ptx;
  std::string entryName;   // the kernel's function name in the PTX
  std::string cubin;       // the driver's image; empty when none was made
  std::string cubinTarget; // cubinTargetFor() of the device it was made on

  friend bool operator==(const KernelImage &, const KernelImage &) = default;
};

// "sm_90/driver=13000": a cubin is reused only on the same arch with the
// same driver (the driver's PTX compiler made it).
std::string cubinTargetFor(const std::string &arch, int driverVersion);

} // namespace packjit::runtime
