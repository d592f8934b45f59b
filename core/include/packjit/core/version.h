#pragma once

#include <string_view>

namespace packjit {

inline constexpr std::string_view kPackjitVersion = "0.1.0";
// The LLVM/MLIR major version the compiler is built with; part of every
// KernelSpec, so that a runtime-only build (no LLVM) forms the same keys as
// the compiler that filled its AOT bundles. The compiler checks it at build
// time.
inline constexpr int kLLVMMajorVersion = 22;
// The compiler's code-generation revision: bump it whenever the compiler
// emits different code for the same template and spec (a pass, an
// optimization level), so that cache entries and bundles made by the old
// compiler are no longer found under the new key.
inline constexpr int kCodegenRevision = 5;
// "packjit-0.1.0+mlir-22.r2"
std::string_view compilerVersion();

} // namespace packjit
