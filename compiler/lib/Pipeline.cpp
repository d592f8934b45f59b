#include "Pipeline.h"

#include "Diagnostics.h"
#include "PassTiming.h"
#include "PipelineState.h"
#include "StageDump.h"
#include "Stages.h"

#include "packjit/core/error.h"

namespace packjit::pipeline {
namespace {

// A stage's failure, whatever reports it, reads
// "packjit compiler: <stage> failed: <why>".
void runStage(const Stage &stage, Compilation &compilation,
              const DiagnosticCollector &diags) {
  std::string failed =
      "packjit compiler: " + std::string(stage.name) + " failed";
  mlir::LogicalResult outcome = mlir::failure();
  try {
    outcome = stage.run(compilation);
  } catch (const Error &error) {
    throw Error(failed + ": " + error.what());
  }
  if (mlir::failed(outcome))
    throw Error(failed +
                (diags.text().empty() ? std::string() : ":\n" + diags.text()));
}

} // namespace

Pipeline::Pipeline() : state_(std::make_unique<PipelineState>()) {}

Pipeline::~Pipeline() = default;

compiler::CompileResult Pipeline::run(const PipelineRequest &request) {
  const compiler::CompileOptions &options = request.options;
  bool dumping = !options.dumpDir.empty();
  if (dumping) {
    createDumpDir(options.dumpDir);
    for (const Stage &stage : stages())
      removeStageDump(options.dumpDir, request.dumpStem, stage.name);
  }
  compiler::CompileResult result;
  DiagnosticCollector diags;
  PassTimer passTimer;
  Compilation compilation(request, *state_, result,
                          options.timePasses ? &passTimer : nullptr);
  for (const Stage &stage : stages()) {
    Stopwatch stopwatch;
    runStage(stage, compilation, diags);
    result.phases.push_back({std::string(stage.name), stopwatch.millis()});
    if (options.timePasses)
      passTimer.report(stage.name, result.passes);
    if (!dumping && !options.keepStages)
      continue;
    std::string text = stage.print(compilation);
    if (dumping)
      writeStageDump(options.dumpDir, request.dumpStem, stage.name, text);
    if (options.keepStages)
      result.stages.push_back({std::string(stage.name), std::move(text)});
  }
  return result;
}

} // namespace packjit::pipeline
