// The runtime's launch benchmark, for the GPU host. In one run:
//  - host time per launch of a cached kernel through packjit (KernelFamily
//    lookup + launch) against a raw cuLaunchKernel of the same function;
//  - first result in a fresh process with an empty cache, with a warm disk
//    cache, and with the kernel in an AOT bundle (ptxas's cubin, or PTX
//    only): the program runs itself again as a child, per case. The
//    mask_scan path only loads its generic kernel (the one a first call at
//    a new shape runs), the costliest for the driver's PTX JIT.
// Prints a table; --json PATH writes the numbers.
#include "add_one_ptx.h"
#include "packjit/core/bench_support.h"
#include "packjit/core/error.h"
#include "packjit/runtime/bundle.h"
#include "packjit/runtime/compiler_library.h"
#include "packjit/runtime/device.h"
#include "packjit/runtime/driver.h"
#include "packjit/runtime/launch.h"
#include "packjit/runtime/ptxas.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
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

// The kernel a first-result path runs, as its family asks for it.
struct FirstKernel {
  std::unique_ptr<KernelFamily> family;
  std::vector<DType> dtypes;
  ConstexprValues values;

  KernelSpec spec() { return family->spec(0, dtypes, values); }
  const Kernel &get() { return family->get(0, dtypes, values); }
};

FirstKernel firstKernel(const std::string &path, KernelCache &cache) {
  FirstKernel first;
  if (path == "handwritten") {
    first.family = std::make_unique<KernelFamily>(
        KernelContract::fromText("add_one", kAddOneContract), &cache);
    first.dtypes = {DType::Int32};
    first.values = first.family->defaults();
  } else if (path == "compiler") {
    // The ABI of kernels_src/gather_rows.mlir: one tensor, one lane per row.
    first.family = std::make_unique<KernelFamily>("gather_rows", &cache);
    first.dtypes = {DType::Float32};
    first.values = first.family->defaults();
    first.values.set(first.family->slot("ROW"), 1)
        .set(first.family->slot("LANES"), 1);
  } else { // mask_scan: the generic kernel of an int64 mask, strict
    first.family = std::make_unique<KernelFamily>("mask_scan", &cache);
    first.dtypes = {DType::Int64};
    first.values = first.family->defaults();
    first.values.set(first.family->slot("SEQ"), 0);
  }
  return first;
}

// Runs gather_rows (the compiler path's kernel) on 4 rows; true if right.
bool runGatherRows(const Kernel &kernel) {
  const CudaDriver &driver = cudaDriver();
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
  launch(kernel, {1}, {256}, nullptr,
         {KernelArg::pointer(src), KernelArg::pointer(dst), unused, unused,
          unused, unused, KernelArg::pointer(indices), KernelArg::i64(nnz),
          KernelArg::i64(rows), KernelArg::i64(stride), KernelArg::i64(stride),
          KernelArg::i64(stride)});
  PACKJIT_CUDA_CHECK(driver.cuMemcpyDtoH(hostDst, dst, sizeof hostDst));
  return hostDst[0] == 4 && hostDst[1] == 2;
}

// Runs add_one (the hand-written path's kernel) on 256 ints; true if right.
bool runAddOne(const Kernel &kernel) {
  const CudaDriver &driver = cudaDriver();
  int32_t host[256] = {};
  unsigned n = 256;
  CUdeviceptr data;
  PACKJIT_CUDA_CHECK(driver.cuMemAlloc(&data, sizeof host));
  PACKJIT_CUDA_CHECK(driver.cuMemcpyHtoD(data, host, sizeof host));
  launch(kernel, {1}, {256}, nullptr,
         {KernelArg::pointer(data), KernelArg::i32(static_cast<int32_t>(n))});
  PACKJIT_CUDA_CHECK(driver.cuMemcpyDtoH(host, data, sizeof host));
  return host[0] == 1 && host[255] == 1;
}

// The child's work: one kernel to a result on the host (mask_scan: to a
// loaded kernel), from `bundle` when one is given. Prints
// {"microseconds": ..., "path": ..., "origin": ...} on stdout.
int firstResultChild(const std::string &path, const std::string &bundle) {
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
  if (!bundle.empty())
    options.bundlePaths = {bundle};
  KernelCache cache(options);
  FirstKernel first = firstKernel(path, cache);
  const Kernel &kernel = first.get();
  bool ok = path == "handwritten" ? runAddOne(kernel)
            : path == "compiler"  ? runGatherRows(kernel)
                                  : kernel.function != nullptr;
  double elapsed = microsecondsSince(start);
  std::cout << nlohmann::json{{"microseconds", elapsed},
                              {"cuda_startup_microseconds", cudaStartup},
                              {"path", path},
                              {"origin", imageOriginName(kernel.origin)},
                              {"cubin_reused", kernel.cubinReused},
                              {"correct", ok}}
                   .dump()
            << std::endl;
  return ok ? 0 : 1;
}

// A bundle at `file` with the kernel of `path`, with ptxas's cubin for this
// GPU when `ptxas` is given (PTX only otherwise).
void writeFirstBundle(const std::string &path, const Ptxas *ptxas,
                      const std::string &file) {
  KernelCacheOptions options = handwrittenOptions("");
  options.settings.diskEnabled = false;
  KernelCache cache(options); // only for the family's spec
  FirstKernel first = firstKernel(path, cache);
  KernelSpec spec = first.spec();
  KernelImage image = path == "handwritten"
                          ? KernelImage{kAddOnePtx, kAddOneEntry, "", ""}
                          : compileWithCompilerLibrary(
                                spec, first.family->contract().templateText());
  if (ptxas) {
    image.cubin = ptxas->assemble(image.ptx, spec.arch, spec.fileStem());
    image.cubinTarget = ptxas->cubinTarget(spec.arch);
  }
  writeBundle(file, {{spec.canonical(), image}});
}

// One fresh process's first result, in milliseconds.
struct FirstRun {
  double wall = 0;        // spawn to exit
  double inProcess = 0;   // main() to the result
  double cudaStartup = 0; // of which CUDA's own start-up
  nlohmann::json report;
};

// A child with an empty or warm cache at `cacheDir`, and `bundle` if given.
FirstRun runChild(const std::string &path, const std::string &cacheDir,
                  const std::string &bundle = "") {
  const std::string outFile = cacheDir + ".out";
  std::vector<std::string> args{"--child-first-result", path};
  if (!bundle.empty())
    args.push_back(bundle);
  const ChildRun child =
      runSelf(args, 1, outFile, {"PACKJIT_CACHE_DIR=" + cacheDir});
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

// Medians over fresh processes of one case (empty cache, warm disk, a
// bundle), and where the last run's kernel came from.
struct FirstCase {
  std::vector<double> wall, inProcess, cudaStartup;
  std::string origin;
  bool cubinReused = false;

  void add(const FirstRun &run) {
    wall.push_back(run.wall);
    inProcess.push_back(run.inProcess);
    cudaStartup.push_back(run.cudaStartup);
    origin = run.report["origin"].get<std::string>();
    cubinReused = run.report["cubin_reused"].get<bool>();
  }
  bool measured() const { return !wall.empty(); }
  double packjitShare() const {
    return median(inProcess) - median(cudaStartup);
  }
  nlohmann::json json() const {
    return {{"wall_ms", median(wall)},
            {"in_process_ms", median(inProcess)},
            {"cuda_startup_ms", median(cudaStartup)},
            {"packjit_ms", packjitShare()},
            {"origin", origin},
            {"cubin_reused", cubinReused}};
  }
};

struct FirstResult {
  std::string path;
  FirstCase cold, warm, aotCubin, aotPtx;
};

// Each repeat in a fresh cache directory: empty, then warm (the entry the
// empty run left behind), then empty again under each bundle (a PTX-only
// bundle's JIT leaves the driver's cubin in the cache). Without ptxas the
// cubin case is left out.
FirstResult measureFirstResult(const std::string &path, int repeats,
                               const Ptxas *ptxas) {
  FirstResult result{path, {}, {}, {}, {}};
  const std::string base =
      std::filesystem::temp_directory_path() /
      ("packjit-first-" + std::to_string(getpid()) + "-" + path);
  const std::string cubinBundle = base + "-cubin.pjb";
  const std::string ptxBundle = base + "-ptx.pjb";
  if (ptxas)
    writeFirstBundle(path, ptxas, cubinBundle);
  writeFirstBundle(path, nullptr, ptxBundle);
  for (int i = 0; i < repeats; ++i) {
    const std::string dir = base + "-" + std::to_string(i);
    std::filesystem::remove_all(dir);
    result.cold.add(runChild(path, dir));
    result.warm.add(runChild(path, dir));
    std::filesystem::remove_all(dir);
    if (ptxas) {
      result.aotCubin.add(runChild(path, dir, cubinBundle));
      std::filesystem::remove_all(dir);
    }
    result.aotPtx.add(runChild(path, dir, ptxBundle));
    std::filesystem::remove_all(dir);
  }
  std::filesystem::remove(cubinBundle);
  std::filesystem::remove(ptxBundle);
  return result;
}

void printFirstCase(const std::string &title, const FirstCase &c,
                    const std::string &packjitWork, const char *target) {
  if (!c.measured())
    return;
  std::printf("%-52s %9.2f ms %10s\n", title.c_str(), median(c.wall), "");
  std::printf("%-52s %9.2f ms %10s\n", "  of which inside main()",
              median(c.inProcess), "");
  std::printf("%-52s %9.2f ms %10s\n",
              "    CUDA start-up (driver, primary context)",
              median(c.cudaStartup), "");
  std::printf("%-52s %9.2f ms %10s\n", packjitWork.c_str(), c.packjitShare(),
              target);
}

void printFirstResult(const FirstResult &first) {
  const bool loadOnly = first.path == "mask_scan";
  const std::string what = loadOnly ? "first load" : "first result";
  const std::string tag =
      loadOnly ? " [mask_scan generic]" : " [" + first.path + "]";
  const std::string rest = loadOnly ? "" : ", launch, copy back";
  printFirstCase(what + ", fresh process, empty cache" + tag, first.cold,
                 "    packjit: compile, JIT, load" + rest, "<= 150 ms");
  printFirstCase(what + ", fresh process, warm disk" + tag, first.warm,
                 "    packjit: disk cache, load" + rest, "<= 5 ms");
  printFirstCase(what + ", fresh process, AOT ptxas cubin" + tag,
                 first.aotCubin, "    packjit: bundle, load" + rest, "<= 2 ms");
  printFirstCase(what + ", fresh process, AOT PTX only" + tag, first.aotPtx,
                 "    packjit: bundle, JIT, load" + rest, "-");
}

int benchMain(int rounds, int batch, int repeats, const std::string &jsonPath) {
  const Device &dev = device(0);
  LaunchResult launches = measureLaunches(rounds, batch);
  std::vector<std::string> paths{"handwritten"};
  std::string why;
  if (compilerAvailable(&why)) {
    paths.push_back("compiler");
    paths.push_back("mask_scan");
  } else {
    std::cerr << "launch_bench: no compiler library, first-result timings use "
                 "the hand-written PTX only: "
              << why << "\n";
  }
  std::optional<Ptxas> ptxas = findPtxas("", &why);
  if (!ptxas)
    std::cerr << "launch_bench: no AOT bundles with cubins measured: " << why
              << "\n";
  std::vector<FirstResult> firsts;
  for (const std::string &path : paths)
    firsts.push_back(
        measureFirstResult(path, repeats, ptxas ? &*ptxas : nullptr));

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
  for (const FirstResult &first : firsts)
    printFirstResult(first);
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
    if (ptxas)
      out["ptxas"] = ptxas->path + " " + ptxas->version;
    for (const FirstResult &first : firsts) {
      nlohmann::json cases = {{"kernel_path", first.path},
                              {"repeats", repeats},
                              {"cold", first.cold.json()},
                              {"warm", first.warm.json()},
                              {"aot_ptx", first.aotPtx.json()}};
      if (first.aotCubin.measured())
        cases["aot_cubin"] = first.aotCubin.json();
      out["first_result"].push_back(cases);
    }
    std::ofstream(jsonPath) << out.dump(2) << "\n";
  }
  return 0;
}

} // namespace
} // namespace packjit::runtime

int main(int argc, char **argv) {
  using namespace packjit::runtime;
  if ((argc == 3 || argc == 4) &&
      std::strcmp(argv[1], "--child-first-result") == 0) {
    try {
      return firstResultChild(argv[2], argc == 4 ? argv[3] : "");
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
