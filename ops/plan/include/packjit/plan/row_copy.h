// The gather_rows / scatter_rows specializations (kernels_src/gather_rows.mlir,
// scatter_rows.mlir) that unpad_input, pad_input and unpad_inputs launch on
// CUDA for a row width, and pad_input's choice between its two ways. Used
// by ops/src/cuda/unpad_input.cpp and by `packjit aot --ops`.
#pragma once

#include "packjit/core/dtype.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace packjit::plan {

inline constexpr std::string_view kGatherRowsKernel = "gather_rows";
inline constexpr std::string_view kScatterRowsKernel = "scatter_rows";

// How the kernels move a row: 16-byte words (WIDE), else the widest T word
// (8, 4 or 2 bytes). The T of a wide copy is unused, so it is always i64
// (one kernel).
struct RowWord {
  DType dtype = DType::Int64;
  int64_t bytes = 0;
  bool wide = false;
};

// The widest word that divides the row's bytes, its stride and every base
// address; `addressBits` is the bitwise OR of those addresses (0 stands for
// the caching allocator's aligned ones). nullopt: rows of an odd byte count
// or at odd addresses, which the kernels cannot copy.
std::optional<RowWord> rowWord(int64_t rowBytes, int64_t strideBytes,
                               uint64_t addressBits);

// gather_rows' and scatter_rows' constexprs, by name.
struct RowCopyConstexprs {
  int64_t block = 0;
  int64_t row = 0; // words per row
  int64_t lanes = 0;
  int64_t wide = 0;
  // PACKJIT_CHECK=1: the kernel reports an out-of-range index (the indices
  // then carry a flag word); a debug mode, compiled when used, never bundled
  // by `packjit aot --ops`.
  int64_t check = 0;

  std::map<std::string, int64_t> byName() const;
};

// A row of `rowWords` words of `word`: one group of LANES threads per row,
// BLOCK / LANES rows per block.
RowCopyConstexprs rowCopyConstexprs(RowWord word, int64_t rowWords,
                                    bool checkIndices = false);

// pad_input on CUDA: zero-fill + scatter_rows, or an inverse map (an i64
// scatter_rows of row numbers) + gather_rows.
enum class PadStrategy { Scatter, Gather };
// PACKJIT_PAD_INPUT: "scatter" or "gather"; nullopt (unset, anything else):
// chosen by output size.
std::optional<PadStrategy> parsePadStrategy(std::string_view text);
// The strategy for an output of `outputBytes` bytes, unless forced.
PadStrategy padInputStrategy(int64_t outputBytes,
                             std::optional<PadStrategy> forced);
// The rows pad_input's inverse map is built from: one i64 row number each.
inline constexpr RowWord kRowNumberWord{DType::Int64, 8, false};

} // namespace packjit::plan
