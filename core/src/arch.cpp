#include "packjit/core/arch.h"

#include "packjit/core/error.h"

#include <array>
#include <utility>

namespace packjit {

const std::vector<ArchInfo> &supportedArchs() {
  // Minimum PTX ISA per target, from the PTX ISA release notes.
  static const std::vector<ArchInfo> archs{
      {"sm_80", 80, false, 70},   {"sm_86", 86, false, 71},
      {"sm_89", 89, false, 78},   {"sm_90", 90, false, 78},
      {"sm_90a", 90, true, 80},   {"sm_100", 100, false, 86},
      {"sm_120", 120, false, 87},
  };
  return archs;
}

const ArchInfo &archInfo(std::string_view name) {
  for (const ArchInfo &arch : supportedArchs())
    if (arch.name == name)
      return arch;
  std::string known;
  for (const ArchInfo &arch : supportedArchs())
    known += (known.empty() ? "" : ", ") + std::string(arch.name);
  throw Error("unsupported GPU architecture '" + std::string(name) +
              "' (supported: " + known + ")");
}

std::string archForComputeCapability(int major, int minor) {
  return "sm_" + std::to_string(major * 10 + minor);
}

std::optional<int> maxPtxVersionForDriver(int driverVersion) {
  // CUDA release (major*1000 + minor*10) -> newest PTX ISA it loads.
  static constexpr std::array<std::pair<int, int>, 20> kTable{{
      {11000, 70}, {11010, 71}, {11020, 72}, {11030, 73}, {11040, 74},
      {11050, 75}, {11060, 76}, {11070, 77}, {11080, 78}, {12000, 80},
      {12010, 81}, {12020, 82}, {12030, 83}, {12040, 84}, {12050, 85},
      {12060, 85}, {12070, 86}, {12080, 87}, {12090, 88}, {13000, 90},
  }};
  std::optional<int> best;
  for (const auto &[cuda, ptx] : kTable)
    if (driverVersion >= cuda)
      best = ptx;
  return best;
}

int choosePtxVersion(std::string_view arch, std::optional<int> driverVersion) {
  const ArchInfo &info = archInfo(arch);
  if (driverVersion) {
    std::optional<int> driverMax = maxPtxVersionForDriver(*driverVersion);
    if (!driverMax || *driverMax < info.minPtxVersion)
      throw Error("the CUDA driver (version " + std::to_string(*driverVersion) +
                  ") is too old for " + std::string(arch) +
                  ", which needs PTX " + ptxVersionString(info.minPtxVersion));
  }
  return info.minPtxVersion;
}

std::string ptxVersionString(int ptxVersion) {
  return std::to_string(ptxVersion / 10) + "." +
         std::to_string(ptxVersion % 10);
}

} // namespace packjit
