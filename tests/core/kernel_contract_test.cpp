// The kernel contract: the template header with its constraints, the
// gpu.func's parameters, and KernelBinding's one check with its messages.
#include "packjit/core/error.h"
#include "packjit/core/kernel_contract.h"
#include "packjit/core/kernel_templates.h"
#include "packjit/core/version.h"

#include <catch2/catch.hpp>

using packjit::DType;
using packjit::Error;
using packjit::KernelBinding;
using packjit::KernelContract;
using packjit::KernelParam;
using packjit::KernelParams;
using packjit::KernelSpec;
using packjit::ParamKind;
using packjit::TemplateHeader;

namespace {

std::string errorOf(const std::function<void()> &fn) {
  try {
    fn();
  } catch (const Error &e) {
    return e.what();
  }
  return "<no error>";
}

KernelSpec bind(std::string_view kernel,
                const std::map<std::string, int64_t> &values,
                DType dtype = DType::Int64) {
  return KernelBinding(KernelContract::of(kernel))
      .dtypes({dtype})
      .set(values)
      .arch("sm_90")
      .spec();
}

constexpr const char *kTemplate = R"(// copy: what it does
// @dtype T: i64 u8
// @constexpr BLOCK = 256 in 32..1024 multiple_of 32
// @constexpr LANES = 32 power_of_2 divides BLOCK
// @constexpr CHUNK = 32 one_of 32 64
// Kernel ABI: not parsed.

module {
  // gpu.func @commented(%x: f16) is not the kernel
  gpu.module @packjit {
    gpu.func @copy(%src: !llvm.ptr<1>, // the source
                   %n: i64, %flags: i32,
                   %block: i64 {packjit.constexpr = "BLOCK"},
                   %scale: f32)
        kernel attributes {packjit.block = "BLOCK"} {
      gpu.return
    }
  }
}
// @constexpr IGNORED = 1
)";

} // namespace

TEST_CASE("the header declares dtypes and constexprs with constraints",
          "[core][contract]") {
  TemplateHeader header = TemplateHeader::parse(kTemplate);
  REQUIRE(header.dtypes.size() == 1);
  CHECK(header.dtypes[0].allowed ==
        std::vector<DType>{DType::Int64, DType::UInt8});
  REQUIRE(header.constexprs.size() == 3); // IGNORED is after the header
  CHECK(header.constexprs[0].min == 32);
  CHECK(header.constexprs[0].max == 1024);
  CHECK(header.constexprs[0].multipleOf == 32);
  CHECK(header.constexprs[1].powerOf2);
  CHECK(header.constexprs[1].divides == "BLOCK");
  CHECK(header.constexprs[2].oneOf == std::vector<int64_t>{32, 64});
  CHECK(header.describe() ==
        "T:i64|u8 BLOCK=256[32..1024,multiple_of=32] "
        "LANES=32[power_of_2,divides=BLOCK] CHUNK=32[one_of=32|64]");
}

TEST_CASE("malformed headers are errors that quote the line",
          "[core][contract]") {
  auto parseError = [](const char *text) {
    return errorOf([text] { TemplateHeader::parse(text); });
  };
  CHECK_THAT(parseError("// @constexpr B = x\n"),
             Catch::Contains("'x' is not an integer"));
  CHECK_THAT(parseError("// @constexpr B = 1 odd\n"),
             Catch::Contains("unknown constraint 'odd'") &&
                 Catch::Contains("'// @constexpr B = 1 odd'"));
  CHECK_THAT(parseError("// @constexpr B = 1 in 1-2\n"),
             Catch::Contains("expected MIN..MAX"));
  CHECK_THAT(parseError("// @constexpr B = 1 multiple_of\n"),
             Catch::Contains("'multiple_of' needs an operand"));
  CHECK_THAT(parseError("// @constexpr B = 1 one_of\n"),
             Catch::Contains("'one_of' needs an operand"));
  CHECK_THAT(parseError("// @constexpr B = 2 divides C\n"),
             Catch::Contains("undeclared constexpr 'C'"));
  CHECK_THAT(parseError("// @constexpr B = 1\n// @constexpr B = 2\n"),
             Catch::Contains("B is declared twice"));
  CHECK_THAT(parseError("// @constexpr B = 48 power_of_2\n"),
             Catch::Contains("the default B=48 is not a power of 2"));
  CHECK_THAT(parseError("// @dtype T i64\n"),
             Catch::Contains("expected '@dtype NAME: dtype...'"));
  CHECK_THAT(parseError("// @dtype T: i65\n"),
             Catch::Contains("unknown dtype 'i65'"));
  // Found by fuzz/template_header_fuzzer: a second T parsed, then no
  // binding could give it a dtype.
  CHECK_THAT(parseError("// @dtype T: i64\n// @dtype T: i32\n"),
             Catch::Contains("placeholder T is declared twice"));
}

TEST_CASE("divides by -1 holds for every value, INT64_MIN included",
          "[core][contract]") {
  // INT64_MIN % -1 traps (SIGFPE) on x86-64.
  TemplateHeader header;
  REQUIRE_NOTHROW(
      header = TemplateHeader::parse("// @constexpr A = -9223372036854775808\n"
                                     "// @constexpr B = -1 divides A\n"));
  CHECK(header.describe() == "A=-9223372036854775808 B=-1[divides=A]");
}

TEST_CASE("the gpu.func's run-time parameters are the kernel's",
          "[core][contract]") {
  KernelParams params = KernelParams::parse(kTemplate);
  CHECK(params.entryName == "copy");
  CHECK(params.params == std::vector<KernelParam>{{"src", ParamKind::Pointer},
                                                  {"n", ParamKind::I64},
                                                  {"flags", ParamKind::I32},
                                                  {"scale", ParamKind::F32}});
  CHECK(params.describe() ==
        "(%src: pointer, %n: i64, %flags: i32, %scale: f32)");
  CHECK_THAT(errorOf([] { KernelParams::parse("// @dtype T: i64\n"); }),
             Catch::Contains("no 'gpu.func @name(...)' found"));
  CHECK_THAT(errorOf([] {
               KernelParams::parse(
                   "gpu.func @k(%a: !llvm.ptr<3>, %b: i64) kernel {}");
             }),
             Catch::Contains("argument %a has type '!llvm.ptr<3>', which a "
                             "launch cannot pass"));
  CHECK_THAT(errorOf([] {
               KernelContract::fromText("broken", "gpu.func @k(%a: i64");
             }),
             Catch::StartsWith("kernel 'broken': kernel template: malformed"));
}

TEST_CASE("every embedded template has a contract matching its ABI comment",
          "[core][contract]") {
  for (const packjit::KernelTemplate &tmpl : packjit::kernelTemplates()) {
    INFO(tmpl.name);
    const KernelContract &contract = KernelContract::of(tmpl.name);
    CHECK(contract.kernel() == tmpl.name);
    CHECK(contract.params().entryName == tmpl.name);
    CHECK(contract.templateHash() == packjit::templateHash(tmpl));
    CHECK(contract.templateText() == tmpl.text); // what the runtime compiles
    CHECK_FALSE(contract.params().params.empty());
    // Every default specialization is valid.
    KernelSpec spec = KernelBinding(contract)
                          .dtypes({contract.header().dtypes[0].allowed[0]})
                          .arch("sm_90")
                          .spec();
    CHECK(spec.constexprs.size() == contract.header().constexprs.size());
  }
  // kernels_src/gather_rows.mlir's "Kernel ABI" list, in order.
  std::vector<std::string> names;
  for (const KernelParam &param :
       KernelContract::of("gather_rows").params().params)
    names.push_back(param.name);
  CHECK(names == std::vector<std::string>{"src0", "dst0", "src1", "dst1",
                                          "src2", "dst2", "indices", "nnz",
                                          "src_rows", "src_stride0",
                                          "src_stride1", "src_stride2"});
  CHECK_THAT(errorOf([] { KernelContract::of("no_such_kernel"); }),
             Catch::Contains("unknown kernel 'no_such_kernel' (known: "));
}

TEST_CASE("a binding fills defaults and binds by name", "[core][contract]") {
  const KernelContract &scan = KernelContract::of("mask_scan");
  KernelSpec spec = KernelBinding(scan)
                        .dtype("T", DType::Bool)
                        .set("STRICT", 0)
                        .arch("sm_80")
                        .spec();
  CHECK(spec.kernel == "mask_scan");
  CHECK(spec.templateHash == scan.templateHash());
  CHECK(spec.dtypes == std::vector<DType>{DType::Bool});
  CHECK(spec.constexprs == std::map<std::string, int64_t>{{"BLOCK", 256},
                                                          {"CHUNK", 32},
                                                          {"PADDED", 0},
                                                          {"SEQ", 0},
                                                          {"STRICT", 0}});
  CHECK(spec.arch == "sm_80");
  CHECK(spec.ptxVersion == 70);
  CHECK(spec.compilerVersion == packjit::compilerVersion());
  CHECK(KernelBinding(scan)
            .dtype("T", DType::Bool)
            .set("STRICT", 0)
            .arch("sm_80")
            .ptxVersion(80)
            .spec()
            .ptxVersion == 80);
  CHECK(scan.constexprParameter("SEQ").max == 2147483647);
  CHECK_THAT(errorOf([&] { scan.constexprParameter("S"); }),
             Catch::Contains("kernel 'mask_scan' has no constexpr 'S' "
                             "(parameters: T:i64|i32|i16|i8|u8|bool "));
  // LANES may take any power of two that divides the BLOCK it is bound with.
  CHECK(bind("gather_rows", {{"BLOCK", 1024}, {"LANES", 1024}})
            .constexprs.at("LANES") == 1024);
}

TEST_CASE("every constraint kind is refused with one clear message",
          "[core][contract]") {
  CHECK(errorOf([] {
          bind("mask_scan", {{"BLOCK", 4096}});
        }) ==
        "constexpr BLOCK=4096 of kernel 'mask_scan' is out of range 32..1024 "
        "(declared: BLOCK = 256 in 32..1024 multiple_of 32)");
  CHECK(errorOf([] {
          bind("mask_scan", {{"BLOCK", 1000}});
        }) ==
        "constexpr BLOCK=1000 of kernel 'mask_scan' is not a multiple of 32 "
        "(declared: BLOCK = 256 in 32..1024 multiple_of 32)");
  CHECK(errorOf([] {
          bind("mask_scan", {{"CHUNK", 33}});
        }) == "constexpr CHUNK=33 of kernel 'mask_scan' is not one of 32, 64 "
              "(declared: CHUNK = 32 one_of 32 64)");
  CHECK(errorOf([] {
          bind("gather_rows", {{"LANES", 3}}, DType::Float32);
        }) == "constexpr LANES=3 of kernel 'gather_rows' is not a power of 2 "
              "(declared: LANES = 32 in 1..1024 power_of_2 divides BLOCK)");
  // The kernel whose body was only `ret;`: no thread group had a row.
  CHECK(errorOf([] {
          bind("gather_rows", {{"LANES", 1024}}, DType::Float32);
        }) == "constexpr LANES=1024 of kernel 'gather_rows' does not divide "
              "BLOCK=256 (declared: LANES = 32 in 1..1024 power_of_2 divides "
              "BLOCK)");
  CHECK(errorOf([] {
          bind("scatter_rows", {{"LANES", 64}, {"BLOCK", 32}}, DType::Float32);
        }) == "constexpr LANES=64 of kernel 'scatter_rows' does not divide "
              "BLOCK=32 (declared: LANES = 32 in 1..1024 power_of_2 divides "
              "BLOCK)");
  CHECK(errorOf([] {
          bind("gather_rows", {{"ROW", 1048577}}, DType::Float32);
        }) == "constexpr ROW=1048577 of kernel 'gather_rows' is out of range "
              "1..1048576 (declared: ROW = 1 in 1..1048576)");
}

TEST_CASE("every other mistake in a binding is named", "[core][contract]") {
  const KernelContract &scan = KernelContract::of("mask_scan");
  CHECK_THAT(errorOf([] {
               bind("mask_scan", {{"NOPE", 1}});
             }),
             Catch::StartsWith("kernel 'mask_scan' has no constexpr 'NOPE' "
                               "(parameters: T:i64|i32|i16|i8|u8|bool "
                               "BLOCK=256[32..1024,multiple_of=32]"));
  CHECK(errorOf([] { bind("mask_scan", {}, DType::Float32); }) ==
        "kernel 'mask_scan' does not support dtype 'f32' for T (supported: "
        "i64|i32|i16|i8|u8|bool)");
  CHECK(errorOf([&] {
          KernelBinding(scan)
              .dtypes({DType::Int64, DType::Int64})
              .arch("sm_90")
              .spec();
        }) == "kernel 'mask_scan' takes 1 dtype(s) (T), got 2");
  CHECK(errorOf([&] { KernelBinding(scan).arch("sm_90").spec(); }) ==
        "kernel 'mask_scan': no dtype given for T");
  CHECK_THAT(errorOf([&] { KernelBinding(scan).dtype("U", DType::Int64); }),
             Catch::StartsWith("kernel 'mask_scan' has no dtype placeholder "
                               "'U' (parameters: "));
  CHECK(errorOf([&] { KernelBinding(scan).dtype("T", DType::Int64).spec(); }) ==
        "kernel 'mask_scan': no target arch given");
  CHECK_THAT(errorOf([&] { KernelBinding(scan).arch("sm_75"); }),
             Catch::Contains("unsupported GPU architecture 'sm_75'"));
  CHECK(errorOf([&] {
          KernelBinding(scan)
              .dtype("T", DType::Int64)
              .arch("sm_90")
              .ptxVersion(70)
              .spec();
        }) == "PTX ISA 7.0 is too old for sm_90 (needs 7.8)");

  SECTION("a spec made elsewhere is checked with the same words") {
    KernelSpec spec = bind("mask_scan", {});
    spec.constexprs.erase("SEQ");
    CHECK(errorOf([&] { scan.header().check(spec); }) ==
          "kernel 'mask_scan': the spec gives no value for constexpr SEQ");
    spec.constexprs["SEQ"] = -1;
    CHECK(errorOf([&] { scan.header().check(spec); }) ==
          "constexpr SEQ=-1 of kernel 'mask_scan' is out of range "
          "0..2147483647 (declared: SEQ = 0 in 0..2147483647)");
  }
}
