// packing_metadata and packing_metadata_padded on the CPU against a naive
// reference written here: documents as lists of flat positions, every field
// derived from them, for masks of every dtype (random, binary, empty rows),
// position ids ([N], [B, S], [4, B, S]), both inputs, pad_to 1..16, and the
// strict-mode errors.
#include "test_support.h"

#include "packjit/ops.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>
#include <random>
#include <string>

using packjit::test::makeMask;
using packjit::test::maskDTypes;
using packjit::test::Rows;
using packjit::test::toVector;
using Values = std::vector<int64_t>;

namespace {

using Documents = std::vector<Values>; // flat positions b*S+s per document

Documents maskDocuments(const Rows &rows) {
  Documents docs;
  for (size_t b = 0; b < rows.size(); ++b) {
    int64_t previous = 0;
    for (size_t s = 0; s < rows[b].size(); ++s) {
      const int64_t value = rows[b][s];
      if (value == 0)
        continue;
      if (value != previous)
        docs.emplace_back();
      previous = value;
      docs.back().push_back(static_cast<int64_t>(b * rows[b].size() + s));
    }
  }
  return docs;
}

Documents positionDocuments(const Rows &rows) {
  int64_t start = INT64_MAX;
  for (const Values &row : rows)
    for (int64_t p : row)
      start = std::min(start, p);
  Documents docs;
  for (size_t b = 0; b < rows.size(); ++b)
    for (size_t s = 0; s < rows[b].size(); ++s) {
      if (s == 0 || rows[b][s] == start)
        docs.emplace_back();
      docs.back().push_back(static_cast<int64_t>(b * rows[b].size() + s));
    }
  return docs;
}

struct Expected {
  Values indices, cuSeqlens, seqlens, seqIdx, positionIds, cuPadded;
  int64_t maxSeqlen = 0;
};

Expected expectedFrom(const Documents &docs, int64_t padTo) {
  Expected e;
  e.cuSeqlens = {0};
  e.cuPadded = {0};
  for (size_t d = 0; d < docs.size(); ++d) {
    const int64_t length = static_cast<int64_t>(docs[d].size());
    for (int64_t k = 0; k < length; ++k) {
      e.indices.push_back(docs[d][k]);
      e.seqIdx.push_back(static_cast<int64_t>(d));
      e.positionIds.push_back(k);
    }
    e.seqlens.push_back(length);
    e.cuSeqlens.push_back(e.cuSeqlens.back() + length);
    e.cuPadded.push_back(e.cuPadded.back() +
                         (length + padTo - 1) / padTo * padTo);
    e.maxSeqlen = std::max(e.maxSeqlen, length);
  }
  return e;
}

// The field owns exactly its bytes (no view of an upper-bound buffer).
void checkOwned(const at::Tensor &t, at::ScalarType dtype) {
  CHECK(t.scalar_type() == dtype);
  CHECK(t.dim() == 1);
  CHECK(t.storage_offset() == 0);
  CHECK(t.storage().nbytes() ==
        static_cast<size_t>(t.numel()) * t.element_size());
}

void checkMetadata(const packjit::PackingMetadata &m, const Expected &e) {
  CHECK(toVector(m.indices) == e.indices);
  CHECK(toVector(m.cu_seqlens) == e.cuSeqlens);
  CHECK(m.max_seqlen == e.maxSeqlen);
  CHECK(toVector(m.seqlens) == e.seqlens);
  CHECK(toVector(m.seq_idx) == e.seqIdx);
  CHECK(toVector(m.position_ids) == e.positionIds);
  CHECK(toVector(m.cu_seqlens_padded) == e.cuPadded);
  checkOwned(m.indices, at::kLong);
  checkOwned(m.cu_seqlens, at::kInt);
  checkOwned(m.seqlens, at::kInt);
  checkOwned(m.seq_idx, at::kInt);
  checkOwned(m.position_ids, at::kLong);
  checkOwned(m.cu_seqlens_padded, at::kInt);
}

int64_t uniform(std::mt19937_64 &rng, int64_t low, int64_t high) {
  return std::uniform_int_distribution<int64_t>(low, high)(rng);
}

// Each row numbers its documents from 1 (growing by 1 or 2), with padding
// runs anywhere and now and then a row of padding only.
Rows randomMask(std::mt19937_64 &rng, int64_t batch, int64_t seqLen,
                int64_t maxId) {
  Rows rows(batch, Values(seqLen, 0));
  for (Values &row : rows) {
    if (uniform(rng, 0, 9) == 0)
      continue;
    int64_t id = 1;
    for (int64_t s = 0; s < seqLen; ++s) {
      if (s != 0 && uniform(rng, 0, 5) == 0)
        id = std::min(maxId, id + uniform(rng, 1, 2));
      row[s] = uniform(rng, 0, 4) == 0 ? 0 : id;
    }
  }
  return rows;
}

std::string errorOf(const std::function<void()> &call) {
  try {
    call();
  } catch (const c10::Error &e) {
    return e.what_without_backtrace();
  }
  return "";
}

at::Tensor positionRows(const Rows &rows, at::ScalarType dtype = at::kLong) {
  return makeMask(rows, dtype);
}

} // namespace

TEST_CASE("packing_metadata: the seed's mask", "[packing_metadata]") {
  const Rows seed = {{1, 1, 2, 2, 2, 0}, {1, 2, 2, 3, 3, 3}};
  const packjit::PackingMetadata m =
      packjit::packing_metadata(makeMask(seed), c10::nullopt, 2);
  CHECK(toVector(m.cu_seqlens) == Values{0, 2, 5, 6, 8, 11});
  CHECK(toVector(m.seq_idx) == Values{0, 0, 1, 1, 1, 2, 3, 3, 4, 4, 4});
  CHECK(toVector(m.position_ids) == Values{0, 1, 0, 1, 2, 0, 0, 1, 0, 1, 2});
  CHECK(toVector(m.cu_seqlens_padded) == Values{0, 2, 6, 8, 10, 14});
  checkMetadata(m, expectedFrom(maskDocuments(seed), 2));
}

TEST_CASE("packing_metadata: random masks of every dtype, pad_to 1..16",
          "[packing_metadata]") {
  std::mt19937_64 rng(14);
  for (at::ScalarType dtype : maskDTypes()) {
    for (int trial = 0; trial < 40; ++trial) {
      const int64_t batch = uniform(rng, 1, 5), seqLen = uniform(rng, 1, 50);
      const int64_t padTo = 1 + trial % 16;
      Rows rows = randomMask(rng, batch, seqLen, /*maxId=*/100);
      if (dtype == at::kBool)
        for (Values &row : rows)
          for (int64_t &v : row)
            v = v != 0;
      INFO("dtype " << dtype << " trial " << trial);
      checkMetadata(
          packjit::packing_metadata(makeMask(rows, dtype), c10::nullopt, padTo),
          expectedFrom(maskDocuments(rows), padTo));
      // A strided (transposed back) mask gives the same.
      const at::Tensor strided = makeMask(rows, dtype).t().contiguous().t();
      checkMetadata(packjit::packing_metadata(strided, c10::nullopt, padTo),
                    expectedFrom(maskDocuments(rows), padTo));
    }
  }
}

TEST_CASE("packing_metadata: empty masks and rows", "[packing_metadata]") {
  for (const Rows &rows :
       {Rows{{0, 0, 0}, {0, 0, 0}}, Rows{{0, 0}, {1, 1}, {0, 0}},
        Rows{{1, 0, 1, 2}}, Rows{{0, 0, 1, 1, 2}}}) {
    for (at::ScalarType dtype : maskDTypes()) {
      Rows values = rows;
      if (dtype == at::kBool)
        for (Values &row : values)
          for (int64_t &v : row)
            v = v != 0;
      checkMetadata(
          packjit::packing_metadata(makeMask(rows, dtype), c10::nullopt, 3),
          expectedFrom(maskDocuments(values), 3));
    }
  }
  checkMetadata(packjit::packing_metadata(at::zeros({0, 4}, at::kLong)),
                expectedFrom({}, 1));
  checkMetadata(packjit::packing_metadata(at::zeros({3, 0}, at::kInt)),
                expectedFrom({}, 1));
}

TEST_CASE("packing_metadata: position ids [N], [B, S] and [4, B, S]",
          "[packing_metadata]") {
  const Rows rows = {{0, 1, 2, 0, 1, 0}, {0, 1, 2, 3, 0, 1}};
  const Expected expected = expectedFrom(positionDocuments(rows), 4);
  for (at::ScalarType dtype :
       {at::kLong, at::kInt, at::kShort, at::kChar, at::kByte}) {
    const at::Tensor ids = positionRows(rows, dtype);
    checkMetadata(packjit::packing_metadata(c10::nullopt, ids, 4), expected);
    // Multimodal: row 0 holds the text positions; the others are ignored.
    const at::Tensor multimodal =
        at::stack({ids, ids.mul(3), ids.add(1), ids.mul(2)});
    checkMetadata(packjit::packing_metadata(c10::nullopt, multimodal, 4),
                  expected);
  }
  const Rows flat = {{0, 1, 2, 0, 1, 0, 1, 2, 3}};
  checkMetadata(
      packjit::packing_metadata(c10::nullopt, positionRows(flat).reshape({-1})),
      expectedFrom(positionDocuments(flat), 1));
  // RoBERTa-like: the smallest position starts a sequence.
  const Rows roberta = {{2, 3, 4, 2, 3}};
  checkMetadata(packjit::packing_metadata(c10::nullopt, positionRows(roberta)),
                expectedFrom(positionDocuments(roberta), 1));
}

TEST_CASE("packing_metadata: [3, B, S] and other shapes are refused",
          "[packing_metadata][errors]") {
  const at::Tensor three = at::zeros({3, 2, 5}, at::kLong);
  CHECK_THAT(errorOf([&] { packjit::packing_metadata(c10::nullopt, three); }),
             Catch::Contains("not a packed layout"));
  CHECK_THAT(errorOf([&] {
               packjit::packing_metadata(c10::nullopt,
                                         at::zeros({5, 2, 5}, at::kLong));
             }),
             Catch::Contains("[4, B, S]"));
  CHECK_THAT(
      errorOf([&] {
        packjit::packing_metadata(c10::nullopt, at::zeros({2, 5}, at::kFloat));
      }),
      Catch::Contains("integer tensor"));
}

TEST_CASE("packing_metadata: both inputs", "[packing_metadata]") {
  const Rows mask = {{1, 1, 2, 2, 2, 0}, {0, 1, 2, 2, 3, 3}};
  const Expected expected = expectedFrom(maskDocuments(mask), 1);
  // Padding positions (9) are not looked at.
  const Rows agree = {{0, 1, 0, 1, 2, 9}, {9, 0, 0, 1, 0, 1}};
  checkMetadata(packjit::packing_metadata(makeMask(mask), positionRows(agree)),
                expected);
  const at::Tensor multimodal =
      at::stack({positionRows(agree), positionRows(agree), positionRows(agree),
                 positionRows(agree)});
  checkMetadata(packjit::packing_metadata(makeMask(mask), multimodal),
                expected);
  // RoBERTa-like start 2: the smallest kept position, not the padding's 1.
  const Rows shifted = {{2, 3, 2, 3, 4, 1}, {1, 2, 2, 3, 2, 3}};
  checkMetadata(
      packjit::packing_metadata(makeMask(mask), positionRows(shifted)),
      expected);

  const Rows restartInside = {{0, 1, 0, 0, 2, 9}, {9, 0, 0, 1, 0, 1}};
  CHECK_THAT(errorOf([&] {
               packjit::packing_metadata(makeMask(mask),
                                         positionRows(restartInside));
             }),
             Catch::Contains("position_ids[0, 3] = 0") &&
                 Catch::Contains("inside mask document 2"));
  const Rows noRestart = {{0, 1, 0, 1, 2, 9}, {9, 0, 1, 2, 0, 1}};
  CHECK_THAT(errorOf([&] {
               packjit::packing_metadata(makeMask(mask),
                                         positionRows(noRestart));
             }),
             Catch::Contains("position_ids[1, 2] = 1") &&
                 Catch::Contains("starts document 2"));
  // strict=False: the mask alone.
  checkMetadata(packjit::packing_metadata(makeMask(mask),
                                          positionRows(noRestart), 1, false),
                expected);
  CHECK_THAT(
      errorOf([&] {
        packjit::packing_metadata(makeMask(mask), positionRows({{0, 1, 2}}));
      }),
      Catch::Contains("attention_mask's shape"));
}

TEST_CASE("packing_metadata: random position ids consistent with the mask",
          "[packing_metadata]") {
  std::mt19937_64 rng(41);
  for (int trial = 0; trial < 30; ++trial) {
    const Rows mask = randomMask(rng, uniform(rng, 1, 4), uniform(rng, 1, 30),
                                 /*maxId=*/50);
    // Positions from the mask's own documents; padding positions random.
    Rows positions(mask.size(), Values(mask[0].size(), 0));
    for (size_t b = 0; b < mask.size(); ++b) {
      int64_t previous = 0, k = 0;
      for (size_t s = 0; s < mask[b].size(); ++s) {
        if (mask[b][s] == 0) {
          positions[b][s] = uniform(rng, 1, 9);
          continue;
        }
        k = mask[b][s] != previous ? 0 : k + 1;
        previous = mask[b][s];
        positions[b][s] = k;
      }
    }
    const Expected expected = expectedFrom(maskDocuments(mask), 1);
    checkMetadata(
        packjit::packing_metadata(makeMask(mask), positionRows(positions)),
        expected);
    // Merge two documents in the position ids: a clear error.
    for (size_t b = 0; b < mask.size(); ++b)
      for (size_t s = 1; s < mask[b].size(); ++s)
        if (positions[b][s] == 0 && mask[b][s] != 0 && mask[b][s - 1] != 0) {
          Rows merged = positions;
          merged[b][s] = merged[b][s - 1] + 1;
          CHECK_THAT(errorOf([&] {
                       packjit::packing_metadata(makeMask(mask),
                                                 positionRows(merged));
                     }),
                     Catch::Contains("do not restart there"));
          b = mask.size() - 1;
          break;
        }
  }
}

TEST_CASE("packing_metadata: a document that crosses the end of a row",
          "[packing_metadata][errors]") {
  // Numbered across rows: document 2 ends row 0 and starts row 1.
  const Rows crossing = {{1, 1, 2, 2}, {2, 3, 3, 0}};
  for (at::ScalarType dtype :
       {at::kLong, at::kInt, at::kShort, at::kChar, at::kByte}) {
    CHECK_THAT(
        errorOf([&] { packjit::packing_metadata(makeMask(crossing, dtype)); }),
        Catch::Contains("attention_mask[1, 0] = 2 continues document "
                        "2 that ends row 0") &&
            Catch::Contains("crosses the end of a row"));
    // strict=False splits it at the row end, as get_unpad_data does.
    checkMetadata(packjit::packing_metadata(makeMask(crossing, dtype),
                                            c10::nullopt, 1, false),
                  expectedFrom(maskDocuments(crossing), 1));
  }
  // Not crossings: per-row numbering from 1, padding at the seam, binary.
  for (const Rows &fine :
       {Rows{{1, 1, 1, 1}, {1, 1, 2, 2}}, Rows{{1, 2, 2, 0}, {2, 2, 3, 3}},
        Rows{{1, 1, 2, 2}, {0, 2, 3, 3}}}) {
    checkMetadata(packjit::packing_metadata(makeMask(fine)),
                  expectedFrom(maskDocuments(fine), 1));
  }
  checkMetadata(
      packjit::packing_metadata(at::ones({3, 4}, at::kBool)),
      expectedFrom(maskDocuments({{1, 1, 1, 1}, {1, 1, 1, 1}, {1, 1, 1, 1}}),
                   1));
  // Position ids: row 1 continues row 0.
  CHECK_THAT(errorOf([&] {
               packjit::packing_metadata(c10::nullopt,
                                         positionRows({{0, 1, 2}, {3, 4, 5}}));
             }),
             Catch::Contains("position_ids[1, 0] = 3 continues "
                             "position_ids[0, 2] = 2"));
  checkMetadata(packjit::packing_metadata(c10::nullopt,
                                          positionRows({{0, 1, 2}, {3, 4, 5}}),
                                          1, false),
                expectedFrom(positionDocuments({{0, 1, 2}, {3, 4, 5}}), 1));
  // A row that starts elsewhere (not continuing) is a truncated document.
  checkMetadata(packjit::packing_metadata(c10::nullopt,
                                          positionRows({{0, 1, 2}, {5, 6, 0}})),
                expectedFrom(positionDocuments({{0, 1, 2}, {5, 6, 0}}), 1));
}

TEST_CASE("packing_metadata: errors", "[packing_metadata][errors]") {
  const at::Tensor mask = makeMask({{1, 1, 2}});
  CHECK_THAT(errorOf([&] { packjit::packing_metadata(c10::nullopt); }),
             Catch::Contains("pass an attention_mask, position_ids, or both"));
  for (int64_t padTo : {0, -1})
    CHECK_THAT(
        errorOf([&] { packjit::packing_metadata(mask, c10::nullopt, padTo); }),
        Catch::Contains("pad_to should be >= 1"));
  CHECK_THAT(errorOf([&] {
               packjit::packing_metadata(makeMask({{2, 1}}));
             }),
             Catch::Contains("packjit.packing_metadata: strict mode: "
                             "attention_mask[0, 1] = 1"));
  CHECK_THAT(errorOf([&] {
               packjit::packing_metadata(makeMask({{1, -1}}));
             }),
             Catch::Contains("is negative"));
  CHECK_THAT(
      errorOf([&] {
        packjit::packing_metadata(c10::nullopt, positionRows({{0, 1, 3}}));
      }),
      Catch::Contains("packjit.packing_metadata: ") &&
          Catch::Contains("increase by exactly 1"));
  CHECK_THAT(errorOf([&] {
               packjit::packing_metadata(at::ones({2, 2, 2}, at::kLong));
             }),
             Catch::Contains("2-D"));
}

TEST_CASE("packing_metadata_padded: fixed shapes and their fill values",
          "[packing_metadata]") {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 20; ++trial) {
    const Rows rows =
        randomMask(rng, uniform(rng, 1, 4), uniform(rng, 1, 20), 100);
    const int64_t n = static_cast<int64_t>(rows.size() * rows[0].size());
    const int64_t padTo = 1 + trial % 5;
    const Expected e = expectedFrom(maskDocuments(rows), padTo);
    const int64_t docs = static_cast<int64_t>(e.seqlens.size());
    const int64_t nnz = static_cast<int64_t>(e.indices.size());
    for (int64_t maxDocuments :
         {int64_t{-1}, int64_t{0}, docs / 2, docs, docs + 3}) {
      const int64_t m = maxDocuments < 0 ? n : maxDocuments;
      INFO("trial " << trial << " max_documents " << maxDocuments);
      const packjit::PackingMetadataPadded p = packjit::packing_metadata_padded(
          makeMask(rows), c10::nullopt, maxDocuments, padTo);
      Values indices = e.indices;
      indices.resize(n, -1);
      Values cu(m + 1), cuPadded(m + 1), seqlens(m);
      for (int64_t d = 0; d <= m; ++d) {
        cu[d] = e.cuSeqlens[std::min(d, docs)];
        cuPadded[d] = e.cuPadded[std::min(d, docs)];
      }
      for (int64_t d = 0; d < m; ++d)
        seqlens[d] = cu[d + 1] - cu[d];
      Values seqIdx(n), positions(n);
      for (int64_t k = 0; k < n; ++k) {
        int64_t d = 0;
        while (d < m && cu[d + 1] <= k)
          ++d;
        seqIdx[k] = d;
        positions[k] = k - cu[d];
      }
      CHECK(toVector(p.indices) == indices);
      CHECK(toVector(p.cu_seqlens) == cu);
      CHECK(toVector(p.seqlens) == seqlens);
      CHECK(toVector(p.seq_idx) == seqIdx);
      CHECK(toVector(p.position_ids) == positions);
      CHECK(toVector(p.cu_seqlens_padded) == cuPadded);
      CHECK(toVector(p.summary) ==
            Values{nnz, docs, e.maxSeqlen, docs > m ? 1 : 0, 0});
    }
  }
  // Position ids: every token kept.
  const packjit::PackingMetadataPadded p = packjit::packing_metadata_padded(
      c10::nullopt, positionRows({{0, 1, 0, 1, 2}}), 4, 2);
  CHECK(toVector(p.indices) == Values{0, 1, 2, 3, 4});
  CHECK(toVector(p.cu_seqlens) == Values{0, 2, 5, 5, 5});
  CHECK(toVector(p.cu_seqlens_padded) == Values{0, 2, 6, 6, 6});
  CHECK(toVector(p.seq_idx) == Values{0, 0, 1, 1, 1});
  CHECK(toVector(p.summary) == Values{5, 2, 3, 0, 0});
  CHECK_THAT(
      errorOf([&] {
        packjit::packing_metadata_padded(makeMask({{1, 1}}), c10::nullopt, -2);
      }),
      Catch::Contains("max_documents"));
}
