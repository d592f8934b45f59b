#include "packjit/synthetic.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <random>

namespace packjit {

at::Tensor makePackedMask(const PackedMaskOptions &options) {
  const int64_t batch = options.batch, seqLen = options.seqLen;
  at::Tensor mask = at::zeros({batch, seqLen}, at::kLong);
  int64_t *data = mask.data_ptr<int64_t>();
  std::mt19937_64 rng(options.seed);
  const int64_t used =
      seqLen - static_cast<int64_t>(options.paddingFraction *
                                    static_cast<double>(seqLen));
  const int64_t meanLength =
      std::max<int64_t>(1, used / std::max<int64_t>(1, options.docsPerRow));
  // Lengths uniform in [1, 2*mean): about docsPerRow documents per row.
  std::uniform_int_distribution<int64_t> length(1, 2 * meanLength - 1);
  for (int64_t b = 0; b < batch; ++b) {
    int64_t id = 1;
    for (int64_t s = 0; s < used;) {
      const int64_t end = std::min(used, s + length(rng));
      std::fill(data + b * seqLen + s, data + b * seqLen + end, id++);
      s = end;
    }
  }
  return options.dtype == at::kBool ? mask.ne(0) : mask.to(options.dtype);
}

} // namespace packjit
