// The kernel templates of kernels_src/, embedded at build time.
//
// A template may include shared helpers: the line
//   // @include "lib/rows.mlir"
// is replaced by that file's text (its own includes expanded). Every text
// below is the expanded one, so templateHash covers the included helpers.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace packjit {

struct KernelTemplate {
  std::string_view name; // file stem in kernels_src/
  std::string_view text; // MLIR source, includes expanded
};

// The kernels: kernels_src/*.mlir (the files they include, kernels_src/lib/,
// are not kernels).
const std::vector<KernelTemplate> &kernelTemplates();
// Throws packjit::Error listing the known kernels when `name` is not one.
const KernelTemplate &kernelTemplate(std::string_view name);
// Hex XXH3-128 of the template text (KernelSpec::templateHash).
std::string templateHash(const KernelTemplate &kernel);

// The text of the template file at `path` (one under development), includes
// expanded: each is looked for next to the file that names it, then in the
// embedded kernels_src/. Throws packjit::Error when a file cannot be read or
// found, or for an include cycle.
std::string readTemplateFile(const std::string &path);

} // namespace packjit
