// Synthetic packed attention masks, as a trainer's packing collator makes
// them: each row holds documents 1, 2, 3, … of random lengths, then padding.
// For demos, benchmarks and tests.
#pragma once

#include <ATen/Tensor.h>

#include <cstdint>

namespace packjit {

struct PackedMaskOptions {
  int64_t batch = 8;
  int64_t seqLen = 4096;
  int64_t docsPerRow = 16;      // documents per row, on average
  double paddingFraction = 0.1; // of each row, at its end
  at::ScalarType dtype = at::kLong;
  uint64_t seed = 0;
};

// A CPU tensor [batch, seqLen]. Bool masks hold the binary mask.
at::Tensor makePackedMask(const PackedMaskOptions &options);

} // namespace packjit
