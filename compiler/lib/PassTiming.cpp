#include "PassTiming.h"

#include "llvm/IR/PassManager.h"

namespace packjit::pipeline {

// LLVM IR passes and analyses -> PassTimer, through the pass builder's own
// callbacks (no global -time-passes option).
void addLlvmPassTiming(llvm::PassInstrumentationCallbacks &callbacks,
                       PassTimer &timer) {
  callbacks.registerBeforeNonSkippedPassCallback(
      [&timer](llvm::StringRef pass, llvm::Any) { timer.start(pass.str()); });
  callbacks.registerAfterPassCallback(
      [&timer](llvm::StringRef, llvm::Any, const llvm::PreservedAnalyses &) {
        timer.stop();
      });
  callbacks.registerAfterPassInvalidatedCallback(
      [&timer](llvm::StringRef, const llvm::PreservedAnalyses &) {
        timer.stop();
      });
  callbacks.registerBeforeAnalysisCallback(
      [&timer](llvm::StringRef analysis, llvm::Any) {
        timer.start(analysis.str());
      });
  callbacks.registerAfterAnalysisCallback(
      [&timer](llvm::StringRef, llvm::Any) { timer.stop(); });
}

} // namespace packjit::pipeline
