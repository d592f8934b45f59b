// Timing of a compile: wall time per stage (always) and exclusive wall time
// per MLIR and LLVM IR pass (CompileOptions::timePasses).
#pragma once

#include "packjit/compiler/compiler.h"

#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassInstrumentation.h"
#include "llvm/IR/PassInstrumentation.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace packjit::pipeline {

// Wall time since construction: one stage's entry in CompileResult::phases.
class Stopwatch {
public:
  double millis() const {
    return std::chrono::duration<double, std::milli>(
               std::chrono::steady_clock::now() - start_)
        .count();
  }

private:
  std::chrono::steady_clock::time_point start_ =
      std::chrono::steady_clock::now();
};

// Exclusive wall time per pass name, as LLVM's -time-passes reports it: a
// pass's time excludes the nested passes and analyses it runs (pass
// managers, adaptors), so the numbers add up to the stage. Used from one
// thread at a time (one compile, one gpu.module).
class PassTimer {
public:
  void start(std::string name) {
    auto now = std::chrono::steady_clock::now();
    if (!running_.empty())
      charge(running_.back(), now);
    running_.push_back({std::move(name), now});
  }
  void stop() {
    if (running_.empty())
      return;
    auto now = std::chrono::steady_clock::now();
    charge(running_.back(), now);
    running_.pop_back();
    if (!running_.empty())
      running_.back().since = now;
  }
  // Appends "<stage>/<pass>" entries, slowest first, and starts afresh.
  void report(std::string_view stage, std::vector<compiler::PhaseTime> &out) {
    std::vector<compiler::PhaseTime> sorted;
    for (const auto &[name, millis] : totals_)
      sorted.push_back({std::string(stage) + "/" + name, millis});
    std::sort(sorted.begin(), sorted.end(),
              [](const auto &a, const auto &b) { return a.millis > b.millis; });
    out.insert(out.end(), sorted.begin(), sorted.end());
    totals_.clear();
    running_.clear();
  }

private:
  struct Running {
    std::string name;
    std::chrono::steady_clock::time_point since;
  };
  void charge(const Running &pass, std::chrono::steady_clock::time_point now) {
    totals_[pass.name] +=
        std::chrono::duration<double, std::milli>(now - pass.since).count();
  }
  std::vector<Running> running_;
  std::map<std::string, double> totals_;
};

// MLIR passes and analyses -> PassTimer.
class MlirPassTiming : public mlir::PassInstrumentation {
public:
  explicit MlirPassTiming(PassTimer &timer) : timer_(timer) {}
  void runBeforePass(mlir::Pass *pass, mlir::Operation *) override {
    timer_.start(pass->getName().str());
  }
  void runAfterPass(mlir::Pass *, mlir::Operation *) override { timer_.stop(); }
  void runAfterPassFailed(mlir::Pass *, mlir::Operation *) override {
    timer_.stop();
  }
  void runBeforeAnalysis(llvm::StringRef name, mlir::TypeID,
                         mlir::Operation *) override {
    timer_.start(name.str());
  }
  void runAfterAnalysis(llvm::StringRef, mlir::TypeID,
                        mlir::Operation *) override {
    timer_.stop();
  }

private:
  PassTimer &timer_;
};

// LLVM IR passes and analyses -> PassTimer, through the pass builder's own
// callbacks (no global -time-passes option).
void addLlvmPassTiming(llvm::PassInstrumentationCallbacks &callbacks,
                       PassTimer &timer);

} // namespace packjit::pipeline
