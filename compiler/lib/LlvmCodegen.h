// The LLVM half of the pipeline: NVPTX TargetMachines, the LLVM IR
// optimization pipeline of each OptLevel, and PTX emission.
#pragma once

#include "PassTiming.h"
#include "Pool.h"

#include "packjit/compiler/compiler.h"

#include "llvm/IR/Module.h"
#include "llvm/Target/TargetMachine.h"

#include <map>
#include <mutex>
#include <string>

namespace packjit::pipeline {

inline constexpr const char *kNvptxTriple = "nvptx64-nvidia-cuda";

// Registers LLVM's NVPTX target (once per process).
void initializeNvptxTarget();

// TargetMachines pooled per (chip, features): created once, as MLIR's
// serializer would on every compile, and reused by later compiles.
class TargetMachinePools {
public:
  Pool<llvm::TargetMachine>::Lease take(const std::string &chip,
                                        const std::string &features);

private:
  Pool<llvm::TargetMachine> &poolFor(const std::string &chip,
                                     const std::string &features);

  std::mutex mutex_;
  std::map<std::string, Pool<llvm::TargetMachine>> pools_; // "chip features"
};

// Runs the LLVM IR pipeline of `level` on `module`; with a timer, its passes
// and analyses report to it.
void optimize(llvm::Module &module, llvm::TargetMachine &machine,
              compiler::OptLevel level, PassTimer *timer);
// Sets `machine`'s codegen level for `level` and writes the module's PTX.
std::string emitPtx(llvm::Module &module, llvm::TargetMachine &machine,
                    compiler::OptLevel level);

} // namespace packjit::pipeline
