// The MLIR pipeline behind packjit::compiler::Compiler: parse -> specialize
// -> canonicalize -> lower to NVVM -> LLVM IR -> PTX, on one shared context.
#pragma once

#include "packjit/compiler/compiler.h"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace packjit::pipeline {

struct PipelineRequest {
  std::string_view templateText;
  std::string sourceName; // locations in diagnostics, e.g. mask_scan.mlir
  std::vector<std::string> constexprs; // NAME=VALUE
  std::vector<std::string> dtypes;     // NAME=MLIR type, e.g. T=i32
  std::string chip;                    // sm_90a
  std::string features;                // +ptx80
  bool keepStages = false;
  compiler::OptLevel optLevel = compiler::OptLevel::O3;
  bool timePasses = false; // fills CompileResult::passes
};

// Thread-safe: run() may be called from several threads at once.
class Pipeline {
public:
  Pipeline();
  ~Pipeline();
  // Throws packjit::Error with MLIR's diagnostics on failure.
  compiler::CompileResult run(const PipelineRequest &request);

private:
  struct State;
  std::unique_ptr<State> state_;
};

} // namespace packjit::pipeline
