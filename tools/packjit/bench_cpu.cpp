// `packjit bench --device cpu`: the CPU get_unpad_data against the reference
// algorithm (NeMo Automodel / LlamaFactory, on torch CPU) on the same masks.
#include "bench_timing.h"
#include "commands.h"
#include "json_output.h"

#include "packjit/ops.h"
#include "packjit/reference.h"
#include "packjit/synthetic.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>

namespace packjit::cli {

int runCpuBench(const BenchOptions &options) {
  JsonOutput json(options.jsonPath);
  at::set_num_threads(options.threads);
  struct Shape {
    int64_t batch, seqLen;
  };
  const Shape shapes[] = {{1, 4096},  {8, 4096},   {16, 8192},
                          {4, 32768}, {1, 131072}, {64, 65536}};
  const at::ScalarType dtypes[] = {at::kLong, at::kInt};
  const int maxRepeats = options.repeats > 0 ? options.repeats : 200;

  nlohmann::json results = nlohmann::json::array();
  std::printf(
      "get_unpad_data on the CPU, %d thread(s); median wall time per call\n",
      options.threads);
  std::printf("%-10s %-6s %6s %11s %9s %13s %9s\n", "B x S", "dtype", "docs",
              "packjit us", "GB/s", "reference us", "speedup");
  for (const Shape &shape : shapes) {
    for (at::ScalarType dtype : dtypes) {
      PackedMaskOptions maskOptions;
      maskOptions.batch = shape.batch;
      maskOptions.seqLen = shape.seqLen;
      // Documents of about 512 tokens (258 in a 128k row, as in the
      // trainers' masks that docs/design.md describes).
      maskOptions.docsPerRow = std::max<int64_t>(1, shape.seqLen / 512);
      maskOptions.dtype = dtype;
      at::Tensor mask = makePackedMask(maskOptions);
      const double bytes =
          static_cast<double>(mask.numel() * mask.element_size());

      auto [indices, cu, maxLen] = get_unpad_data(mask);
      auto [refIndices, refCu, refMax] = reference::get_unpad_data(mask);
      if (!indices.equal(refIndices) || !cu.equal(refCu) || maxLen != refMax) {
        std::fprintf(stderr, "MISMATCH against the reference at %lldx%lld %s\n",
                     static_cast<long long>(shape.batch),
                     static_cast<long long>(shape.seqLen),
                     c10::toString(dtype));
        return 1;
      }
      Timing ours = timeCalls([&] { get_unpad_data(mask); }, maxRepeats);
      Timing ref = timeCalls([&] { reference::get_unpad_data(mask); },
                             std::min(maxRepeats, 50), 1.0, 1);
      const double gbps = bytes / (ours.medianMicros * 1e3);
      char shapeText[32];
      std::snprintf(shapeText, sizeof shapeText, "%lldx%lld",
                    static_cast<long long>(shape.batch),
                    static_cast<long long>(shape.seqLen));
      std::printf("%-10s %-6s %6lld %11.1f %9.2f %13.1f %8.1fx\n", shapeText,
                  c10::toString(dtype), static_cast<long long>(cu.numel() - 1),
                  ours.medianMicros, gbps, ref.medianMicros,
                  ref.medianMicros / ours.medianMicros);
      results.push_back({{"batch", shape.batch},
                         {"seq_len", shape.seqLen},
                         {"dtype", c10::toString(dtype)},
                         {"documents", cu.numel() - 1},
                         {"packjit_us", ours.medianMicros},
                         {"packjit_gbps", gbps},
                         {"reference_us", ref.medianMicros},
                         {"threads", options.threads}});
    }
  }
  json.write(results);
  return 0;
}

} // namespace packjit::cli
