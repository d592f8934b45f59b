#pragma once

#include <string_view>

namespace packjit {

inline constexpr std::string_view kPackjitVersion = "0.1.0";
// The LLVM/MLIR major version the compiler is built with; part of every
// KernelSpec, so that a runtime-only build (no LLVM) forms the same keys as
// the compiler that filled its AOT bundles. The compiler checks it at build time.
inline constexpr int kLLVMMajorVersion = 22;
// "packjit-0.1.0+mlir-22"
std::string_view compilerVersion();

} // namespace packjit
