#include "packjit/plan/row_copy.h"

namespace packjit::plan {
namespace {

constexpr int64_t kBlock = 256;

// Below this many output bytes pad_input zero-fills and scatters (two
// launches); above, it builds the inverse map and gathers (four launches,
// fewer bytes). Measured on the H100 (docs/padding.md): scatter wins at 13
// and 63 MB of output (27.7 vs 47.6 µs, 36.4 vs 47.5 µs), gather from 424 MB
// on (88-95% of D2D against 72-75%); the switch sits between, at 128 MB.
constexpr int64_t kGatherPadBytes = int64_t{128} << 20;

// Threads per row: enough for about four words each, a power of two, at most
// a warp (wider rows loop; a warp already reads 512 contiguous bytes a step).
int64_t lanesFor(int64_t rowWords) {
  int64_t lanes = 1;
  while (lanes < 32 && lanes * 4 < rowWords)
    lanes *= 2;
  return lanes;
}

} // namespace

std::optional<RowWord> rowWord(int64_t rowBytes, int64_t strideBytes,
                               uint64_t addressBits) {
  static constexpr RowWord kWords[] = {{DType::Int64, 16, true},
                                       {DType::Int64, 8, false},
                                       {DType::Int32, 4, false},
                                       {DType::Float16, 2, false}};
  for (const RowWord &word : kWords) {
    const auto bytes = static_cast<uint64_t>(word.bytes);
    if (rowBytes % word.bytes == 0 && strideBytes % word.bytes == 0 &&
        addressBits % bytes == 0)
      return word;
  }
  return std::nullopt;
}

RowCopyConstexprs rowCopyConstexprs(RowWord word, int64_t rowWords,
                                    bool checkIndices) {
  RowCopyConstexprs c;
  c.block = kBlock;
  c.row = rowWords;
  c.lanes = lanesFor(rowWords);
  c.wide = word.wide ? 1 : 0;
  c.check = checkIndices ? 1 : 0;
  return c;
}

std::map<std::string, int64_t> RowCopyConstexprs::byName() const {
  return {{"BLOCK", block},
          {"ROW", row},
          {"LANES", lanes},
          {"WIDE", wide},
          {"CHECK", check}};
}

std::optional<PadStrategy> parsePadStrategy(std::string_view text) {
  if (text == "scatter")
    return PadStrategy::Scatter;
  if (text == "gather")
    return PadStrategy::Gather;
  return std::nullopt;
}

PadStrategy padInputStrategy(int64_t outputBytes,
                             std::optional<PadStrategy> forced) {
  if (forced)
    return *forced;
  return outputBytes < kGatherPadBytes ? PadStrategy::Scatter
                                       : PadStrategy::Gather;
}

} // namespace packjit::plan
