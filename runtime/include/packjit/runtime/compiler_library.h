// libpackjit_compiler.so, loaded with dlopen only when a kernel is missing
// from every bundle and cache. Looked for in order: $PACKJIT_COMPILER_LIBRARY,
// next to libpackjit_runtime.so, then by soname through the loader's path.
#pragma once

#include "packjit/core/kernel_spec.h"
#include "packjit/runtime/kernel_image.h"

#include <string>
#include <string_view>

namespace packjit::runtime {

// True when the compiler library can be loaded; otherwise `why` says where
// it was looked for and what failed. Loads (once) on first call. Always false
// in a runtime-only build (PACKJIT_RUNTIME_ONLY).
bool compilerAvailable(std::string *why = nullptr);
// Compiles `spec` to PTX through the library, from `templateText`: the text
// of the spec's contract (KernelContract::templateText), whose hash the spec
// carries, so any template compiles, embedded or not, and a prebuilt compiler
// compiles templates newer than its own. Throws packjit::Error with the
// compiler's diagnostics, or why no compiler could be loaded.
KernelImage compileWithCompilerLibrary(const KernelSpec &spec,
                                       std::string_view templateText);

} // namespace packjit::runtime
