// The MLIR pipeline behind packjit::compiler::Compiler: runs the stages of
// Stages.h (template -> specialized -> nvvm -> llvm -> ptx) on one shared
// context, timing and dumping each.
#pragma once

#include "packjit/compiler/compiler.h"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace packjit::pipeline {

struct PipelineState;

struct PipelineRequest {
  std::string_view templateText;
  std::string sourceName; // locations in diagnostics, e.g. mask_scan.mlir
  std::vector<std::string> constexprs; // NAME=VALUE
  std::vector<std::string> dtypes;     // NAME=MLIR type, e.g. T=i32
  std::string chip;                    // sm_90a
  std::string features;                // +ptx80
  // The caller's options, dumpDir already resolved (PACKJIT_DUMP).
  compiler::CompileOptions options;
  std::string dumpStem; // each stage goes to <dumpDir>/<dumpStem>.<stage>
};

// Thread-safe: run() may be called from several threads at once.
class Pipeline {
public:
  Pipeline();
  ~Pipeline();
  // Throws packjit::Error "packjit compiler: <stage> failed: ..." (with
  // MLIR's diagnostics) on failure, after dumping the stages before it.
  compiler::CompileResult run(const PipelineRequest &request);

private:
  std::unique_ptr<PipelineState> state_;
};

} // namespace packjit::pipeline
