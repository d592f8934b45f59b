#include "packjit/plan/mask_scan.h"

#include <algorithm>

namespace packjit::plan {
namespace {

constexpr int64_t kBlock = 256;

// Mask bytes per thread (the template's CHUNK), measured on the H100:
// - while every tile is resident at once, the kernel's time is one tile's
//   latency chain plus one look-back step per window of 32 predecessors
//   (mask_scan.mlir): 32 bytes when that gives at most 32 tiles, else 8
//   tokens per thread (128K int64 tokens: 10.3 us with 64 tiles, 11.0 with
//   128; int32: 9.5 us with 8 tokens per thread, 12.3 with 16). A 64-tile
//   window (two tiles per lane) saved ~0.8 us at 64 tiles but cost 10 % at
//   64x65536 (register spills in the look-back): not kept;
// - beyond 4 MB of mask, 64 bytes: half the tiles, look-backs and fences
//   (64x65536 int64: 106 against 150 us).
constexpr int64_t kLargeMaskBytes = int64_t{4} << 20;
constexpr int64_t kLookBackWindow = 32;

} // namespace

std::optional<ShapePolicy> parseShapePolicy(std::string_view text) {
  if (text.empty() || text == "bucket")
    return ShapePolicy::Bucket;
  if (text == "exact")
    return ShapePolicy::Exact;
  if (text == "dynamic")
    return ShapePolicy::Dynamic;
  return std::nullopt;
}

std::string_view shapePolicyName(ShapePolicy policy) {
  switch (policy) {
  case ShapePolicy::Exact:
    return "exact";
  case ShapePolicy::Bucket:
    return "bucket";
  case ShapePolicy::Dynamic:
    return "dynamic";
  }
  return "bucket";
}

std::optional<int64_t> parseScanChunk(std::string_view text) {
  if (text.empty())
    return 0;
  if (text == "32")
    return 32;
  if (text == "64")
    return 64;
  return std::nullopt;
}

int64_t specializedSeqLen(int64_t seqLen, ShapePolicy policy) {
  switch (policy) {
  case ShapePolicy::Exact:
    return seqLen;
  case ShapePolicy::Bucket:
    return (seqLen & (seqLen - 1)) == 0 ? seqLen : 0;
  case ShapePolicy::Dynamic:
    return 0;
  }
  return 0;
}

int64_t maskScanChunkBytes(int64_t maskBytes, int64_t elementSize,
                           int64_t forcedChunk) {
  if (forcedChunk)
    return forcedChunk;
  if (maskBytes > kLargeMaskBytes)
    return 64;
  const int64_t tileBytes32 = kBlock * 32;
  if ((maskBytes + tileBytes32 - 1) / tileBytes32 <= kLookBackWindow)
    return 32;
  return std::clamp<int64_t>(8 * elementSize, 32, 64);
}

MaskScanConstexprs maskScanConstexprs(const MaskScanInput &input) {
  const int64_t elementSize = dtypeSize(input.dtype);
  MaskScanConstexprs c;
  c.block = kBlock;
  c.strict = input.strict ? 1 : 0;
  c.padded = input.padded ? 1 : 0;
  c.seq = specializedSeqLen(input.seqLen, input.shapes);
  c.chunk = maskScanChunkBytes(input.batch * input.seqLen * elementSize,
                               elementSize, input.forcedChunk);
  return c;
}

MaskScanConstexprs MaskScanConstexprs::generic() const {
  MaskScanConstexprs c = *this;
  c.seq = 0;
  return c;
}

int64_t MaskScanConstexprs::tiles(int64_t tokens, int64_t elementSize) const {
  const int64_t tileTokens = block * (chunk / elementSize);
  return (tokens + tileTokens - 1) / tileTokens;
}

std::map<std::string, int64_t> MaskScanConstexprs::byName() const {
  return {{"BLOCK", block},
          {"STRICT", strict},
          {"PADDED", padded},
          {"SEQ", seq},
          {"CHUNK", chunk}};
}

} // namespace packjit::plan
