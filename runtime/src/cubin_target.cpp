#include "packjit/runtime/kernel_image.h"

#include <string_view>

namespace packjit::runtime {
namespace {

constexpr std::string_view kPtxasTag = "/ptxas=";

std::string_view archOf(std::string_view target) {
  return target.substr(0, target.find('/'));
}

} // namespace

std::string ptxasCubinTarget(const std::string &arch,
                             const std::string &ptxasVersion) {
  return arch + std::string(kPtxasTag) + ptxasVersion;
}

bool isPtxasCubinTarget(const std::string &cubinTarget) {
  return cubinTarget.find(kPtxasTag) != std::string::npos;
}

bool cubinFitsDevice(const std::string &cubinTarget,
                     const std::string &deviceTarget) {
  if (cubinTarget.empty())
    return false;
  if (cubinTarget == deviceTarget)
    return true;
  return isPtxasCubinTarget(cubinTarget) &&
         archOf(cubinTarget) == archOf(deviceTarget);
}

} // namespace packjit::runtime
