// The spec get_unpad_data launches on CUDA is the one the plan
// (packjit/plan/) gives for the mask, so `packjit aot --ops` bundles what the
// op asks for. Exits 77 (CTest: skipped) without a CUDA device.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "packjit/core/kernel_contract.h"
#include "packjit/ops.h"
#include "packjit/plan/mask_scan.h"

#include <ATen/ATen.h>
#include <torch/cuda.h>

#include <cstdlib>
#include <iostream>

namespace {

using namespace packjit;

std::string env(const char *name) {
  const char *value = std::getenv(name);
  return value ? value : "";
}

// The plan's spec for `mask`, on the arch the op's spec names, under the
// environment the op reads (PACKJIT_SHAPES, PACKJIT_SCAN_CHUNK).
KernelSpec plannedSpec(const at::Tensor &mask, DType dtype, bool strict,
                       const std::string &arch) {
  plan::MaskScanInput input;
  input.dtype = dtype;
  input.batch = mask.size(0);
  input.seqLen = mask.size(1);
  input.strict = strict;
  input.shapes = plan::parseShapePolicy(env("PACKJIT_SHAPES"))
                     .value_or(plan::ShapePolicy::Bucket);
  input.forcedChunk =
      plan::parseScanChunk(env("PACKJIT_SCAN_CHUNK")).value_or(0);
  return KernelBinding(KernelContract::of(plan::kMaskScanKernel))
      .dtypes({dtype})
      .set(plan::maskScanConstexprs(input).byName())
      .arch(arch)
      .spec();
}

} // namespace

CATCH_TEST_CASE("get_unpad_data launches the plan's mask_scan spec",
                "[plan][gpu]") {
  const std::pair<at::ScalarType, DType> dtypes[] = {
      {at::kLong, DType::Int64},  {at::kInt, DType::Int32},
      {at::kShort, DType::Int16}, {at::kChar, DType::Int8},
      {at::kByte, DType::UInt8},  {at::kBool, DType::Bool}};
  const std::pair<int64_t, int64_t> shapes[] = {
      {8, 4096}, {3, 1000}, {1, 131072}, {8, 16384}, {64, 65536}};
  for (auto [scalar, dtype] : dtypes)
    for (auto [batch, seqLen] : shapes)
      for (bool strict : {true, false}) {
        const at::Tensor mask =
            at::ones({batch, seqLen}, at::device(at::kCUDA).dtype(scalar));
        const std::string got =
            packjit::get_unpad_data_kernel_spec(mask, strict);
        CATCH_INFO(got);
        const KernelSpec spec = KernelSpec::parse(got);
        CATCH_CHECK(got ==
                    plannedSpec(mask, dtype, strict, spec.arch).canonical());
      }
}

int main(int argc, char **argv) {
  if (!torch::cuda::is_available()) {
    std::cerr << "packjit_gpu_plan_tests: no CUDA device; skipped\n";
    return 77;
  }
  return Catch::Session().run(argc, argv);
}
