// The CPU mask scan (get_unpad_data, get_seqlens_in_batch,
// get_unpad_data_padded), differential: every mask dtype and layout, random
// shapes and values, strict on and off, against the naive per-row rule of
// tests/cpu/test_support.h and, for strict-valid masks, the reference
// algorithm (packjit::reference). Same result, or an error for the same
// first offending token.
#include "fuzz_tensors.h"
#include "test_support.h"
#include "unpad_data_checks.h"

#include "packjit/ops.h"
#include "packjit/reference.h"

#include <c10/util/Exception.h>

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

namespace {

using packjit::fuzz::errorOf;
using packjit::test::Rows;
using packjit::test::toVector;

struct Offender {
  int64_t row, position, value;
};

// The first token, row-major, that the op must raise for: a negative id, or
// (strict) an id smaller than the previous non-zero id of its row.
std::optional<Offender> firstOffender(const Rows &rows, bool strict) {
  for (size_t b = 0; b < rows.size(); ++b) {
    int64_t previous = 0;
    for (size_t s = 0; s < rows[b].size(); ++s) {
      const int64_t value = rows[b][s];
      if (value < 0 || (strict && value != 0 && value < previous))
        return Offender{int64_t(b), int64_t(s), value};
      if (value != 0)
        previous = value;
    }
  }
  return std::nullopt;
}

[[noreturn]] void fail(const char *what, const at::Tensor &mask, bool strict) {
  std::fprintf(stderr,
               "mismatch: %s (strict=%d, dtype %s, sizes %s, "
               "strides %s)\n",
               what, int(strict), c10::toString(mask.scalar_type()),
               c10::str(mask.sizes()).c_str(),
               c10::str(mask.strides()).c_str());
  std::abort();
}

void expectError(const std::string &message, const Offender &offender,
                 const at::Tensor &mask, bool strict) {
  const std::string where = "attention_mask[" + std::to_string(offender.row) +
                            ", " + std::to_string(offender.position) +
                            "] = " + std::to_string(offender.value);
  if (message.find(where) == std::string::npos) {
    std::fprintf(stderr, "expected an error naming '%s', got: %s\n",
                 where.c_str(), message.c_str());
    fail("error", mask, strict);
  }
}

void checkPadded(const at::Tensor &mask, bool strict, int64_t maxDocuments,
                 const packjit::test::UnpadData &expected) {
  auto [indices, cuSeqlens, summary] =
      packjit::get_unpad_data_padded(mask, strict, maxDocuments);
  const int64_t tokens = mask.numel();
  const int64_t nnz = int64_t(expected.indices.size());
  const int64_t documents = int64_t(expected.lengths.size());
  std::vector<int64_t> wantIndices = expected.indices;
  wantIndices.resize(tokens, -1);
  const int64_t slots = maxDocuments < 0 ? tokens : maxDocuments;
  std::vector<int64_t> wantCu = expected.cuSeqlens;
  wantCu.resize(std::min<int64_t>(documents, slots) + 1);
  wantCu.resize(slots + 1, nnz);
  if (toVector(indices) != wantIndices)
    fail("padded indices", mask, strict);
  if (toVector(cuSeqlens) != wantCu)
    fail("padded cu_seqlens", mask, strict);
  if (toVector(summary) !=
      std::vector<int64_t>{nnz, documents, expected.maxSeqlen, -1})
    fail("padded summary", mask, strict);
}

void checkMask(const at::Tensor &mask, bool strict, int64_t maxDocuments) {
  const Rows rows = packjit::test::toRows(mask);
  const std::optional<Offender> offender = firstOffender(rows, strict);
  const packjit::test::UnpadData expected = packjit::test::naiveUnpadData(rows);
  try {
    auto [indices, cuSeqlens, maxSeqlen] =
        packjit::get_unpad_data(mask, strict);
    if (offender)
      fail("no error from get_unpad_data", mask, strict);
    if (indices.scalar_type() != at::kLong ||
        cuSeqlens.scalar_type() != at::kInt)
      fail("result dtypes", mask, strict);
    if (toVector(indices) != expected.indices ||
        toVector(cuSeqlens) != expected.cuSeqlens ||
        maxSeqlen != expected.maxSeqlen)
      fail("get_unpad_data against the naive rule", mask, strict);
    // The reference loops over every id up to the largest: only small ones.
    const int64_t largest =
        expected.indices.empty() ? 0 : mask.max().item<int64_t>();
    if (strict && !expected.indices.empty() && largest <= 4096) {
      auto [refIndices, refCu, refMax] =
          packjit::reference::get_unpad_data(mask);
      if (toVector(indices) != toVector(refIndices) ||
          toVector(cuSeqlens) != toVector(refCu) || maxSeqlen != refMax)
        fail("get_unpad_data against the reference", mask, strict);
    }
  } catch (const c10::Error &e) {
    if (!offender)
      fail(("unexpected error: " + errorOf(e)).c_str(), mask, strict);
    expectError(errorOf(e), *offender, mask, strict);
  }
  try {
    at::Tensor lengths = packjit::get_seqlens_in_batch(mask, strict);
    if (offender)
      fail("no error from get_seqlens_in_batch", mask, strict);
    if (lengths.scalar_type() !=
            packjit::ops::seqlensDType(mask.scalar_type()) ||
        toVector(lengths) != expected.lengths)
      fail("get_seqlens_in_batch", mask, strict);
  } catch (const c10::Error &e) {
    if (!offender)
      fail(("unexpected error: " + errorOf(e)).c_str(), mask, strict);
    expectError(errorOf(e), *offender, mask, strict);
  }
  try {
    checkPadded(mask, strict, maxDocuments, expected);
    if (offender)
      fail("no error from get_unpad_data_padded", mask, strict);
  } catch (const c10::Error &e) {
    if (!offender)
      fail(("unexpected error: " + errorOf(e)).c_str(), mask, strict);
    expectError(errorOf(e), *offender, mask, strict);
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  FuzzedDataProvider in(data, size);
  const auto &dtypes = packjit::test::maskDTypes();
  const at::ScalarType dtype =
      dtypes[in.ConsumeIntegralInRange<size_t>(0, dtypes.size() - 1)];
  const bool strict = in.ConsumeBool();
  const auto layout =
      static_cast<packjit::fuzz::Layout>(in.ConsumeIntegralInRange(
          0, static_cast<int>(packjit::fuzz::Layout::kLast)));
  const int64_t batch = in.ConsumeIntegralInRange<int64_t>(0, 8);
  const int64_t cols = in.ConsumeIntegralInRange<int64_t>(0, 300);
  const int64_t maxDocuments =
      in.ConsumeIntegralInRange<int64_t>(-1, batch * cols + 1);
  at::Tensor mask = packjit::fuzz::fuzzedMatrix(in, batch, cols, dtype, layout);
  checkMask(mask, strict, maxDocuments);
  return 0;
}
