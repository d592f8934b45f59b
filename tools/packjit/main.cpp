// packjit: JIT kernel generator for packed-sequence training. Command line.
#include "commands.h"

#include "packjit/core/error.h"
#include "packjit/core/version.h"

#include <iostream>

#ifdef PACKJIT_HAVE_TORCH
#include <c10/util/Exception.h>
#endif

namespace packjit::cli {
namespace {

[[maybe_unused]] void addUnavailable(CLI::App &app, const std::string &name,
                                     const std::string &what,
                                     const std::string &missing) {
  CLI::App *cmd =
      app.add_subcommand(name, what + " (not built: " + missing + ")");
  cmd->allow_extras();
  cmd->callback([name, missing] {
    throw Error("'packjit " + name +
                "' is not available in this build: " + missing);
  });
}

void addBenchCommand(CLI::App &app) {
  auto options = std::make_shared<BenchOptions>();
  CLI::App *cmd = app.add_subcommand(
      "bench",
      "Run a benchmark and print its table (--device cpu|cuda, --compile)");
  cmd->add_option(
         "--device", options->device,
         "cpu (the CPU ops) or cuda (the CUDA ops' host time, C++ API)")
      ->check(CLI::IsMember({"cpu", "cuda"}));
  cmd->add_flag("--compile", options->compile,
                "Time JIT compilation of new specializations instead");
  cmd->add_option("--threads", options->threads, "Torch intra-op threads (CPU)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--repeats", options->repeats, "Timed repetitions per case");
  cmd->add_option("--json", options->jsonPath,
                  "Also write the results here as JSON");
  cmd->callback([options] {
    int rc = 0;
    if (options->compile) {
#ifdef PACKJIT_HAVE_COMPILER
      rc = runCompileBench(*options);
#else
      throw Error(
          "'packjit bench --compile' needs the compiler, not built here");
#endif
    } else {
#ifdef PACKJIT_HAVE_TORCH
      rc = options->device == "cuda" ? runCudaBench(*options)
                                     : runCpuBench(*options);
#else
      throw Error("'packjit bench --device " + options->device +
                  "' needs the LibTorch op library, not built here");
#endif
    }
    if (rc != 0)
      throw CLI::RuntimeError(rc);
  });
}

} // namespace
} // namespace packjit::cli

int main(int argc, char **argv) {
  using namespace packjit::cli;
  CLI::App app{
      "packjit: JIT-compiled GPU kernels for packed-sequence training"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(packjit::compilerVersion()));
#ifdef PACKJIT_HAVE_TORCH
  addDemoCommand(app);
#else
  addUnavailable(app, "demo", "Run get_unpad_data on example masks",
                 "LibTorch");
#endif
#ifdef PACKJIT_HAVE_COMPILER
  addCompileCommand(app);
#else
  addUnavailable(app, "compile", "Compile a kernel specialization",
                 "LLVM/MLIR");
#endif
#ifdef PACKJIT_HAVE_RUNTIME
  addCacheCommand(app);
  addAotCommand(app);
#else
  addUnavailable(app, "cache", "Inspect the kernel cache", "the runtime");
  addUnavailable(app, "aot", "Compile kernels into a bundle", "the runtime");
#endif
  addBenchCommand(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    return app.exit(e);
#ifdef PACKJIT_HAVE_TORCH
  } catch (const c10::Error &e) {
    // The ops' errors, without the C++ backtrace that what() appends.
    std::cerr << "packjit: error: " << e.what_without_backtrace() << "\n";
    return 1;
#endif
  } catch (const std::exception &e) {
    // packjit::Error and the rest.
    std::cerr << "packjit: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
