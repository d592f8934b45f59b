// The parameters core reads from each template's gpu.func (what launches are
// checked against) are the PTX parameters the compiler emits.
#include "packjit/compiler/compiler.h"
#include "packjit/core/kernel_contract.h"
#include "packjit/core/kernel_templates.h"

#include <catch2/catch.hpp>

#include <sstream>

namespace {

// The kinds of the .param lines of `entry` in `ptx`, in order.
std::vector<packjit::ParamKind> ptxParamKinds(const std::string &ptx,
                                              const std::string &entry) {
  using packjit::ParamKind;
  size_t start = ptx.find(".visible .entry " + entry + "(");
  size_t end = ptx.find(')', start);
  REQUIRE(start != std::string::npos);
  std::istringstream lines(ptx.substr(start, end - start));
  std::vector<ParamKind> kinds;
  for (std::string line; std::getline(lines, line);) {
    if (line.find(".param ") == std::string::npos)
      continue;
    auto has = [&line](const char *word) {
      return line.find(word) != std::string::npos;
    };
    if (has(".ptr"))
      kinds.push_back(ParamKind::Pointer);
    else if (has(".u64") || has(".b64") || has(".s64"))
      kinds.push_back(ParamKind::I64);
    else if (has(".u32") || has(".b32") || has(".s32"))
      kinds.push_back(ParamKind::I32);
    else if (has(".u16") || has(".b16") || has(".s16"))
      kinds.push_back(ParamKind::I16);
    else if (has(".u8") || has(".b8") || has(".s8"))
      kinds.push_back(ParamKind::I8);
    else if (has(".f32"))
      kinds.push_back(ParamKind::F32);
    else if (has(".f64"))
      kinds.push_back(ParamKind::F64);
    else
      FAIL("unknown PTX parameter: " << line);
  }
  return kinds;
}

} // namespace

TEST_CASE("every template's gpu.func parameters are its PTX parameters",
          "[compiler][contract]") {
  for (const packjit::KernelTemplate &tmpl : packjit::kernelTemplates()) {
    INFO(tmpl.name);
    const packjit::KernelContract &contract =
        packjit::KernelContract::of(tmpl.name);
    packjit::KernelSpec spec =
        packjit::KernelBinding(contract)
            .dtypes({contract.header().dtypes[0].allowed[0]})
            .arch("sm_90")
            .spec();
    packjit::compiler::CompileResult result =
        packjit::compiler::Compiler::shared().compile(spec);
    CHECK(result.entryName == contract.params().entryName);
    std::vector<packjit::ParamKind> declared;
    for (const packjit::KernelParam &param : contract.params().params)
      declared.push_back(param.kind);
    CHECK(ptxParamKinds(result.ptx, result.entryName) == declared);
  }
}
