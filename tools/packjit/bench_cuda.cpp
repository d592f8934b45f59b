// `packjit bench --device cuda`: host time per call of the CUDA ops through
// the C++ API, next to a floor measured the same way (one tiny ATen op plus
// a copy of it to the host), so that Python's share of the benchmark in
// benchmarks/unpad_anchors.py shows: get_unpad_data with its wait, and the
// sync-free get_unpad_data_padded without one.
#include "bench_timing.h"
#include "commands.h"
#include "json_output.h"

#include "packjit/core/error.h"
#include "packjit/ops.h"
#include "packjit/runtime/background_compiles.h"
#include "packjit/synthetic.h"

#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>

namespace packjit::cli {

int runCudaBench(const BenchOptions &options) {
  JsonOutput json(options.jsonPath);
  if (!at::hasCUDA())
    throw Error("'packjit bench --device cuda' needs a CUDA device and a torch "
                "built with CUDA");
  struct Shape {
    int64_t batch, seqLen;
  };
  const Shape shapes[] = {{1, 4096},  {8, 4096},   {16, 8192},
                          {4, 32768}, {1, 131072}, {64, 65536}};
  const int maxRepeats = options.repeats > 0 ? options.repeats : 2000;
  const at::TensorOptions cuda = at::TensorOptions().device(at::kCUDA);

  // The floor: one tiny kernel, its result copied to the host (.item syncs).
  at::Tensor tiny = at::zeros({4}, cuda.dtype(at::kLong));
  const Timing floor = timeCalls(
      [&] { tiny.add_(1).select(0, 0).item<int64_t>(); }, maxRepeats, 0.5, 50);

  nlohmann::json results = nlohmann::json::array();
  std::printf("CUDA ops through the C++ API: median host time per call (us)\n");
  std::printf("floor (tiny add_ + item): %.1f us\n", floor.medianMicros);
  std::printf("%-10s %-6s %12s %9s %20s\n", "B x S", "dtype", "get_unpad_data",
              "/ floor", "padded, no sync");
  for (const Shape &shape : shapes) {
    for (at::ScalarType dtype : {at::kLong, at::kInt}) {
      PackedMaskOptions maskOptions;
      maskOptions.batch = shape.batch;
      maskOptions.seqLen = shape.seqLen;
      maskOptions.docsPerRow = std::max<int64_t>(1, shape.seqLen / 512);
      maskOptions.dtype = dtype;
      const at::Tensor mask = makePackedMask(maskOptions).to(at::kCUDA);
      // The specialized kernels, not the generic ones that serve while they
      // compile (tiered specialization).
      get_unpad_data(mask);
      get_unpad_data_padded(mask);
      runtime::waitForBackgroundCompiles();
      const Timing withWait =
          timeCalls([&] { get_unpad_data(mask); }, maxRepeats, 0.5, 50);
      // Sync-free calls: drain the queue every 64 calls, outside the timing.
      int calls = 0;
      at::Tensor last;
      const Timing padded = timeCalls(
          [&] {
            if (++calls % 64 == 0 && last.defined())
              last.select(0, 0).item<int64_t>();
            last = std::get<2>(get_unpad_data_padded(mask));
          },
          maxRepeats, 0.5, 50);
      last.select(0, 0).item<int64_t>();
      char shapeText[32];
      std::snprintf(shapeText, sizeof shapeText, "%lldx%lld",
                    static_cast<long long>(shape.batch),
                    static_cast<long long>(shape.seqLen));
      std::printf("%-10s %-6s %12.1f %8.2fx %20.1f\n", shapeText,
                  c10::toString(dtype), withWait.medianMicros,
                  withWait.medianMicros / floor.medianMicros,
                  padded.medianMicros);
      results.push_back({{"batch", shape.batch},
                         {"seq_len", shape.seqLen},
                         {"dtype", c10::toString(dtype)},
                         {"get_unpad_data_us", withWait.medianMicros},
                         {"floor_us", floor.medianMicros},
                         {"padded_host_us", padded.medianMicros}});
    }
  }
  json.write(nlohmann::json{{"cuda_cpp", results}}, 1);
  return 0;
}

} // namespace packjit::cli
