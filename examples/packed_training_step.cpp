// A trainer-style use of packjit from C++: a collator packed several
// documents per row; each attention layer needs the varlen metadata and the
// hidden states gathered to [nnz, hidden]. Runs on the GPU when there is one.
#include "packjit/ops.h"
#include "packjit/synthetic.h"

#include <ATen/ATen.h>
#include <torch/cuda.h>

#include <iostream>

int main() {
  const at::Device device = torch::cuda::is_available()
                                ? at::Device(at::kCUDA, 0)
                                : at::Device(at::kCPU);
  packjit::PackedMaskOptions options;
  options.batch = 4;
  options.seqLen = 2048;
  options.docsPerRow = 6;
  const at::Tensor mask = packjit::makePackedMask(options).to(device);
  const at::Tensor hidden =
      at::randn({options.batch, options.seqLen, 64}, at::TensorOptions(device));

  // Once per step (every layer reuses it): where the tokens are, where each
  // document starts, and the longest document for flash-attention's varlen
  // call.
  auto [indices, cuSeqlens, maxSeqlen] = packjit::get_unpad_data(mask);
  const at::Tensor unpadded = hidden.flatten(0, 1).index_select(0, indices);

  // The same answer with torch ops, to show what packjit computed.
  const at::Tensor expected = hidden.flatten(0, 1).index({mask.flatten() != 0});
  const bool same = unpadded.equal(expected);
  std::cout << "device " << device << ": " << indices.numel() << " tokens, "
            << cuSeqlens.numel() - 1 << " documents, longest " << maxSeqlen
            << ", unpadded hidden " << unpadded.sizes()
            << (same ? " (matches torch)" : " (MISMATCH)") << "\n";
  return same ? 0 : 1;
}
