// The GPU architectures packjit compiles for and the PTX ISA versions it
// picks for them. PTX versions are written as integers: 78 is PTX ISA 7.8.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace packjit {

struct ArchInfo {
  std::string_view name; // "sm_90a"
  int computeCapability; // 90
  bool archSpecific;     // the "a" variants (wgmma, setmaxnreg)
  int minPtxVersion;     // the oldest PTX ISA that knows this target
};

const std::vector<ArchInfo> &supportedArchs();
// Throws packjit::Error naming the supported archs when `name` is not one.
const ArchInfo &archInfo(std::string_view name);
// "sm_90" for compute capability 9.0.
std::string archForComputeCapability(int major, int minor);

// The newest PTX ISA a driver of this version (cuDriverGetVersion, e.g.
// 12040) can load; nullopt for drivers older than CUDA 11.0.
std::optional<int> maxPtxVersionForDriver(int driverVersion);
// The PTX ISA to emit for `arch`: the arch's minimum, which every driver that
// can run the arch loads. With a known driver, throws packjit::Error when the
// driver is too old for the arch.
int choosePtxVersion(std::string_view arch,
                     std::optional<int> driverVersion = std::nullopt);
// "7.8" for 78.
std::string ptxVersionString(int ptxVersion);

} // namespace packjit
