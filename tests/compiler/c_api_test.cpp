// The C ABI the runtime dlopens.
#include "packjit/compiler/c_api.h"
#include "packjit/core/kernel_contract.h"
#include "packjit/core/kernel_templates.h"
#include "packjit/core/version.h"

#include <catch2/catch.hpp>

#include <cstring>
#include <string>

TEST_CASE("C API compiles a canonical spec and reports errors",
          "[compiler][c_api]") {
  CHECK(packjit_compiler_abi_version() == PACKJIT_COMPILER_ABI_VERSION);
  CHECK(std::string(packjit_compiler_version()) == packjit::compilerVersion());

  packjit::KernelSpec spec = packjit::bindKernelSpec(
      "mask_scan", {packjit::DType::Int32}, {}, "sm_86");
  PackjitCompileOutput out;
  REQUIRE(packjit_compiler_compile(spec.canonical().c_str(), nullptr, nullptr,
                                   &out) == 0);
  REQUIRE(out.ptx != nullptr);
  CHECK(out.error == nullptr);
  CHECK(out.ptx_size == std::strlen(out.ptx));
  CHECK(std::string(out.entry_name) == "mask_scan");
  CHECK(std::string(out.ptx).find(".target sm_86") != std::string::npos);
  packjit_compiler_free_output(&out);
  CHECK(out.ptx == nullptr);

  REQUIRE(packjit_compiler_compile("kernel=mask_scan;garbage", nullptr, nullptr,
                                   &out) != 0);
  CHECK(out.ptx == nullptr);
  REQUIRE(out.error != nullptr);
  CHECK(std::string(out.error).find("malformed KernelSpec") !=
        std::string::npos);
  packjit_compiler_free_output(&out);
  CHECK(out.error == nullptr);

  // The caller's template text: compiled when its hash matches the spec's.
  const packjit::KernelTemplate &tmpl = packjit::kernelTemplate("mask_scan");
  std::string text(tmpl.text);
  REQUIRE(packjit_compiler_compile(spec.canonical().c_str(), text.c_str(),
                                   nullptr, &out) == 0);
  CHECK(std::string(out.entry_name) == "mask_scan");
  packjit_compiler_free_output(&out);
  text += "\n// edited\n";
  REQUIRE(packjit_compiler_compile(spec.canonical().c_str(), text.c_str(),
                                   nullptr, &out) != 0);
  REQUIRE(out.error != nullptr);
  CHECK_THAT(out.error,
             Catch::Contains("does not hash to the spec's template"));
  packjit_compiler_free_output(&out);
}
