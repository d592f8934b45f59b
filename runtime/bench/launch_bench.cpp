// The runtime's launch benchmark, for the GPU host. In one run:
//  - host time per launch of a cached kernel through packjit (KernelFamily
//    lookup + launch) against a raw cuLaunchKernel of the same function;
//  - first result in a fresh process with an empty cache, and with a warm
//    disk cache: the program runs itself again as a child, per case.
// Prints a table; --json PATH writes the numbers.
#include "add_one_ptx.h"
#include "packjit/core/bench_support.h"
#include "packjit/core/error.h"
#include "packjit/runtime/compiler_library.h"
#include "packjit/runtime/device.h"
#include "packjit/runtime/driver.h"
#include "packjit/runtime/launch.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <unistd.h>

namespace packjit::runtime {
namespace {

KernelCacheOptions handwrittenOptions(const std::string &cacheDir) {
  KernelCacheOptions options;
  options.settings.directory = cacheDir;
  options.bundlePaths = {};
  options.compile = [](const KernelSpec &, std::string_view) {
    return KernelImage{kAddOnePtx, kAddOneEntry, "", ""};
  };
  return options;
}

// ---- launch overhead -------------------------------------------------------

struct LaunchResult {
  double rawMicroseconds, packjitMicroseconds, bySpecMicroseconds;
};

LaunchResult measureLaunches(int rounds, int batch) {
  const CudaDriver &driver = cudaDriver();
  const Device &dev = device(0);
  PACKJIT_CUDA_CHECK(driver.cuCtxSetCurrent(dev.context)); // as PyTorch does
  CUstream stream = nullptr;
  PACKJIT_CUDA_CHECK(driver.cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING));
  CUdeviceptr data = 0;
  unsigned n = 1024;
  PACKJIT_CUDA_CHECK(driver.cuMemAlloc(&data, n * 4));
  void *rawArgs[] = {&data, &n};

  CUmodule rawModule = nullptr;
  CUfunction rawFunction = nullptr;
  PACKJIT_CUDA_CHECK(driver.cuModuleLoadData(&rawModule, kAddOnePtx));
  PACKJIT_CUDA_CHECK(
      driver.cuModuleGetFunction(&rawFunction, rawModule, kAddOneEntry));

  std::string cacheDir = std::filesystem::temp_directory_path() /
                         ("packjit-bench-" + std::to_string(getpid()));
  KernelCache cache(handwrittenOptions(cacheDir));
  KernelFamily family(KernelContract::fromText("add_one", kAddOneContract),
                      &cache);
  const DType dtypes[] = {DType::Int32};
  const ConstexprValues &values = family.defaults();
  KernelSpec spec = family.spec(0, dtypes, values);
  family.get(0, dtypes, values); // load outside the timing
  const int32_t count = static_cast<int32_t>(n);

  std::vector<double> raw, packjit, bySpec;
  for (int round = 0; round < rounds + 1; ++round) {
    auto start = BenchClock::now();
    for (int i = 0; i < batch; ++i)
      PACKJIT_CUDA_CHECK(driver.cuLaunchKernel(rawFunction, 4, 1, 1, 256, 1, 1,
                                               0, stream, rawArgs, nullptr));
    double rawTime = microsecondsSince(start) / batch;
    PACKJIT_CUDA_CHECK(driver.cuStreamSynchronize(stream));

    start = BenchClock::now();
    for (int i = 0; i < batch; ++i)
      launch(family.get(0, dtypes, values), {4}, {256}, stream,
             {KernelArg::pointer(data), KernelArg::i32(count)});
    double packjitTime = microsecondsSince(start) / batch;
    PACKJIT_CUDA_CHECK(driver.cuStreamSynchronize(stream));

    start = BenchClock::now();
    for (int i = 0; i < batch; ++i)
      launch(cache.get(family.contract(), spec, 0), {4}, {256}, stream,
             {KernelArg::pointer(data), KernelArg::i32(count)});
    double bySpecTime = microsecondsSince(start) / batch;
    PACKJIT_CUDA_CHECK(driver.cuStreamSynchronize(stream));
    if (round == 0)
      continue; // warm-up
    raw.push_back(rawTime);
    packjit.push_back(packjitTime);
    bySpec.push_back(bySpecTime);
  }
  driver.cuMemFree(data);
  driver.cuModuleUnload(rawModule);
  driver.cuStreamDestroy(stream);
  std::filesystem::remove_all(cacheDir);
  return {median(raw), median(packjit), median(bySpec)};
}

// ---- first result in a fresh process ---------------------------------------

// The child's work: one kernel to a result on the host. Prints
// {"microseconds": ..., "path": ..., "origin": ...} on stdout.
int firstResultChild(const std::string &path) {
  auto start = BenchClock::now(); // main() entry: process start-up is timed by
                                  // the parent
  const CudaDriver &driver = cudaDriver();
  const Device &dev = device(0);
  PACKJIT_CUDA_CHECK(driver.cuCtxSetCurrent(dev.context));
  // CUDA's own start-up (libcuda, cuInit, the primary context) is paid by
  // any CUDA program; in a trainer PyTorch has paid it before packjit runs.
  const double cudaStartup = microsecondsSince(start);
  KernelCacheOptions options;
  if (path == "handwritten")
    options = handwrittenOptions(cacheSettingsFromEnvironment().directory);
  options.bundlePaths = {};
  KernelCache cache(options);
  bool ok = true;
  const Kernel *kernel = nullptr;
  if (path == "compiler") {
    // The ABI of kernels_src/gather_rows.mlir: one tensor, one lane per row.
    KernelFamily gather("gather_rows", &cache);
    const DType dtypes[] = {DType::Float32};
    ConstexprValues values = gather.defaults();
    values.set(gather.slot("ROW"), 1).set(gather.slot("LANES"), 1);
    kernel = &gather.get(0, dtypes, values);
    float hostSrc[4] = {1, 2, 3, 4}, hostDst[2] = {0, 0};
    int64_t hostIndices[2] = {3, 1}, nnz = 2, rows = 4, stride = 1;
    CUdeviceptr src, dst, indices;
    PACKJIT_CUDA_CHECK(driver.cuMemAlloc(&src, sizeof hostSrc));
    PACKJIT_CUDA_CHECK(driver.cuMemAlloc(&dst, sizeof hostDst));
    PACKJIT_CUDA_CHECK(driver.cuMemAlloc(&indices, sizeof hostIndices));
    PACKJIT_CUDA_CHECK(driver.cuMemcpyHtoD(src, hostSrc, sizeof hostSrc));
    PACKJIT_CUDA_CHECK(
        driver.cuMemcpyHtoD(indices, hostIndices, sizeof hostIndices));
    const KernelArg unused = KernelArg::pointer(CUdeviceptr{0});
    launch(*kernel, {1}, {256}, nullptr,
           {KernelArg::pointer(src), KernelArg::pointer(dst), unused, unused,
            unused, unused, KernelArg::pointer(indices), KernelArg::i64(nnz),
            KernelArg::i64(rows), KernelArg::i64(stride),
            KernelArg::i64(stride), KernelArg::i64(stride)});
    PACKJIT_CUDA_CHECK(driver.cuMemcpyDtoH(hostDst, dst, sizeof hostDst));
    ok = hostDst[0] == 4 && hostDst[1] == 2;
  } else {
    KernelFamily addOne(KernelContract::fromText("add_one", kAddOneContract),
                        &cache);
    const DType dtypes[] = {DType::Int32};
    kernel = &addOne.get(0, dtypes, addOne.defaults());
    int32_t host[256] = {};
    unsigned n = 256;
    CUdeviceptr data;
    PACKJIT_CUDA_CHECK(driver.cuMemAlloc(&data, sizeof host));
    PACKJIT_CUDA_CHECK(driver.cuMemcpyHtoD(data, host, sizeof host));
    launch(*kernel, {1}, {256}, nullptr,
           {KernelArg::pointer(data), KernelArg::i32(static_cast<int32_t>(n))});
    PACKJIT_CUDA_CHECK(driver.cuMemcpyDtoH(host, data, sizeof host));
    ok = host[0] == 1 && host[255] == 1;
  }
  double elapsed = microsecondsSince(start);
  std::cout << nlohmann::json{{"microseconds", elapsed},
                              {"cuda_startup_microseconds", cudaStartup},
                              {"path", path},
                              {"origin", imageOriginName(kernel->origin)},
                              {"cubin_reused", kernel->cubinReused},
                              {"correct", ok}}
                   .dump()
            << std::endl;
  return ok ? 0 : 1;
}

// One fresh process's first result, in milliseconds.
struct FirstRun {
  double wall = 0;        // spawn to exit
  double inProcess = 0;   // main() to the result
  double cudaStartup = 0; // of which CUDA's own start-up
  nlohmann::json report;
};

FirstRun runChild(const std::string &path, const std::string &cacheDir) {
  const std::string outFile = cacheDir + ".out";
  const ChildRun child = runSelf({"--child-first-result", path}, 1, outFile,
                                 {"PACKJIT_CACHE_DIR=" + cacheDir});
  std::ifstream in(outFile);
  std::string line;
  std::getline(in, line);
  std::filesystem::remove(outFile);
  if (!child.succeeded() || line.empty())
    throw Error("the first-result child failed (" + path +
                "); output: " + line);
  FirstRun run;
  run.wall = child.wallMicroseconds / 1000;
  run.report = nlohmann::json::parse(line);
  run.inProcess = run.report["microseconds"].get<double>() / 1000;
  run.cudaStartup =
      run.report["cuda_startup_microseconds"].get<double>() / 1000;
  return run;
}

// Medians over fresh processes of one case (empty cache, or warm disk).
struct FirstCase {
  std::vector<double> wall, inProcess, cudaStartup;

  void add(const FirstRun &run) {
    wall.push_back(run.wall);
    inProcess.push_back(run.inProcess);
    cudaStartup.push_back(run.cudaStartup);
  }
  double packjitShare() const {
    return median(inProcess) - median(cudaStartup);
  }
  nlohmann::json json() const {
    return {{"wall_ms", median(wall)},
            {"in_process_ms", median(inProcess)},
            {"cuda_startup_ms", median(cudaStartup)},
            {"packjit_ms", packjitShare()}};
  }
};

struct FirstResult {
  std::string path;
  FirstCase cold, warm;
  std::string warmOrigin;
  bool warmCubinReused = false;
};

FirstResult measureFirstResult(const std::string &path, int repeats) {
  FirstResult result{path, {}, {}, "", false};
  for (int i = 0; i < repeats; ++i) {
    std::string dir = std::filesystem::temp_directory_path() /
                      ("packjit-first-" + std::to_string(getpid()) + "-" +
                       path + "-" + std::to_string(i));
    std::filesystem::remove_all(dir);
    result.cold.add(runChild(path, dir));      // empty cache
    const FirstRun warm = runChild(path, dir); // the entry cold left behind
    result.warm.add(warm);
    result.warmOrigin = warm.report["origin"].get<std::string>();
    result.warmCubinReused = warm.report["cubin_reused"].get<bool>();
    std::filesystem::remove_all(dir);
  }
  return result;
}

void printFirstCase(const std::string &title, const FirstCase &c,
                    const char *packjitWork, const char *target) {
  std::printf("%-52s %9.2f ms %10s\n", title.c_str(), median(c.wall), "");
  std::printf("%-52s %9.2f ms %10s\n", "  of which inside main()",
              median(c.inProcess), "");
  std::printf("%-52s %9.2f ms %10s\n",
              "    CUDA start-up (driver, primary context)",
              median(c.cudaStartup), "");
  std::printf("%-52s %9.2f ms %10s\n", packjitWork, c.packjitShare(), target);
}

int benchMain(int rounds, int batch, int repeats, const std::string &jsonPath) {
  const Device &dev = device(0);
  LaunchResult launches = measureLaunches(rounds, batch);
  std::vector<std::string> paths{"handwritten"};
  std::string why;
  if (compilerAvailable(&why))
    paths.push_back("compiler");
  else
    std::cerr << "launch_bench: no compiler library, first-result timings use "
                 "the hand-written PTX only: "
              << why << "\n";
  std::vector<FirstResult> firsts;
  for (const std::string &path : paths)
    firsts.push_back(measureFirstResult(path, repeats));

  std::printf("device: %s (%s), driver %d\n", dev.name.c_str(),
              dev.target.arch.c_str(), dev.target.driverVersion);
  std::printf("%-52s %12s %10s\n", "what", "measured", "target");
  std::printf("%-52s %9.2f us %10s\n",
              "raw cuLaunchKernel, host time per launch",
              launches.rawMicroseconds, "-");
  std::printf("%-52s %9.2f us %10s\n", "packjit KernelFamily::get + launch",
              launches.packjitMicroseconds, "");
  std::printf("%-52s %9.2f us %10s\n", "  overhead above raw",
              launches.packjitMicroseconds - launches.rawMicroseconds,
              "<= 2 us");
  std::printf("%-52s %9.2f us %10s\n",
              "packjit KernelCache::get(spec) + launch",
              launches.bySpecMicroseconds, "-");
  for (const FirstResult &first : firsts) {
    printFirstCase("first result, fresh process, empty cache [" + first.path +
                       "]",
                   first.cold, "    packjit: compile, load, launch, copy back",
                   "<= 150 ms");
    printFirstCase(
        "first result, fresh process, warm disk [" + first.path + "]",
        first.warm, "    packjit: disk cache, load, launch, copy back",
        "<= 5 ms");
  }
  if (!jsonPath.empty()) {
    nlohmann::json out = {
        {"device", dev.name},
        {"arch", dev.target.arch},
        {"driver_version", dev.target.driverVersion},
        {"launch_batch", batch},
        {"launch_rounds", rounds},
        {"raw_launch_us", launches.rawMicroseconds},
        {"packjit_launch_us", launches.packjitMicroseconds},
        {"packjit_launch_overhead_us",
         launches.packjitMicroseconds - launches.rawMicroseconds},
        {"packjit_launch_by_spec_us", launches.bySpecMicroseconds},
        {"first_result", nlohmann::json::array()}};
    for (const FirstResult &first : firsts)
      out["first_result"].push_back(
          {{"kernel_path", first.path},
           {"repeats", repeats},
           {"cold", first.cold.json()},
           {"warm", first.warm.json()},
           {"warm_origin", first.warmOrigin},
           {"warm_cubin_reused", first.warmCubinReused}});
    std::ofstream(jsonPath) << out.dump(2) << "\n";
  }
  return 0;
}

} // namespace
} // namespace packjit::runtime

int main(int argc, char **argv) {
  using namespace packjit::runtime;
  if (argc == 3 && std::strcmp(argv[1], "--child-first-result") == 0) {
    try {
      return firstResultChild(argv[2]);
    } catch (const std::exception &e) {
      std::cerr << "child: " << e.what() << "\n";
      return 1;
    }
  }
  CLI::App app{"packjit launch benchmark (GPU host)"};
  int rounds = 30, batch = 200, repeats = 5;
  std::string jsonPath;
  app.add_option("--rounds", rounds, "Timed rounds of launches (median taken)");
  app.add_option("--batch", batch, "Launches per round");
  app.add_option("--repeats", repeats,
                 "Fresh-process runs per case (median taken)");
  app.add_option("--json", jsonPath, "Write the results here as JSON");
  CLI11_PARSE(app, argc, argv);
  std::string why;
  if (!cudaDriverAvailable(&why)) {
    std::cerr << "launch_bench: " << why << "\n";
    return 77;
  }
  try {
    return benchMain(rounds, batch, repeats, jsonPath);
  } catch (const std::exception &e) {
    std::cerr << "launch_bench: error: " << e.what() << "\n";
    return 1;
  }
}
