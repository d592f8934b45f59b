// `packjit compile`: compile one kernel specialization and print or write
// its stages; `--list` prints every kernel with its parameters.
#include "commands.h"

#include "packjit/compiler/compiler.h"
#include "packjit/core/error.h"
#include "packjit/core/kernel_contract.h"
#include "packjit/core/kernel_templates.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

namespace packjit::cli {
namespace {

struct CompileArgs {
  bool list = false;
  std::string kernel;
  std::vector<std::string> dtypes;
  std::string arch = "sm_90";
  int ptxVersion = 0; // 0: the arch's default
  std::vector<std::string> sets;
  std::string emit = "ptx";
  std::string output;
  std::string templateFile;
  std::string dumpDir;
  bool time = false;
};

void listKernels() {
  for (const KernelTemplate &kernel : kernelTemplates())
    std::cout << kernel.name << " "
              << KernelContract::of(kernel.name).header().describe() << "\n";
}

// A template file's kernel: --kernel, else the file's stem.
std::string kernelName(const CompileArgs &args) {
  if (!args.kernel.empty() || args.templateFile.empty())
    return args.kernel;
  return std::filesystem::path(args.templateFile).stem().string();
}

std::map<std::string, int64_t> parseSets(const std::vector<std::string> &sets) {
  std::map<std::string, int64_t> values;
  for (const std::string &set : sets) {
    size_t eq = set.find('=');
    if (eq == std::string::npos)
      throw Error("--set expects NAME=VALUE, got '" + set + "'");
    try {
      size_t used = 0;
      values[set.substr(0, eq)] = std::stoll(set.substr(eq + 1), &used, 0);
      if (used != set.size() - eq - 1)
        throw std::invalid_argument(set);
    } catch (const std::logic_error &) {
      throw Error("--set " + set + ": the value is not an integer");
    }
  }
  return values;
}

// --emit: a stage's name, or one of these.
constexpr const char *kEmitAll = "all";   // every stage, under banners
constexpr const char *kEmitMlir = "mlir"; // an alias of kMlirStage
constexpr const char *kMlirStage = "specialized";

std::vector<std::string> emitChoices() {
  std::vector<std::string> choices(compiler::stageNames().begin(),
                                   compiler::stageNames().end());
  choices.push_back(kEmitMlir);
  choices.push_back(kEmitAll);
  return choices;
}

// --emit all: every stage, each under a "// ===== <stage> =====" banner.
std::string emitted(const compiler::CompileResult &result,
                    const std::string &emit) {
  if (emit == kEmitMlir)
    return result.stage(kMlirStage);
  if (emit != kEmitAll)
    return result.stage(emit);
  std::string all;
  for (const compiler::StageText &stage : result.stages)
    all += "// ===== " + stage.name + " =====\n" + stage.text + "\n";
  return all;
}

void runCompile(const CompileArgs &args) {
  // A template under development (--template): its own header gives the
  // parameters, checked as the embedded ones are; its includes come from
  // beside it, then from the embedded library.
  const std::string kernel = kernelName(args);
  const std::string templateText =
      args.templateFile.empty() ? "" : readTemplateFile(args.templateFile);
  if (args.list && !args.templateFile.empty()) {
    std::cout
        << kernel << " "
        << KernelContract::fromText(kernel, templateText).header().describe()
        << "\n";
    return;
  }
  if (args.list) {
    listKernels();
    return;
  }
  if (kernel.empty())
    throw Error("packjit compile: --kernel is required (see --list)");
  std::vector<DType> dtypes;
  for (const std::string &name : args.dtypes) {
    std::optional<DType> dtype = parseDType(name);
    if (!dtype)
      throw Error("unknown dtype '" + name + "'");
    dtypes.push_back(*dtype);
  }
  const auto start = std::chrono::steady_clock::now();
  const KernelContract contract =
      args.templateFile.empty()
          ? KernelContract::of(kernel)
          : KernelContract::fromText(kernel, templateText);
  KernelBinding binding(contract);
  binding.dtypes(dtypes).set(parseSets(args.sets)).arch(args.arch);
  if (args.ptxVersion)
    binding.ptxVersion(args.ptxVersion);
  const KernelSpec spec = binding.spec();
  compiler::CompileOptions options;
  options.keepStages = true;
  options.dumpDir = args.dumpDir;
  compiler::CompileResult result =
      args.templateFile.empty()
          ? compiler::Compiler::shared().compile(spec, options)
          : compiler::Compiler::shared().compileText(templateText, spec,
                                                     options);
  if (args.time)
    std::cerr << "compile_ms "
              << std::chrono::duration<double, std::milli>(
                     std::chrono::steady_clock::now() - start)
                     .count()
              << "\n";
  std::string text = emitted(result, args.emit);
  if (args.output.empty() || args.output == "-") {
    std::cout << text;
    return;
  }
  std::ofstream out(args.output, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out)
    throw Error("cannot write '" + args.output + "'");
}

} // namespace

void addCompileCommand(CLI::App &app) {
  auto args = std::make_shared<CompileArgs>();
  CLI::App *cmd =
      app.add_subcommand("compile", "Compile a kernel specialization to PTX");
  cmd->add_flag("--list", args->list,
                "List the kernels and their parameters (with --template: "
                "that template's)");
  cmd->add_option("--kernel", args->kernel,
                  "Kernel name (see --list; with --template, default: the "
                  "file's stem)");
  cmd->add_option("--dtype", args->dtypes,
                  "Dtype of each placeholder, in order");
  cmd->add_option("--arch", args->arch,
                  "Target: sm_80 sm_86 sm_89 sm_90 sm_90a sm_100 sm_120")
      ->capture_default_str();
  // PTX ISA major*10 + minor: 1.0 is 10, the 9.x series 90-99.
  cmd->add_option("--ptx", args->ptxVersion,
                  "PTX ISA version as major*10+minor, e.g. 80 for 8.0 "
                  "(default: the arch's)")
      ->check(CLI::Range(10, 99));
  cmd->add_option("--set", args->sets,
                  "Constexpr value NAME=VALUE (repeatable)");
  cmd->add_option("--emit", args->emit,
                  "What to print: a stage of the pipeline, mlir (the " +
                      std::string(kMlirStage) + " stage) or all of them")
      ->check(CLI::IsMember(emitChoices()))
      ->capture_default_str();
  cmd->add_option("-o,--output", args->output, "Write here instead of stdout");
  cmd->add_option("--template", args->templateFile,
                  "Compile this template file instead of the embedded one");
  cmd->add_option("--dump", args->dumpDir,
                  "Write every stage here (as PACKJIT_DUMP)");
  cmd->add_flag("--time", args->time,
                "Print 'compile_ms N' on stderr: the compile, the compiler's "
                "initialization included");
  cmd->callback([args] { runCompile(*args); });
}

} // namespace packjit::cli
