// The runtime's compile path with the real compiler library (dlopen): a
// template that is embedded nowhere, read from a file (the example of
// docs/compiler.md, "Adding a kernel"), compiles from its contract's text and
// is cached on disk under its template hash. No GPU needed.
#include "packjit/core/kernel_contract.h"
#include "packjit/core/kernel_templates.h"
#include "packjit/runtime/compiler_library.h"
#include "packjit/runtime/image_source.h"
#include "test_support.h"

#include <catch2/catch.hpp>

using namespace packjit;
using namespace packjit::runtime;
using namespace packjit::runtime::testing;

TEST_CASE("a template of one's own compiles through the compiler library",
          "[runtime][compiler]") {
  std::string why;
  const bool available = compilerAvailable(&why);
  INFO(why);
  REQUIRE(available);
  const KernelContract contract = KernelContract::fromText(
      "scale_rows", readTemplateFile(PACKJIT_SCALE_ROWS_TEMPLATE));
  REQUIRE_THROWS(kernelTemplate("scale_rows")); // not embedded
  const KernelSpec spec = KernelBinding(contract)
                              .dtype("T", DType::BFloat16)
                              .set("BLOCK", 128)
                              .arch("sm_90")
                              .spec();
  TempDir dir;
  const ResolvedImage compiled =
      ImageSource(settingsFor(dir.path()), nullptr)
          .resolve(spec, contract.templateText(), "");
  CHECK(compiled.origin == ImageOrigin::Compiled);
  CHECK(compiled.image.entryName == "scale_rows");
  const std::string &ptx = compiled.image.ptx;
  CHECK(ptx.find(".visible .entry scale_rows(") != std::string::npos);
  CHECK(ptx.find(".maxntid 128, 1, 1") != std::string::npos);
  CHECK(ptx.find("mul.rn.bf16") != std::string::npos); // T bound to bf16

  // The next process finds it on disk.
  const ResolvedImage cached = ImageSource(settingsFor(dir.path()), nullptr)
                                   .resolve(spec, contract.templateText(), "");
  CHECK(cached.origin == ImageOrigin::Disk);
  CHECK(cached.image.ptx == ptx);

  // Text other than the spec's template is refused, not compiled.
  TempDir other;
  CHECK_THROWS_WITH(
      ImageSource(settingsFor(other.path()), nullptr)
          .resolve(spec, contract.templateText() + "// edited\n", ""),
      Catch::Contains("does not hash to the spec's template"));
}
