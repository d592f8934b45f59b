// The mask_scan specialization (kernels_src/mask_scan.mlir) that the CUDA
// scan ops -- get_unpad_data, get_seqlens_in_batch, get_unpad_data_padded --
// launch for a mask. ops/src/cuda/unpad_data_scan.cpp launches what this
// returns and `packjit aot --ops` bundles it: one choice, two users.
#pragma once

#include "packjit/core/dtype.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace packjit::plan {

inline constexpr std::string_view kMaskScanKernel = "mask_scan";

// PACKJIT_SHAPES: the row length SEQ a kernel is specialized for.
//   exact: S; bucket (default): S when it is a power of two, else 0;
//   dynamic: 0 (the kernel reads S at run time).
enum class ShapePolicy { Exact, Bucket, Dynamic };

// "exact", "bucket", "dynamic"; "" (unset) is bucket; nullopt otherwise.
std::optional<ShapePolicy> parseShapePolicy(std::string_view text);
std::string_view shapePolicyName(ShapePolicy policy);
// PACKJIT_SCAN_CHUNK: "32" or "64" force CHUNK; "" (unset) is 0, CHUNK
// chosen by the mask's size; nullopt otherwise (the ops ignore it).
std::optional<int64_t> parseScanChunk(std::string_view text);

// One scan of a [batch, seqLen] mask of `dtype`.
struct MaskScanInput {
  DType dtype = DType::Int64;
  int64_t batch = 0;
  int64_t seqLen = 0;
  bool strict = true;
  bool padded = false; // get_unpad_data_padded
  ShapePolicy shapes = ShapePolicy::Bucket;
  int64_t forcedChunk = 0; // 32 or 64 (PACKJIT_SCAN_CHUNK); 0: by size
};

// mask_scan's constexprs, by name.
struct MaskScanConstexprs {
  int64_t block = 0;
  int64_t strict = 0;
  int64_t padded = 0;
  int64_t seq = 0; // 0: the generic kernel (row length read at run time)
  int64_t chunk = 0;

  // The generic kernel of the same launch: SEQ = 0, everything else equal.
  MaskScanConstexprs generic() const;
  // Tiles of BLOCK threads x CHUNK bytes over `tokens` tokens of
  // `elementSize` bytes: the grid.
  int64_t tiles(int64_t tokens, int64_t elementSize) const;
  std::map<std::string, int64_t> byName() const;
  friend bool operator==(const MaskScanConstexprs &,
                         const MaskScanConstexprs &) = default;
};

// The specialized kernel's constexprs (the generic one: .generic()).
MaskScanConstexprs maskScanConstexprs(const MaskScanInput &input);

int64_t specializedSeqLen(int64_t seqLen, ShapePolicy policy);
// Mask bytes per thread for a mask of `maskBytes` bytes of `elementSize`
// bytes each; `forcedChunk` (32 or 64) wins when not 0.
int64_t maskScanChunkBytes(int64_t maskBytes, int64_t elementSize,
                           int64_t forcedChunk);

} // namespace packjit::plan
