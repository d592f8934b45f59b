// The MLIR pass pipelines of the `specialized` and `nvvm` stages (the
// upstream passes in them are the ones packjit-opt registers).
#pragma once

#include "mlir/Pass/PassManager.h"

namespace packjit::pipeline {

// canonicalize, cse: the `specialized` stage after packjit-specialize (the
// helpers were inlined in the template stage).
void addSimplification(mlir::PassManager &pm);
// scf -> cf, packjit-convert-to-nvvm, reconcile-unrealized-casts on the
// gpu.module: the `nvvm` stage of a kernel whose helpers were all inlined.
void addLowering(mlir::PassManager &pm);
// The same, with the inliner and a cleanup after the conversion for the
// helpers packjit-inline-helpers left (multi-block or recursive ones).
void addLoweringWithHelpers(mlir::PassManager &pm);

} // namespace packjit::pipeline
