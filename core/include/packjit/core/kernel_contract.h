// A kernel template's contract and the one way to make a KernelSpec from it.
//
// The contract is read from the template itself: its header (dtype
// placeholders, constexprs with defaults and constraints) and its gpu.func's
// run-time parameters. A KernelBinding binds dtypes and constexprs by name,
// fills the defaults and checks everything once, with one message per kind
// of mistake (TemplateHeader::check); the ops (through the runtime's
// KernelFamily), the CLI and the tests all make their specs with it:
//
//   KernelSpec spec = KernelBinding(KernelContract::of("gather_rows"))
//                         .dtype("T", DType::Float32)
//                         .set("ROW", 64)
//                         .arch("sm_90")
//                         .spec();
#pragma once

#include "packjit/core/kernel_params.h"
#include "packjit/core/kernel_spec.h"
#include "packjit/core/template_header.h"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace packjit {

class KernelContract {
public:
  // Reads `templateText`'s header and gpu.func (a kernel of your own, a
  // template under development, a test's kernel) and keeps the text: it is
  // what the runtime compiles for this contract's specs. Throws
  // packjit::Error naming `kernel`.
  static KernelContract fromText(std::string_view kernel,
                                 std::string_view templateText);
  // The embedded template's contract, read once per process. Throws
  // packjit::Error listing the known kernels when `kernel` is not one.
  static const KernelContract &of(std::string_view kernel);

  const std::string &kernel() const { return kernel_; }
  const std::string &templateHash() const { return templateHash_; }
  // The text templateHash() is of, includes expanded.
  const std::string &templateText() const { return templateText_; }
  const TemplateHeader &header() const { return header_; }
  const KernelParams &params() const { return params_; }
  // Throws packjit::Error naming the template's constexprs when it has no
  // constexpr `name`.
  const ConstexprParameter &constexprParameter(std::string_view name) const;

private:
  std::string kernel_;
  std::string templateText_;
  std::string templateHash_; // hex XXH3-128 of templateText_
  TemplateHeader header_;
  KernelParams params_;
};

// Builds one KernelSpec of `contract`, which must outlive it. Placeholders
// not bound are an error; constexprs not set take their defaults.
class KernelBinding {
public:
  explicit KernelBinding(const KernelContract &contract);

  // The dtype of placeholder `name` (the T of !packjit.T).
  KernelBinding &dtype(std::string_view placeholder, DType dtype);
  // The dtypes of all placeholders, in the header's order.
  KernelBinding &dtypes(std::vector<DType> dtypes);
  KernelBinding &set(std::string_view constexprName, int64_t value);
  KernelBinding &set(const std::map<std::string, int64_t> &values);
  // The target, with the PTX ISA choosePtxVersion picks for it (and for the
  // driver, when its version is known).
  KernelBinding &arch(std::string_view arch,
                      std::optional<int> driverVersion = std::nullopt);
  // Overrides the PTX ISA (78 = 7.8) that arch() picked.
  KernelBinding &ptxVersion(int ptxVersion);

  // The checked spec (TemplateHeader::check); throws packjit::Error.
  KernelSpec spec() const;

private:
  const KernelContract &contract_;
  std::vector<std::optional<DType>> dtypes_;
  std::map<std::string, int64_t> constexprs_;
  std::string arch_;
  int ptxVersion_ = 0;
};

// The checked spec of the embedded template `kernel` in one call (tests,
// tools): KernelBinding with every dtype in order and `constexprs` by name.
KernelSpec bindKernelSpec(std::string_view kernel, std::vector<DType> dtypes,
                          const std::map<std::string, int64_t> &constexprs,
                          std::string_view arch);

} // namespace packjit
