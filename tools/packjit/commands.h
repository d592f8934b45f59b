// The subcommands of the `packjit` CLI, one file each.
#pragma once

#include <CLI/CLI.hpp>

namespace packjit::cli {

// Each adds its subcommand (options and callback) to `app`.
void addDemoCommand(CLI::App &app);    // demo.cpp
void addCompileCommand(CLI::App &app); // compile.cpp
void addCacheCommand(CLI::App &app);   // cache.cpp
void addAotCommand(CLI::App &app);     // aot.cpp

// `packjit bench` dispatches to these (bench_*.cpp); each prints a table and,
// when jsonPath is not empty, writes its results there as JSON.
struct BenchOptions {
  std::string device = "cpu";
  bool compile = false;
  int threads = 1;
  int repeats = 0; // 0: the benchmark's default
  std::string jsonPath;
};
int runCpuBench(const BenchOptions &options);     // bench_cpu.cpp
int runCudaBench(const BenchOptions &options);    // bench_cuda.cpp
int runCompileBench(const BenchOptions &options); // bench_compile.cpp

} // namespace packjit::cli
