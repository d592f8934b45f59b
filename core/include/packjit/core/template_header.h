// The header of a kernel template: its dtype placeholders and its constexprs
// with their defaults and constraints, read from the leading comment block.
// The one place a KernelSpec's dtypes and constexprs are checked. No LLVM
// here: the runtime checks the same specs as the compiler.
//
// Header lines (docs/compiler.md, "Template header"):
//   // @dtype T: i64 i32 i16 i8 u8 bool
//   // @constexpr BLOCK = 256 in 32..1024 multiple_of 32
//   // @constexpr LANES = 32 in 1..1024 power_of_2 divides BLOCK
//   // @constexpr CHUNK = 32 one_of 32 64
#pragma once

#include "packjit/core/dtype.h"
#include "packjit/core/kernel_spec.h"

#include <cstdint>
#include <limits>
#include <map>
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
  int64_t min = std::numeric_limits<int64_t>::min(); // in MIN..MAX
  int64_t max = std::numeric_limits<int64_t>::max();
  int64_t multipleOf = 0;     // multiple_of N; 0: no such constraint
  bool powerOf2 = false;      // power_of_2
  std::string divides;        // divides NAME (another constexpr); empty: none
  std::vector<int64_t> oneOf; // one_of A B ...; empty: any value
  std::string declaration;    // the line after "@constexpr ", for messages
};

struct TemplateHeader {
  std::vector<DTypeParameter> dtypes;
  std::vector<ConstexprParameter> constexprs;

  // Throws packjit::Error on a malformed @dtype/@constexpr line, a constraint
  // naming an unknown constexpr, or defaults that break their constraints.
  static TemplateHeader parse(std::string_view templateText);

  // Null when the template has no constexpr `name`.
  const ConstexprParameter *find(std::string_view name) const;
  // "T:i64|i32 BLOCK=256[32..1024,multiple_of=32] STRICT=1[0..1]"
  std::string describe() const;

  // Checks that `spec` specializes this header: one allowed dtype per
  // placeholder, a value for every constexpr and no other, every constraint
  // met, a supported arch with a PTX ISA new enough for it. Throws
  // packjit::Error with the one message for each kind of mistake.
  void check(const KernelSpec &spec) const;
};

} // namespace packjit
