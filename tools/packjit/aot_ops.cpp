#include "aot_ops.h"

#include "packjit/core/error.h"
#include "packjit/core/kernel_contract.h"
#include "packjit/core/split_list.h"
#include "packjit/plan/op_kernels.h"
#include "packjit/plan/position_ids_scan.h"

#include <charconv>
#include <cstdlib>
#include <limits>

namespace packjit::cli {
namespace {

// The ops count tokens in int32 (cu_seqlens).
constexpr int64_t kMaxTokens = std::numeric_limits<int32_t>::max();

std::string env(const char *name) {
  const char *value = std::getenv(name);
  return value ? value : "";
}

std::optional<int64_t> positiveInteger(std::string_view text) {
  int64_t value = 0;
  auto [end, ec] =
      std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value <= 0)
    return std::nullopt;
  return value;
}

// "AxBxC" -> {A, B, C}, each a positive integer; nullopt when malformed.
std::optional<std::vector<int64_t>> dims(std::string_view text) {
  std::vector<int64_t> out;
  for (const std::string &item : splitList(text, 'x')) {
    std::optional<int64_t> value = positiveInteger(item);
    if (!value)
      return std::nullopt;
    out.push_back(*value);
  }
  if (out.empty() || text.front() == 'x' || text.back() == 'x' ||
      text.find("xx") != std::string_view::npos)
    return std::nullopt;
  return out;
}

struct Item {
  std::string shape; // before ':' ("" when none)
  std::string dtype;
};

Item splitItem(const std::string &text) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos)
    return {"", text};
  return {text.substr(0, colon), text.substr(colon + 1)};
}

DType itemDType(const std::string &option, const std::string &text,
                const std::string &dtype, const std::vector<DType> &accepted,
                const std::string &what) {
  std::optional<DType> parsed = parseDType(dtype);
  bool ok = false;
  for (DType d : accepted)
    ok = ok || (parsed && *parsed == d);
  if (!ok)
    throw Error(option + " item '" + text + "': " + what + " are " +
                plan::dtypeList(accepted) + ", not '" + dtype + "'");
  return *parsed;
}

plan::MaskInput parseMask(const std::string &text) {
  const std::string usage =
      "--masks item '" + text + "' should be BxS:DTYPE, e.g. 8x4096:int64";
  Item item = splitItem(text);
  std::optional<std::vector<int64_t>> shape = dims(item.shape);
  if (item.shape.empty() || !shape || shape->size() != 2)
    throw Error(usage);
  plan::MaskInput mask;
  mask.batch = (*shape)[0];
  mask.seqLen = (*shape)[1];
  if (mask.batch > kMaxTokens / mask.seqLen)
    throw Error("--masks item '" + text +
                "': more than 2^31-1 tokens, which the ops refuse");
  mask.dtype = itemDType("--masks", text, item.dtype, plan::maskDTypes(),
                         "attention masks");
  mask.text = text;
  return mask;
}

plan::RowInput parseRows(const std::string &text) {
  Item item = splitItem(text);
  std::optional<std::vector<int64_t>> shape = dims(item.shape);
  if (item.shape.empty() || !shape)
    throw Error("--rows item '" + text +
                "' should be WIDTH:DTYPE (the elements of one token's row, "
                "e.g. 4096:bfloat16, or 32x128:bfloat16 for heads x "
                "head_dim)");
  plan::RowInput row;
  row.elements = 1;
  for (int64_t d : *shape) {
    if (row.elements > std::numeric_limits<int32_t>::max() / d)
      throw Error("--rows item '" + text + "': rows too wide");
    row.elements *= d;
  }
  row.dtype =
      itemDType("--rows", text, item.dtype, plan::rowDTypes(), "row tensors");
  row.text = text;
  return row;
}

plan::PositionInput parsePositions(const std::string &text) {
  Item item = splitItem(text);
  plan::PositionInput positions;
  if (!item.shape.empty()) {
    std::optional<std::vector<int64_t>> shape = dims(item.shape);
    if (!shape || shape->size() > 2)
      throw Error("--positions item '" + text +
                  "' should be DTYPE, N:DTYPE or BxS:DTYPE, e.g. int64 or "
                  "1x65536:int64");
    positions.batch = shape->size() == 2 ? (*shape)[0] : 1;
    positions.seqLen = shape->back();
  }
  positions.dtype = itemDType("--positions", text, item.dtype,
                              plan::positionDTypes(), "position ids");
  positions.text = text;
  return positions;
}

plan::OpPlanOptions planOptions(const AotOpsRequest &request) {
  plan::OpPlanOptions options;
  for (const std::string &mask : request.masks)
    options.masks.push_back(parseMask(mask));
  for (const std::string &rows : request.rows)
    options.rows.push_back(parseRows(rows));
  for (const std::string &positions : request.positions)
    options.positions.push_back(parsePositions(positions));
  if (!request.strictModes.empty())
    options.strictModes = request.strictModes;
  std::optional<plan::ShapePolicy> policy =
      plan::parseShapePolicy(request.shapePolicy);
  if (!policy)
    throw Error("shape policy '" + request.shapePolicy +
                "' is not exact, bucket or dynamic");
  options.shapes = *policy;
  // As the ops read them (an unknown value is ignored there too).
  options.forcedChunk =
      plan::parseScanChunk(env("PACKJIT_SCAN_CHUNK")).value_or(0);
  options.forcedPad = plan::parsePadStrategy(env("PACKJIT_PAD_INPUT"));
  options.forcedPositionChunks =
      plan::parsePositionIdsChunks(env("PACKJIT_POSITION_IDS_CHUNKS"))
          .value_or(0);
  return options;
}

} // namespace

std::string describeSettings(const AotOpsRequest &request) {
  plan::OpPlanOptions options = planOptions(request);
  std::string out =
      "shape policy " + std::string(plan::shapePolicyName(options.shapes));
  if (options.forcedChunk)
    out += ", PACKJIT_SCAN_CHUNK=" + std::to_string(options.forcedChunk);
  if (options.forcedPad)
    out += ", PACKJIT_PAD_INPUT=" + env("PACKJIT_PAD_INPUT");
  if (options.forcedPositionChunks)
    out += ", PACKJIT_POSITION_IDS_CHUNKS=" +
           std::to_string(options.forcedPositionChunks);
  return out;
}

std::vector<SpecGroup> opsSpecGroups(const AotOpsRequest &request) {
  std::vector<std::string_view> ops;
  for (const std::string &op : request.ops)
    ops.push_back(plan::findOp(op));
  const plan::OpPlanOptions options = planOptions(request);
  std::vector<SpecGroup> groups;
  for (const std::string &arch : request.archs)
    for (std::string_view op : ops)
      for (const plan::PlannedLaunch &launch : plan::planOp(op, options)) {
        SpecGroup group{launch.what + " on " + arch, {}};
        try {
          for (const plan::PlannedKernel &k : launch.kernels)
            group.specs.push_back(KernelBinding(KernelContract::of(k.kernel))
                                      .dtypes(k.dtypes)
                                      .set(k.constexprs)
                                      .arch(arch)
                                      .spec());
        } catch (const Error &e) {
          throw Error(group.what + ": " + e.what());
        }
        groups.push_back(std::move(group));
      }
  return groups;
}

} // namespace packjit::cli
