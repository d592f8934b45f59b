// Which kernel specializations each op launches on CUDA for the inputs a
// trainer will give it: the table behind `packjit aot --ops`. Each op's
// choice itself is made in mask_scan.h, row_copy.h and position_ids_scan.h,
// which the ops call too; this file only says which op makes which choices
// for which inputs, backward included (pad_input's backward is unpad_input;
// unpad_input's is torch's index_add, which launches no packjit kernel).
#pragma once

#include "packjit/core/dtype.h"
#include "packjit/plan/mask_scan.h"
#include "packjit/plan/row_copy.h"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace packjit::plan {

// An attention mask [batch, seqLen] of `dtype`; `text` names it in messages.
struct MaskInput {
  int64_t batch = 0;
  int64_t seqLen = 0;
  DType dtype = DType::Int64;
  std::string text;
};

// Rows that unpad_input / pad_input / unpad_inputs move: `elements` per row
// (the hidden size, or heads x head_dim), contiguous, of `dtype`.
struct RowInput {
  int64_t elements = 0;
  DType dtype = DType::BFloat16;
  std::string text;
};

// position_ids of `dtype` (the shape is optional: seqLen 0).
struct PositionInput {
  int64_t batch = 1;
  int64_t seqLen = 0;
  DType dtype = DType::Int64;
  std::string text;
};

struct OpPlanOptions {
  std::vector<MaskInput> masks;
  std::vector<RowInput> rows;
  std::vector<PositionInput> positions; // empty: int64
  std::vector<bool> strictModes{true, false};
  ShapePolicy shapes = ShapePolicy::Bucket; // PACKJIT_SHAPES
  int64_t forcedChunk = 0;                  // PACKJIT_SCAN_CHUNK
  int64_t forcedPositionChunks = 0;         // PACKJIT_POSITION_IDS_CHUNKS
  std::optional<PadStrategy> forcedPad;     // PACKJIT_PAD_INPUT
};

// One specialization: a kernel template, its dtypes in the header's order
// and its constexprs by name (the rest at the template's defaults).
struct PlannedKernel {
  std::string kernel;
  std::vector<DType> dtypes;
  std::map<std::string, int64_t> constexprs;
  friend bool operator==(const PlannedKernel &,
                         const PlannedKernel &) = default;
};

// What one op launches for one input, e.g. "get_unpad_data 8x4096:int64
// strict": mask_scan specialized and generic. Empty for an op that runs no
// JIT kernel.
struct PlannedLaunch {
  std::string what;
  std::vector<PlannedKernel> kernels;
};

// The ops that run on CUDA, sorted.
const std::vector<std::string_view> &opNames();
// The op `name` ("get_unpad_data"; "packjit.get_unpad_data" and
// "packjit::get_unpad_data" too). Throws packjit::Error listing opNames().
std::string_view findOp(std::string_view name);

// The dtypes each kind of input may have, as the ops check them.
const std::vector<DType> &maskDTypes();     // int64 ... bool
const std::vector<DType> &rowDTypes();      // float32 ... int32
const std::vector<DType> &positionDTypes(); // integers
// "int64, int32, ..." (torch's names), for messages.
std::string dtypeList(const std::vector<DType> &dtypes);

// Every launch of `op` (a name from opNames()) for `options`. Throws
// packjit::Error naming what the op needs and lacks (--masks, --rows) or
// the input of a dtype it does not take.
std::vector<PlannedLaunch> planOp(std::string_view op,
                                  const OpPlanOptions &options);

} // namespace packjit::plan
