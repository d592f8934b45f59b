// `packjit aot --ops`: the specializations the ops launch for the masks, rows
// and position ids a trainer will give them, from the ops' own plan
// (ops/plan/), bound for each arch.
#pragma once

#include "packjit/core/kernel_spec.h"

#include <string>
#include <vector>

namespace packjit::cli {

struct AotOpsRequest {
  std::vector<std::string> ops;       // op names
  std::vector<std::string> masks;     // "8x4096:int64"
  std::vector<std::string> rows;      // "4096:bfloat16", "32x128:float16"
  std::vector<std::string> positions; // "int64", "1x65536:int32"
  std::vector<bool> strictModes;      // strict=True and/or strict=False
  std::string shapePolicy;            // PACKJIT_SHAPES' words; "" = bucket
  std::vector<std::string> archs;
};

// The specs of one launch on one arch, e.g. "get_unpad_data 8x4096:int64
// strict on sm_90": mask_scan specialized, then generic.
struct SpecGroup {
  std::string what;
  std::vector<KernelSpec> specs;
};

// One line on the settings the plan followed (shape policy, and
// PACKJIT_SCAN_CHUNK / PACKJIT_PAD_INPUT when set), for --dry-run.
std::string describeSettings(const AotOpsRequest &request);
// Every launch of every op on every arch. Throws packjit::Error naming the
// bad item (an op, a --masks/--rows/--positions item) and what is accepted.
std::vector<SpecGroup> opsSpecGroups(const AotOpsRequest &request);

} // namespace packjit::cli
