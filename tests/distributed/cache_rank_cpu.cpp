// One "rank" of the many-ranks cache test without a GPU: resolves a fixed
// set of kernel specializations (mask_scan, position_ids_scan, gather_rows
// for sm_90) through the runtime's ImageSource, the same path the CUDA ops
// take (AOT bundles, then the disk cache under the key's lock file, then the
// compiler library), with the cache settings of the environment
// (PACKJIT_CACHE_DIR, PACKJIT_CACHE). No driver is needed: ImageSource never
// touches a device.
//
//   cache_rank_cpu [SYNC_DIR]
//
// Creates SYNC_DIR/ready.<pid> and waits until SYNC_DIR/go exists (so that
// every rank starts at once), then
// prints one JSON line: the compiles this process made (the runtime's own
// counter), its disk hits and the XXH3-128 of each kernel's PTX by file
// stem, for the launcher (many_ranks_cache.py) to compare across ranks.
#include "packjit/core/kernel_contract.h"
#include "packjit/runtime/image_source.h"
#include "packjit/runtime/settings.h"

#include <chrono>
#include <cstdio>
#include <exception>
#include <iostream>
#include <thread>
#include <unistd.h>

namespace {

using packjit::DType;

struct Wanted {
  const char *kernel;
  std::vector<DType> dtypes;
  std::map<std::string, int64_t> constexprs;
};

// Several kernels and dtypes, as a trainer's first steps compile them.
std::vector<Wanted> wantedKernels() {
  return {
      {"mask_scan", {DType::Int64}, {{"SEQ", 512}}},
      {"mask_scan", {DType::Int32}, {{"SEQ", 512}}},
      {"mask_scan", {DType::Bool}, {{"SEQ", 1000}}},
      {"mask_scan", {DType::Int64}, {}}, // the generic kernel (SEQ=0)
      {"position_ids_scan", {DType::Int64}, {}},
      {"gather_rows", {DType::Float32}, {{"ROW", 64}}},
      {"gather_rows", {DType::BFloat16}, {{"ROW", 128}}},
  };
}

void startTogether(const char *syncDir) {
  if (!syncDir)
    return;
  std::string ready =
      std::string(syncDir) + "/ready." + std::to_string(::getpid());
  std::string go = std::string(syncDir) + "/go";
  if (FILE *file = std::fopen(ready.c_str(), "w"))
    std::fclose(file);
  while (::access(go.c_str(), F_OK) != 0)
    std::this_thread::sleep_for(std::chrono::microseconds(200));
}

} // namespace

int main(int argc, char **argv) {
  try {
    packjit::runtime::ImageSource images(
        packjit::runtime::cacheSettingsFromEnvironment(), {});
    startTogether(argc > 1 ? argv[1] : nullptr);
    std::string digests;
    for (const Wanted &wanted : wantedKernels()) {
      packjit::KernelSpec spec = packjit::bindKernelSpec(
          wanted.kernel, wanted.dtypes, wanted.constexprs, "sm_90");
      const packjit::KernelContract &contract =
          packjit::KernelContract::of(wanted.kernel);
      packjit::runtime::ResolvedImage resolved =
          images.resolve(spec, contract.templateText(), "");
      if (resolved.image.ptx.empty())
        throw std::runtime_error("empty PTX for " + spec.fileStem());
      digests += std::string(digests.empty() ? "" : ", ") + "\"" +
                 spec.fileStem() + "\": \"" +
                 packjit::hash128(resolved.image.ptx).hex() + "\"";
    }
    const auto &counters = images.counters();
    std::cout << "{\"pid\": " << ::getpid()
              << ", \"compiles\": " << counters.compiles.load()
              << ", \"disk_hits\": " << counters.diskHits.load()
              << ", \"ptx\": {" << digests << "}}" << std::endl;
    return 0;
  } catch (const std::exception &error) {
    std::cerr << "cache_rank_cpu: " << error.what() << "\n";
    return 1;
  }
}
