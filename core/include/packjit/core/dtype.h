// Element types that kernels are specialized for, with their short names
// (used in KernelSpecs, file names and the CLI) and sizes.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace packjit {

enum class DType : uint8_t {
  Bool,
  UInt8,
  Int8,
  Int16,
  Int32,
  Int64,
  Float16,
  BFloat16,
  Float32,
  Float64,
};

// "bool", "u8", "i8", "i16", "i32", "i64", "f16", "bf16", "f32", "f64".
std::string_view dtypeName(DType dtype);
// Accepts the short names and the torch spellings ("int64", "float16", ...).
std::optional<DType> parseDType(std::string_view name);
int dtypeSize(DType dtype);
bool isFloating(DType dtype);
const std::vector<DType> &allDTypes();

} // namespace packjit
