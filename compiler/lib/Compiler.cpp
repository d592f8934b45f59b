// packjit::compiler::Compiler: KernelSpec -> pipeline request.
#include "packjit/compiler/compiler.h"

#include "Pipeline.h"
#include "StageDump.h"

#include "packjit/core/error.h"
#include "packjit/core/kernel_contract.h"
#include "packjit/core/log.h"
#include "packjit/core/template_header.h"
#include "packjit/core/version.h"

#include <cstdio>

namespace packjit::compiler {
namespace {

// The MLIR type standing for a dtype in memory: bool and u8 are bytes; their
// unsignedness reaches the template as the constexpr <NAME>_UNSIGNED.
std::string_view mlirType(DType dtype) {
  switch (dtype) {
  case DType::Bool:
  case DType::UInt8:
  case DType::Int8:
    return "i8";
  case DType::Int16:
    return "i16";
  case DType::Int32:
    return "i32";
  case DType::Int64:
    return "i64";
  case DType::Float16:
    return "f16";
  case DType::BFloat16:
    return "bf16";
  case DType::Float32:
    return "f32";
  case DType::Float64:
    return "f64";
  }
  throw Error("unknown dtype");
}

bool isUnsigned(DType dtype) {
  return dtype == DType::Bool || dtype == DType::UInt8;
}

// A spec made by a KernelBinding is valid; one given as text (the C API,
// compileText) is checked by the same function, with the same words.
pipeline::PipelineRequest makeRequest(const TemplateHeader &header,
                                      std::string_view text,
                                      const KernelSpec &spec,
                                      const CompileOptions &options) {
  header.check(spec);
  pipeline::PipelineRequest request;
  request.templateText = text;
  request.sourceName = spec.kernel + ".mlir";
  for (size_t i = 0; i < spec.dtypes.size(); ++i) {
    const std::string &name = header.dtypes[i].name;
    request.dtypes.push_back(name + "=" +
                             std::string(mlirType(spec.dtypes[i])));
    request.constexprs.push_back(
        name + "_UNSIGNED=" + std::to_string(isUnsigned(spec.dtypes[i])));
  }
  for (const auto &[name, value] : spec.constexprs)
    request.constexprs.push_back(name + "=" + std::to_string(value));
  request.chip = spec.arch;
  request.features = "+ptx" + std::to_string(spec.ptxVersion);
  request.options = options;
  return request;
}

// PACKJIT_LOG=debug: one line per compile with the time of each stage.
std::string phasesLine(const KernelSpec &spec, const CompileResult &result) {
  std::string line = "compiled " + spec.fileStem() + ", stages (ms):";
  double total = 0;
  for (const PhaseTime &phase : result.phases) {
    char cell[64];
    std::snprintf(cell, sizeof cell, " %s %.2f", phase.name.c_str(),
                  phase.millis);
    line += cell;
    total += phase.millis;
  }
  char cell[32];
  std::snprintf(cell, sizeof cell, " total %.2f", total);
  return line + cell;
}

} // namespace

struct Compiler::Impl {
  pipeline::Pipeline pipeline;

  CompileResult run(const TemplateHeader &header, std::string_view text,
                    const KernelSpec &spec, const CompileOptions &options) {
    pipeline::PipelineRequest request =
        makeRequest(header, text, spec, options);
    if (request.options.dumpDir.empty())
      request.options.dumpDir = pipeline::dumpDirFromEnvironment();
    request.dumpStem = spec.fileStem();
    CompileResult result = pipeline.run(request);
    PACKJIT_LOG(Debug, phasesLine(spec, result));
    return result;
  }
};

Compiler::Compiler() : impl_(std::make_unique<Impl>()) {}
Compiler::~Compiler() = default;

Compiler &Compiler::shared() {
  static Compiler compiler;
  return compiler;
}

CompileResult Compiler::compile(const KernelSpec &spec,
                                const CompileOptions &options) {
  // Read once per process: its hash and header are not recomputed per compile.
  const KernelContract &contract = KernelContract::of(spec.kernel);
  if (spec.templateHash != contract.templateHash())
    throw Error("KernelSpec for '" + spec.kernel +
                "' was made for another version "
                "of its template (hash " +
                spec.templateHash + ", this library has " +
                contract.templateHash() + ")");
  if (spec.compilerVersion != packjit::compilerVersion())
    throw Error("KernelSpec was made for compiler '" + spec.compilerVersion +
                "', this library is '" +
                std::string(packjit::compilerVersion()) + "'");
  return impl_->run(contract.header(), contract.templateText(), spec, options);
}

CompileResult Compiler::compileText(std::string_view templateText,
                                    const KernelSpec &spec,
                                    const CompileOptions &options) {
  return impl_->run(TemplateHeader::parse(templateText), templateText, spec,
                    options);
}

} // namespace packjit::compiler
