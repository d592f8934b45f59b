// The parameters of a kernel template, read from its header comment, and
// KernelSpec construction from them (defaults filled, values checked). No
// LLVM here: the runtime forms the same specs as the compiler.
//
// Header lines (see docs/compiler.md):
//   // @dtype T: i64 i32 i16 i8 u8 bool
//   // @constexpr BLOCK = 256 in 32..1024
#pragma once

#include "packjit/core/dtype.h"
#include "packjit/core/kernel_spec.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace packjit {

struct DTypeParameter {
  std::string name;           // placeholder name, e.g. "T" (!packjit.T)
  std::vector<DType> allowed; // in the template's order
};

struct ConstexprParameter {
  std::string name;
  int64_t defaultValue = 0;
  int64_t min = INT64_MIN;
  int64_t max = INT64_MAX;
};

struct KernelSignature {
  std::vector<DTypeParameter> dtypes;
  std::vector<ConstexprParameter> constexprs;
  // "T: i64|i32 BLOCK=256 [32..1024] STRICT=1 [0..1]"
  std::string describe() const;
};

// Throws packjit::Error on a malformed @dtype/@constexpr line.
KernelSignature parseKernelSignature(std::string_view templateText);
const KernelSignature &kernelSignature(std::string_view kernel);

// Checks `dtypes` (one per placeholder) and `overrides` (known names, in
// range) against the kernel's signature, fills the other constexprs with
// their defaults and picks the PTX version for `arch` (see choosePtxVersion).
// Throws packjit::Error naming what is wrong.
KernelSpec makeKernelSpec(std::string_view kernel,
                          const std::vector<DType> &dtypes,
                          const std::map<std::string, int64_t> &overrides,
                          std::string_view arch,
                          std::optional<int> driverVersion = std::nullopt);

} // namespace packjit
