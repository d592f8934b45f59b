// cu_seqlens_from_position_ids (and its padded form) on the CPU,
// differential: [N], [1, N] and [B, S] position ids of every integer dtype
// and several layouts, strict on and off, against a naive reading of the
// rule (docs/ops.md): a sequence starts at each row start and wherever the
// position equals the tensor's smallest one; strict: inside a sequence each
// position is the one before it + 1. Same result, or an error naming the
// same first offending token.
#include "fuzz_tensors.h"
#include "test_support.h"

#include "packjit/ops.h"

#include <c10/util/Exception.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <optional>
#include <string>

namespace {

using packjit::fuzz::errorOf;
using packjit::test::Rows;
using packjit::test::toVector;

struct Expected {
  std::vector<int64_t> cuSeqlens{0};
  int64_t maxSeqlen = 0;
  std::optional<std::string> error; // the text the error must contain
};

Expected naiveCuSeqlens(const Rows &rows, bool strict) {
  Expected out;
  int64_t start = std::numeric_limits<int64_t>::max();
  for (const auto &row : rows)
    for (int64_t value : row)
      start = std::min(start, value);
  int64_t total = 0;
  for (const auto &row : rows) {
    for (size_t s = 0; s < row.size(); ++s) {
      const bool starts = s == 0 || row[s] == start;
      // previous + 1 without overflow: row[s] - 1 == previous.
      if (!starts && strict &&
          (row[s] == std::numeric_limits<int64_t>::min() ||
           row[s] - 1 != row[s - 1])) {
        if (!out.error)
          out.error = std::to_string(s) + "] = " + std::to_string(row[s]) +
                      " follows " + std::to_string(row[s - 1]);
      }
      if (starts && s != 0) {
        out.cuSeqlens.push_back(total);
      }
      ++total;
    }
    if (!row.empty())
      out.cuSeqlens.push_back(total);
  }
  for (size_t i = 1; i < out.cuSeqlens.size(); ++i)
    out.maxSeqlen =
        std::max(out.maxSeqlen, out.cuSeqlens[i] - out.cuSeqlens[i - 1]);
  return out;
}

[[noreturn]] void fail(const std::string &what, const at::Tensor &positions,
                       bool strict) {
  std::fprintf(stderr,
               "mismatch: %s (strict=%d, dtype %s, sizes %s, "
               "strides %s)\n",
               what.c_str(), int(strict),
               c10::toString(positions.scalar_type()),
               c10::str(positions.sizes()).c_str(),
               c10::str(positions.strides()).c_str());
  std::abort();
}

void expectError(const std::string &message, const Expected &expected,
                 const at::Tensor &positions, bool strict) {
  if (!expected.error)
    fail("unexpected error: " + message, positions, strict);
  if (message.find(*expected.error) == std::string::npos)
    fail("error should contain '" + *expected.error + "', got: " + message,
         positions, strict);
}

void checkPositions(const at::Tensor &positions, bool strict,
                    int64_t maxDocuments) {
  const Rows rows = packjit::test::toRows(
      positions.dim() == 1 ? positions.unsqueeze(0) : positions);
  const Expected expected = naiveCuSeqlens(rows, strict);
  try {
    auto [cuSeqlens, maxSeqlen] =
        packjit::cu_seqlens_from_position_ids(positions, strict);
    if (expected.error)
      fail("no error", positions, strict);
    if (cuSeqlens.scalar_type() != at::kInt ||
        toVector(cuSeqlens) != expected.cuSeqlens ||
        maxSeqlen != expected.maxSeqlen)
      fail("cu_seqlens_from_position_ids", positions, strict);
  } catch (const c10::Error &e) {
    expectError(errorOf(e), expected, positions, strict);
  }
  try {
    auto [cuSeqlens, summary] = packjit::cu_seqlens_from_position_ids_padded(
        positions, strict, maxDocuments);
    if (expected.error)
      fail("no error (padded)", positions, strict);
    const int64_t tokens = positions.numel();
    const int64_t documents = int64_t(expected.cuSeqlens.size()) - 1;
    const int64_t slots = maxDocuments < 0 ? tokens : maxDocuments;
    std::vector<int64_t> wantCu = expected.cuSeqlens;
    wantCu.resize(std::min(documents, slots) + 1);
    wantCu.resize(slots + 1, tokens);
    if (toVector(cuSeqlens) != wantCu)
      fail("padded cu_seqlens", positions, strict);
    if (toVector(summary) !=
        std::vector<int64_t>{tokens, documents, expected.maxSeqlen, 0})
      fail("padded summary", positions, strict);
  } catch (const c10::Error &e) {
    expectError(errorOf(e), expected, positions, strict);
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  FuzzedDataProvider in(data, size);
  static const at::ScalarType dtypes[] = {at::kLong, at::kInt, at::kShort,
                                          at::kChar, at::kByte};
  const at::ScalarType dtype = dtypes[in.ConsumeIntegralInRange<size_t>(0, 4)];
  const bool strict = in.ConsumeBool();
  const int rank = in.ConsumeIntegralInRange(1, 2);
  const auto layout =
      static_cast<packjit::fuzz::Layout>(in.ConsumeIntegralInRange(
          0, static_cast<int>(packjit::fuzz::Layout::kLast)));
  const int64_t batch =
      rank == 1 ? 1 : in.ConsumeIntegralInRange<int64_t>(0, 8);
  const int64_t cols = in.ConsumeIntegralInRange<int64_t>(0, 300);
  const int64_t maxDocuments =
      in.ConsumeIntegralInRange<int64_t>(-1, batch * cols + 1);
  at::Tensor positions =
      packjit::fuzz::fuzzedMatrix(in, batch, cols, dtype, layout);
  if (rank == 1)
    positions = positions.select(0, 0);
  checkPositions(positions, strict, maxDocuments);
  return 0;
}
