// The C++ API: real compiles, stages, dumps, and every kind of error.
#include "packjit/compiler/compiler.h"
#include "packjit/core/error.h"
#include "packjit/core/kernel_contract.h"
#include "packjit/core/kernel_templates.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

using packjit::DType;
using packjit::Error;
using packjit::KernelSpec;
using packjit::compiler::Compiler;
using packjit::compiler::CompileResult;
using packjit::compiler::stageNames;

namespace {

std::string errorOf(const std::function<void()> &fn) {
  try {
    fn();
  } catch (const Error &e) {
    return e.what();
  }
  return "<no error>";
}

constexpr const char *kTinyTemplate = R"(// @dtype T: f32 i32
// @constexpr N = 4
module {
  gpu.module @packjit {
    gpu.func @tiny(%p: !llvm.ptr<1>, %n: i64 {packjit.constexpr = "N"}) kernel {
      %v = llvm.load %p : !llvm.ptr<1> -> !packjit.T
      %q = llvm.getelementptr %p[%n] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, !packjit.T
      llvm.store %v, %q : !packjit.T, !llvm.ptr<1>
      gpu.return
    }
  }
}
)";

KernelSpec tinySpec(DType dtype, int64_t n) {
  KernelSpec spec;
  spec.kernel = "tiny";
  spec.dtypes = {dtype};
  spec.constexprs = {{"N", n}};
  spec.arch = "sm_90";
  spec.ptxVersion = 78;
  return spec;
}

} // namespace

TEST_CASE("every embedded kernel compiles to PTX for its first dtype",
          "[compiler]") {
  for (const packjit::KernelTemplate &tmpl : packjit::kernelTemplates()) {
    const packjit::TemplateHeader &signature =
        packjit::KernelContract::of(tmpl.name).header();
    KernelSpec spec = packjit::bindKernelSpec(
        tmpl.name, {signature.dtypes[0].allowed[0]}, {}, "sm_90");
    CompileResult result = Compiler::shared().compile(spec);
    INFO(tmpl.name);
    CHECK(result.entryName == tmpl.name);
    CHECK(result.ptx.find(".target sm_90\n") != std::string::npos);
    CHECK(result.ptx.find(".visible .entry " + std::string(tmpl.name) + "(") !=
          std::string::npos);
    CHECK(result.stage("specialized").empty()); // not kept unless asked
    CHECK(result.stages.empty());
  }
}

TEST_CASE("every optimization level compiles every embedded kernel",
          "[compiler][opt]") {
  using packjit::compiler::OptLevel;
  for (OptLevel level :
       {OptLevel::O3, OptLevel::O2, OptLevel::O1, OptLevel::Kernel}) {
    packjit::compiler::CompileOptions options;
    options.optLevel = level;
    for (const packjit::KernelTemplate &tmpl : packjit::kernelTemplates()) {
      const packjit::TemplateHeader &signature =
          packjit::KernelContract::of(tmpl.name).header();
      KernelSpec spec = packjit::bindKernelSpec(
          tmpl.name, {signature.dtypes[0].allowed[0]}, {}, "sm_90");
      CompileResult result = Compiler::shared().compile(spec, options);
      INFO(tmpl.name << " level " << static_cast<int>(level));
      CHECK(result.ptx.find(".visible .entry " + std::string(tmpl.name) +
                            "(") != std::string::npos);
      CHECK(result.passes.empty()); // only with timePasses
    }
  }
}

TEST_CASE("timePasses reports the MLIR and LLVM IR passes of the compile",
          "[compiler][opt]") {
  packjit::compiler::CompileOptions options;
  options.timePasses = true;
  CompileResult result = Compiler::shared().compileText(
      kTinyTemplate, tinySpec(DType::Int32, 5), options);
  auto has = [&](const std::string &name) {
    for (const packjit::compiler::PhaseTime &pass : result.passes)
      if (pass.name == name)
        return pass.millis >= 0;
    return false;
  };
  CHECK(has("specialized/Canonicalizer"));
  CHECK(has("nvvm/PackjitConvertToNvvm"));
  CHECK(has("llvm/EarlyCSEPass"));
  CHECK(has("llvm/SROAPass"));
  // The pass times are parts of the phases: together at most the phases' sum.
  double passes = 0, phases = 0;
  for (const auto &pass : result.passes)
    passes += pass.millis;
  for (const auto &phase : result.phases)
    phases += phase.millis;
  CHECK(passes <= phases);
}

TEST_CASE("compileText binds constexprs and dtypes of a template given as text",
          "[compiler]") {
  packjit::compiler::CompileOptions keep;
  keep.keepStages = true;
  CompileResult f32 = Compiler::shared().compileText(
      kTinyTemplate, tinySpec(DType::Float32, 12), keep);
  CHECK(f32.stage("template") == kTinyTemplate);
  // N=12 became a constant and folded into the address computation.
  CHECK(f32.stage("specialized").find("llvm.getelementptr %arg0[12]") !=
        std::string::npos);
  CHECK(f32.stage("specialized").find("-> f32") != std::string::npos);
  CHECK(f32.stage("specialized").find("!packjit.T") == std::string::npos);
  CHECK(f32.stage("llvm").find("load float") != std::string::npos);
  // 12 floats past p: the store goes to byte offset 48.
  CHECK(f32.ptx.find("st.global.b32 \t[%rd1+48]") != std::string::npos);

  CompileResult i32 = Compiler::shared().compileText(
      kTinyTemplate, tinySpec(DType::Int32, 3), keep);
  CHECK(i32.stage("llvm").find("load i32") != std::string::npos);
  CHECK(i32.ptx.find("[%rd1+12]") != std::string::npos);
}

// Two helpers: @offset (single block, calls @scale) and @pick (two blocks).
constexpr const char *kHelperTemplate = R"(// @dtype T: f32 i32
// @constexpr N = 4
module {
  gpu.module @packjit {
    gpu.func @helpers(%p: !llvm.ptr<1>, %n: i64 {packjit.constexpr = "N"}) kernel {
      %v = llvm.load %p : !llvm.ptr<1> -> !packjit.T
      %at = func.call @offset(%n) : (i64) -> i64
      %q = llvm.getelementptr %p[%at] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, !packjit.T
      llvm.store %v, %q : !packjit.T, !llvm.ptr<1>
      %r = func.call @pick(%n) : (i64) -> i64
      %s = llvm.getelementptr %p[%r] : (!llvm.ptr<1>, i64) -> !llvm.ptr<1>, !packjit.T
      llvm.store %v, %s : !packjit.T, !llvm.ptr<1>
      gpu.return
    }
    func.func private @offset(%n: i64) -> i64 {
      %c1 = arith.constant 1 : i64
      %x = func.call @scale(%n) : (i64) -> i64
      %y = arith.addi %x, %c1 : i64
      return %y : i64
    }
    func.func private @scale(%n: i64) -> i64 {
      %c2 = arith.constant 2 : i64
      %x = arith.muli %n, %c2 : i64
      return %x : i64
    }
    func.func private @pick(%n: i64) -> i64 {
      %c0 = arith.constant 0 : i64
      %c7 = arith.constant 7 : i64
      %big = arith.cmpi sgt, %n, %c0 : i64
      cf.cond_br %big, ^yes, ^no
    ^yes:
      return %c7 : i64
    ^no:
      return %c0 : i64
    }
  }
}
)";

TEST_CASE("helpers are inlined before lowering, multi-block ones after the "
          "conversion",
          "[compiler]") {
  packjit::compiler::CompileOptions keep;
  keep.keepStages = true;
  KernelSpec spec = tinySpec(DType::Int32, 5);
  spec.kernel = "helpers";
  CompileResult result =
      Compiler::shared().compileText(kHelperTemplate, spec, keep);
  const std::string &specialized = result.stage("specialized");
  // @offset and the @scale it calls are inlined and folded (2 * 5 + 1), then
  // erased.
  CHECK(specialized.find("@offset") == std::string::npos);
  CHECK(specialized.find("@scale") == std::string::npos);
  CHECK(specialized.find("llvm.getelementptr %arg0[11]") != std::string::npos);
  // @pick has two blocks: it stays a call until the NVVM stage inlines it.
  CHECK(specialized.find("func.call @pick") != std::string::npos);
  CHECK(result.stage("nvvm").find("@pick") == std::string::npos);
  CHECK(result.ptx.find(".func") == std::string::npos);
  CHECK(result.ptx.find("[%rd1+44]") != std::string::npos); // 11 * 4 bytes
}

TEST_CASE("errors name what is wrong", "[compiler][errors]") {
  CHECK_THAT(errorOf([] {
               packjit::bindKernelSpec("no_such_kernel", {DType::Int64}, {},
                                       "sm_90");
             }),
             Catch::Contains("unknown kernel 'no_such_kernel'"));
  CHECK_THAT(errorOf([] {
               packjit::bindKernelSpec("mask_scan", {DType::Float32}, {},
                                       "sm_90");
             }),
             Catch::Contains("does not support dtype 'f32'"));
  CHECK_THAT(errorOf([] {
               packjit::bindKernelSpec("mask_scan", {DType::Int64}, {},
                                       "sm_70");
             }),
             Catch::Contains("unsupported GPU architecture 'sm_70'"));
  CHECK_THAT(errorOf([] {
               packjit::bindKernelSpec("mask_scan", {DType::Int64},
                                       {{"NOPE", 1}}, "sm_90");
             }),
             Catch::Contains("has no constexpr 'NOPE'"));

  SECTION("a spec that bypasses the binding is checked again") {
    KernelSpec spec =
        packjit::bindKernelSpec("gather_rows", {DType::Float32}, {}, "sm_90");
    KernelSpec wrongDtype = spec;
    wrongDtype.dtypes = {DType::Int8};
    CHECK_THAT(errorOf([&] { Compiler::shared().compile(wrongDtype); }),
               Catch::Contains("does not support dtype 'i8'"));
    KernelSpec wrongArch = spec;
    wrongArch.arch = "sm_75";
    CHECK_THAT(errorOf([&] { Compiler::shared().compile(wrongArch); }),
               Catch::Contains("unsupported GPU architecture 'sm_75'"));
    KernelSpec staleTemplate = spec;
    staleTemplate.templateHash = std::string(32, '0');
    CHECK_THAT(errorOf([&] { Compiler::shared().compile(staleTemplate); }),
               Catch::Contains("another version of its template"));
    KernelSpec unknown = spec;
    unknown.kernel = "nope";
    CHECK_THAT(errorOf([&] { Compiler::shared().compile(unknown); }),
               Catch::Contains("unknown kernel 'nope'"));
  }

  SECTION("bad template text carries MLIR's diagnostics") {
    std::string syntax = errorOf([] {
      Compiler::shared().compileText("// @dtype T: f32\n// @constexpr N = "
                                     "4\nmodule { gpu.module @m { oops } }",
                                     tinySpec(DType::Float32, 1));
    });
    CHECK_THAT(syntax, Catch::Contains("packjit compiler: template failed:\n"));
    CHECK_THAT(syntax, Catch::Contains("tiny.mlir\":3:"));

    std::string noValue = errorOf([] {
      KernelSpec spec = tinySpec(DType::Float32, 1);
      std::string text = kTinyTemplate;
      text.replace(text.find("\"N\"}"), 4, "\"M\"}");
      Compiler::shared().compileText(text, spec);
    });
    CHECK_THAT(noValue,
               Catch::Contains("packjit compiler: specialized failed:\n"));
    CHECK_THAT(noValue,
               Catch::Contains("constexpr 'M' (argument 1) has no value"));

    std::string unbound = errorOf([] {
      std::string text = kTinyTemplate;
      for (size_t at; (at = text.find("!packjit.T")) != std::string::npos;)
        text.replace(at, 10, "!packjit.U");
      Compiler::shared().compileText(text, tinySpec(DType::Float32, 1));
    });
    CHECK_THAT(unbound,
               Catch::Contains("dtype placeholder !packjit.U has no binding"));
  }

  SECTION("a template's structure is checked where the kernel is looked for") {
    std::string twoModules = errorOf([] {
      std::string text = kTinyTemplate;
      text.replace(text.rfind('}'), 1, "gpu.module @other {}\n}");
      Compiler::shared().compileText(text, tinySpec(DType::Float32, 1));
    });
    CHECK_THAT(twoModules, Catch::Contains("packjit compiler: nvvm failed:\n"
                                           "loc(\"tiny.mlir\":3:1): error: a "
                                           "template must hold exactly one "
                                           "gpu.module"));
    std::string noKernel = errorOf([] {
      std::string text = kTinyTemplate;
      text.replace(text.find(") kernel {"), 10, ") {");
      Compiler::shared().compileText(text, tinySpec(DType::Float32, 1));
    });
    CHECK_THAT(noKernel, Catch::Contains("nvvm failed:\n"));
    CHECK_THAT(
        noKernel,
        Catch::Contains("error: the template's gpu.module holds no kernel"));
  }
  // The compiler still works after all those failures.
  CHECK_NOTHROW(
      Compiler::shared().compileText(kTinyTemplate, tinySpec(DType::Int32, 2)));
}

TEST_CASE("each stage has one name: its text, its timing, its dump",
          "[compiler][stages]") {
  CHECK(stageNames() == std::vector<std::string_view>{"template", "specialized",
                                                      "nvvm", "llvm", "ptx"});
  packjit::compiler::CompileOptions keep;
  keep.keepStages = true;
  CompileResult result = Compiler::shared().compileText(
      kTinyTemplate, tinySpec(DType::Int32, 2), keep);
  REQUIRE(result.stages.size() == stageNames().size());
  REQUIRE(result.phases.size() == stageNames().size());
  for (size_t i = 0; i < stageNames().size(); ++i) {
    CHECK(result.stages[i].name == stageNames()[i]);
    CHECK(result.phases[i].name == stageNames()[i]);
    CHECK(result.phases[i].millis >= 0);
  }
  CHECK(result.stage("ptx") == result.ptx);
  CHECK(result.stage("nvvm").find("chip = \"sm_90\"") != std::string::npos);
  CHECK_THAT(errorOf([&] { result.stage("mlir"); }),
             Catch::Contains("no stage 'mlir' (stages: template, specialized, "
                             "nvvm, llvm, ptx)"));
}

namespace {

struct DumpDir {
  std::filesystem::path path =
      std::filesystem::temp_directory_path() /
      ("packjit-dump-test-" + std::to_string(::getpid()));
  DumpDir() { std::filesystem::remove_all(path); }
  ~DumpDir() { std::filesystem::remove_all(path); }
  std::filesystem::path file(const KernelSpec &spec,
                             std::string_view stage) const {
    return path / (spec.fileStem() + "." + std::string(stage));
  }
};

} // namespace

TEST_CASE("PACKJIT_DUMP-style dumps write every stage", "[compiler][dump]") {
  DumpDir dir;
  KernelSpec spec = packjit::bindKernelSpec("scatter_rows", {DType::Float16},
                                            {{"ROW", 8}}, "sm_80");
  packjit::compiler::CompileOptions options;
  options.dumpDir = dir.path.string();
  CompileResult result = Compiler::shared().compile(spec, options);
  CHECK(result.stages.empty()); // dumped, not kept
  for (std::string_view stage : stageNames()) {
    std::filesystem::path file = dir.file(spec, stage);
    INFO(file.string());
    REQUIRE(std::filesystem::exists(file));
    CHECK(std::filesystem::file_size(file) > 100);
  }
  std::ifstream ptx(dir.file(spec, "ptx"));
  std::stringstream text;
  text << ptx.rdbuf();
  CHECK(text.str() == result.ptx);
}

TEST_CASE("a failed compile leaves the dumps of the stages before the failure",
          "[compiler][dump]") {
  DumpDir dir;
  packjit::compiler::CompileOptions options;
  options.dumpDir = dir.path.string();
  KernelSpec spec = tinySpec(DType::Float32, 1);
  auto dumped = [&] {
    std::vector<std::string_view> stages;
    for (std::string_view stage : stageNames())
      if (std::filesystem::exists(dir.file(spec, stage)))
        stages.push_back(stage);
    return stages;
  };

  SECTION("failing in nvvm: a gpu.module without a kernel") {
    // A successful compile of the same spec first: its later stages must
    // not survive as if they belonged to the failed one.
    Compiler::shared().compileText(kTinyTemplate, spec, options);
    REQUIRE(dumped().size() == stageNames().size());
    std::string text = kTinyTemplate;
    text.replace(text.find(") kernel {"), 10, ") {");
    CHECK_THAT(
        errorOf([&] { Compiler::shared().compileText(text, spec, options); }),
        Catch::Contains("packjit compiler: nvvm failed:"));
    CHECK(dumped() == std::vector<std::string_view>{"template", "specialized"});
    std::ifstream specialized(dir.file(spec, "specialized"));
    std::stringstream content;
    content << specialized.rdbuf();
    CHECK_THAT(content.str(), Catch::Contains("gpu.func @tiny(%arg0: "
                                              "!llvm.ptr<1>) {"));
  }
  SECTION("failing in specialized: an unbound placeholder") {
    std::string text = kTinyTemplate;
    for (size_t at; (at = text.find("!packjit.T")) != std::string::npos;)
      text.replace(at, 10, "!packjit.U");
    CHECK_THAT(
        errorOf([&] { Compiler::shared().compileText(text, spec, options); }),
        Catch::Contains("packjit compiler: specialized failed:"));
    CHECK(dumped() == std::vector<std::string_view>{"template"});
  }
}

// Each CTest case is a fresh process, so these are the first compiles of a
// fresh context: they once raced on its dialect registry (a double free in
// one run out of a few).
TEST_CASE("parallel compiles from several threads agree",
          "[compiler][threads]") {
  const KernelSpec specs[] = {
      packjit::bindKernelSpec("gather_rows", {DType::Float32}, {{"ROW", 16}},
                              "sm_90"),
      packjit::bindKernelSpec("gather_rows", {DType::Float32}, {{"ROW", 17}},
                              "sm_90"),
      packjit::bindKernelSpec("mask_scan", {DType::Int32}, {}, "sm_80")};
  constexpr int kThreads = 9;
  std::vector<std::string> ptx(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back([&ptx, &specs, i] {
      ptx[i] = Compiler::shared().compile(specs[i % 3]).ptx;
    });
  for (std::thread &t : threads)
    t.join();
  for (int i = 3; i < kThreads; ++i)
    CHECK(ptx[i] == ptx[i % 3]);
  CHECK(ptx[0] != ptx[1]);
  CHECK(ptx[2].find(".entry") != std::string::npos);
}
