// The kernel templates of kernels_src/, embedded at build time.
#pragma once

#include <string_view>
#include <vector>

namespace packjit {

struct KernelTemplate {
  std::string_view name; // file stem in kernels_src/
  std::string_view text; // MLIR source
};

const std::vector<KernelTemplate> &kernelTemplates();
// Throws packjit::Error listing the known kernels when `name` is not one.
const KernelTemplate &kernelTemplate(std::string_view name);
// Hex XXH3-128 of the template text (KernelSpec::templateHash).
std::string templateHash(const KernelTemplate &kernel);

} // namespace packjit
