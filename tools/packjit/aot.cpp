// `packjit aot`: compiles a matrix of specializations (kernels x dtypes x
// archs x shapes) into one AOT bundle. The compiler is loaded the way the
// runtime loads it (dlopen), so this works in builds that do not link it.
#include "commands.h"

#include "packjit/core/error.h"
#include "packjit/core/kernel_contract.h"
#include "packjit/core/split_list.h"
#include "packjit/runtime/bundle.h"
#include "packjit/runtime/compiler_library.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <unistd.h>

namespace packjit::cli {
namespace {

struct AotOptions {
  std::vector<std::string> kernels;
  std::vector<std::string> dtypes; // "i64", or "i64+f32" for several
  std::vector<std::string> archs;
  std::vector<std::string> shapes; // "S=4096,BLOCK=256"
  std::vector<std::string> sets;   // "BLOCK=256", applied to every shape
  std::string output;
  std::string compilerLibrary;
};

std::map<std::string, int64_t> parseAssignments(const std::string &text) {
  std::map<std::string, int64_t> values;
  for (const std::string &item : splitList(text, ',')) {
    size_t eq = item.find('=');
    char *end = nullptr;
    long long value = eq == std::string::npos
                          ? 0
                          : std::strtoll(item.c_str() + eq + 1, &end, 10);
    if (eq == std::string::npos || eq == 0 || !end || *end != '\0')
      throw Error("'" + item + "' should be NAME=INTEGER");
    values[item.substr(0, eq)] = value;
  }
  return values;
}

std::vector<DType> parseDTypeGroup(const std::string &text) {
  std::vector<DType> group;
  for (const std::string &name : splitList(text, '+')) {
    std::optional<DType> dtype = parseDType(name);
    if (!dtype)
      throw Error("unknown dtype '" + name + "'");
    group.push_back(*dtype);
  }
  return group;
}

std::vector<KernelSpec> specMatrix(const AotOptions &options) {
  std::map<std::string, int64_t> common;
  for (const std::string &set : options.sets)
    for (const auto &[name, value] : parseAssignments(set))
      common[name] = value;
  std::vector<std::map<std::string, int64_t>> shapes;
  for (const std::string &shape : options.shapes)
    shapes.push_back(parseAssignments(shape));
  if (shapes.empty())
    shapes.emplace_back();
  std::vector<KernelSpec> specs;
  for (const std::string &kernel : options.kernels)
    for (const std::string &dtypes : options.dtypes)
      for (const std::string &arch : options.archs)
        for (const auto &shape : shapes) {
          // Checked as every spec is: a specialization the template's
          // header forbids never reaches the bundle.
          specs.push_back(KernelBinding(KernelContract::of(kernel))
                              .dtypes(parseDTypeGroup(dtypes))
                              .set(common)
                              .set(shape)
                              .arch(arch)
                              .spec());
        }
  return specs;
}

void drawProgress(size_t done, size_t total, const std::string &label) {
  constexpr int kWidth = 30;
  int filled = total ? static_cast<int>(kWidth * done / total) : kWidth;
  std::fprintf(stderr, "\r[%.*s%*s] %zu/%zu %-40.40s", filled,
               "##############################", kWidth - filled, "", done,
               total, label.c_str());
  if (done == total)
    std::fputc('\n', stderr);
  std::fflush(stderr);
}

void runAot(const AotOptions &options) {
  if (!options.compilerLibrary.empty())
    setenv("PACKJIT_COMPILER_LIBRARY", options.compilerLibrary.c_str(), 1);
  std::vector<KernelSpec> specs = specMatrix(options);
  std::string why;
  if (!runtime::compilerAvailable(&why))
    throw Error("'packjit aot' needs the compiler: " + why);
  bool tty = ::isatty(STDERR_FILENO);
  auto start = std::chrono::steady_clock::now();
  std::vector<runtime::CacheEntry> entries;
  for (size_t i = 0; i < specs.size(); ++i) {
    if (tty)
      drawProgress(i, specs.size(), specs[i].fileStem());
    entries.push_back(
        {specs[i].canonical(),
         runtime::compileWithCompilerLibrary(
             specs[i], KernelContract::of(specs[i].kernel).templateText())});
  }
  if (tty)
    drawProgress(specs.size(), specs.size(), "done");
  runtime::writeBundle(options.output, entries);
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  std::cout << "wrote " << entries.size() << " kernels to " << options.output
            << " in " << seconds << " s\n";
}

} // namespace

void addAotCommand(CLI::App &app) {
  auto options = std::make_shared<AotOptions>();
  CLI::App *cmd = app.add_subcommand(
      "aot", "Compile kernels x dtypes x archs x shapes into one AOT bundle");
  cmd->add_option("--kernels", options->kernels, "Kernel template names")
      ->required();
  cmd->add_option(
         "--dtypes", options->dtypes,
         "Dtypes, one per specialization ('i64'; 'i64+f32' for several)")
      ->required();
  cmd->add_option("--archs", options->archs, "Targets, e.g. sm_80 sm_90")
      ->required();
  cmd->add_option("--shapes", options->shapes,
                  "Constexpr sets, one per specialization: S=4096,BLOCK=256");
  cmd->add_option("--set", options->sets,
                  "Constexprs for every specialization: NAME=V");
  cmd->add_option("-o,--output", options->output, "The bundle file to write")
      ->required();
  cmd->add_option(
      "--compiler", options->compilerLibrary,
      "libpackjit_compiler.so to use (else as the runtime finds it)");
  cmd->callback([options] { runAot(*options); });
}

} // namespace packjit::cli
