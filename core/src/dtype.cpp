#include "packjit/core/dtype.h"

#include <array>
#include <utility>

namespace packjit {
namespace {

struct DTypeInfo {
  DType dtype;
  std::string_view name;
  std::string_view torchName;
  int size;
  bool floating;
};

constexpr std::array<DTypeInfo, 10> kDTypes{{
    {DType::Bool, "bool", "bool", 1, false},
    {DType::UInt8, "u8", "uint8", 1, false},
    {DType::Int8, "i8", "int8", 1, false},
    {DType::Int16, "i16", "int16", 2, false},
    {DType::Int32, "i32", "int32", 4, false},
    {DType::Int64, "i64", "int64", 8, false},
    {DType::Float16, "f16", "float16", 2, true},
    {DType::BFloat16, "bf16", "bfloat16", 2, true},
    {DType::Float32, "f32", "float32", 4, true},
    {DType::Float64, "f64", "float64", 8, true},
}};

const DTypeInfo &info(DType dtype) {
  return kDTypes[static_cast<size_t>(dtype)];
}

} // namespace

std::string_view dtypeName(DType dtype) { return info(dtype).name; }
int dtypeSize(DType dtype) { return info(dtype).size; }
bool isFloating(DType dtype) { return info(dtype).floating; }

std::optional<DType> parseDType(std::string_view name) {
  for (const DTypeInfo &entry : kDTypes)
    if (name == entry.name || name == entry.torchName)
      return entry.dtype;
  return std::nullopt;
}

const std::vector<DType> &allDTypes() {
  static const std::vector<DType> all = [] {
    std::vector<DType> v;
    for (const DTypeInfo &entry : kDTypes)
      v.push_back(entry.dtype);
    return v;
  }();
  return all;
}

} // namespace packjit
