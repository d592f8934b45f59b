// packjit's kernel compiler: a kernel template + a KernelSpec -> PTX through
// an in-process MLIR pipeline (see docs/compiler.md for the stages).
#pragma once

#include "packjit/core/kernel_spec.h"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace packjit::compiler {

// The pipeline's stages, in order: "template", "specialized", "nvvm", "llvm",
// "ptx" (docs/compiler.md says what each holds). A stage's name is the only
// one it has: its entry in CompileResult::phases and ::stages, its dump file
// <kernel>-<hash>.<stage>, `packjit compile --emit <stage>`, and the
// "packjit compiler: <stage> failed" of its errors.
const std::vector<std::string_view> &stageNames();

// How much LLVM optimizes before the PTX is written. ptxas (the driver's JIT)
// optimizes the PTX again, so LLVM's job is mainly what ptxas cannot do well
// (SROA, CSE across the kernel, redundant address arithmetic); docs/compiler.md
// has the measured compile-time / code-size trade-off of each level.
enum class OptLevel {
  // LLVM's default O3 module pipeline and NVPTX codegen at -O3, as MLIR's
  // #nvvm.target serializer does.
  O3,
  // LLVM's default O2 pipeline, NVPTX codegen at -O2.
  O2,
  // LLVM's default O1 pipeline, NVPTX codegen at -O2.
  O1,
  // A short function pipeline for GPU kernels (the default): what ptxas
  // does not do as well on its own (SROA, CSE, LICM, loop rotation, full
  // unrolling of constant-trip loops, SCCP, BDCE); NVPTX codegen at -O0
  // (ptxas optimizes the PTX). Against the previous Kernel level: ptxas
  // spills less and uses as many registers (+-1), SASS -14..+8 % except
  // mask_scan's +19-28 % (phi copies kept as moves), a third of the compile
  // time (docs/compiler.md).
  Kernel,
};

struct CompileOptions {
  // Write every stage here as it is produced (PACKJIT_DUMP's job); empty: use
  // PACKJIT_DUMP when set.
  std::string dumpDir;
  // Keep every stage's text in CompileResult::stages (the CLI's --emit).
  bool keepStages = false;
  OptLevel optLevel = OptLevel::Kernel;
  // Fill CompileResult::passes with the time of every MLIR and LLVM IR pass
  // (costs a little: fresh pass managers, two clock reads per pass).
  bool timePasses = false;
};

// Wall time of one stage of a compile (CompileResult::phases) or of one pass
// (CompileResult::passes).
struct PhaseTime {
  std::string name;
  double millis = 0;
};

// The text of one stage: MLIR, LLVM IR or PTX.
struct StageText {
  std::string name;
  std::string text;
};

struct CompileResult {
  std::string ptx;
  std::string entryName; // the kernel's function name in the PTX
  // Every stage's text in pipeline order, when CompileOptions::keepStages is
  // set.
  std::vector<StageText> stages;
  // The text of the stage `name`, empty when not kept; throws packjit::Error
  // when no stage has that name.
  const std::string &stage(std::string_view name) const;
  // One per stage, in pipeline order; every compile records them (a clock
  // read per stage). PACKJIT_LOG=debug prints them.
  std::vector<PhaseTime> phases;
  // With CompileOptions::timePasses: exclusive wall time per pass, summed
  // over its runs, named "<stage>/<pass>" (e.g. "llvm/EarlyCSEPass",
  // "nvvm/PackjitConvertToNvvm"); within each stage the slowest first. Time
  // spent in analyses counts as "<stage>/<analysis>".
  std::vector<PhaseTime> passes;
};

// One per process is enough: it registers its dialects once and is
// thread-safe (compiles run in parallel). Failures throw packjit::Error with
// MLIR's diagnostics; nothing aborts the process.
class Compiler {
public:
  Compiler();
  ~Compiler();
  Compiler(const Compiler &) = delete;
  Compiler &operator=(const Compiler &) = delete;

  // The process-wide compiler, created on first use.
  static Compiler &shared();

  // Compiles one of the embedded templates (spec.kernel). Checks that
  // spec.templateHash and spec.compilerVersion match this library's.
  CompileResult compile(const KernelSpec &spec,
                        const CompileOptions &options = {});
  // Compiles `templateText` as if it were the template of spec.kernel: the
  // runtime's compiles through the C ABI (it passes the text its spec was
  // hashed from), templates outside kernels_src/, tests. Its header is read
  // per call; spec.templateHash is not checked here (the C ABI checks it).
  CompileResult compileText(std::string_view templateText,
                            const KernelSpec &spec,
                            const CompileOptions &options = {});

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace packjit::compiler
