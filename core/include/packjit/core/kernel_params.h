// The run-time parameters of a kernel template: its gpu.func's arguments
// that are not constexprs, in order. They are the kernel's PTX parameters,
// and launches are checked against them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace packjit {

// What a launch passes for one parameter. Pointer: a global address
// (!llvm.ptr<1>, a .u64 in the PTX); the others: integers and floats of that
// width (i64 -> .u64, i32 -> .u32, ...).
enum class ParamKind : uint8_t { Pointer, I8, I16, I32, I64, F32, F64 };

// "pointer", "i8", "i16", "i32", "i64", "f32", "f64".
std::string_view paramKindName(ParamKind kind);

struct KernelParam {
  std::string name; // without the '%'
  ParamKind kind;
  friend bool operator==(const KernelParam &, const KernelParam &) = default;
};

struct KernelParams {
  std::string entryName; // the gpu.func's name: the PTX entry
  std::vector<KernelParam> params;

  // Reads the first `gpu.func @name(...)` of a template: each argument
  // `%name: type {attributes}`, skipping those marked packjit.constexpr.
  // Throws packjit::Error when there is no gpu.func or an argument's type is
  // not one a launch can pass.
  static KernelParams parse(std::string_view templateText);
  // "(%src: pointer, %nnz: i64)"
  std::string describe() const;
};

} // namespace packjit
