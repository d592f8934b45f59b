#include "packjit/runtime/module_loader.h"

#include "packjit/core/error.h"
#include "packjit/core/log.h"
#include "packjit/runtime/driver.h"

#include <chrono>

namespace packjit::runtime {
namespace {

double millisecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now() - start)
      .count();
}

// PTX -> cubin with the driver's JIT (cuLink*), keeping its error log.
std::string linkPtx(const CudaDriver &driver, const KernelSpec &spec,
                    const std::string &ptx) {
  char errorLog[8192] = {};
  char infoLog[4096] = {};
  CUjit_option options[] = {
      CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES,
      CU_JIT_INFO_LOG_BUFFER, CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES};
  void *values[] = {errorLog, reinterpret_cast<void *>(sizeof errorLog),
                    infoLog, reinterpret_cast<void *>(sizeof infoLog)};
  CUlinkState link = nullptr;
  PACKJIT_CUDA_CHECK(driver.cuLinkCreate(4, options, values, &link));
  auto fail = [&](CUresult result, const char *call) {
    driver.cuLinkDestroy(link);
    try {
      throwCudaError(result, call, __FILE__, __LINE__);
    } catch (const Error &e) {
      throw Error(std::string(e.what()) + " while compiling the PTX of '" +
                  spec.canonical() + "'; JIT log: " + errorLog);
    }
  };
  // The PTX is passed with its terminating NUL, as the driver expects.
  CUresult result = driver.cuLinkAddData(
      link, CU_JIT_INPUT_PTX, const_cast<char *>(ptx.c_str()), ptx.size() + 1,
      "packjit.ptx", 0, nullptr, nullptr);
  if (result != CUDA_SUCCESS)
    fail(result, "cuLinkAddData");
  void *cubin = nullptr;
  size_t cubinSize = 0;
  result = driver.cuLinkComplete(link, &cubin, &cubinSize);
  if (result != CUDA_SUCCESS)
    fail(result, "cuLinkComplete");
  std::string image(static_cast<const char *>(cubin), cubinSize);
  driver.cuLinkDestroy(link); // owns the cubin memory
  return image;
}

class DriverModuleLoader final : public ModuleLoader {
public:
  DeviceTarget target(int ordinal) override { return device(ordinal).target; }

  void prepareBackgroundThread() override {
    CUstreamCaptureMode mode = CU_STREAM_CAPTURE_MODE_RELAXED;
    PACKJIT_CUDA_CHECK(cudaDriver().cuThreadExchangeStreamCaptureMode(&mode));
  }

  LoadedModule load(int ordinal, const KernelSpec &spec, KernelImage &image,
                    bool *madeCubin) override {
    const CudaDriver &driver = cudaDriver();
    const Device &dev = device(ordinal);
    ScopedContext scope(dev.context);
    std::string target =
        cubinTargetFor(dev.target.arch, dev.target.driverVersion);
    LoadedModule loaded;
    loaded.context = dev.context;
    *madeCubin = false;
    auto start = std::chrono::steady_clock::now();
    bool reused = false;
    if (!image.cubin.empty() && image.cubinTarget == target) {
      reused = driver.cuModuleLoadData(&loaded.module, image.cubin.data()) ==
               CUDA_SUCCESS;
      if (!reused)
        PACKJIT_LOG(Warn, "cached cubin of " + spec.fileStem() +
                              " did not load; compiling its PTX again");
    }
    if (!reused) {
      image.cubin = linkPtx(driver, spec, image.ptx);
      image.cubinTarget = target;
      *madeCubin = true;
      PACKJIT_CUDA_CHECK(
          driver.cuModuleLoadData(&loaded.module, image.cubin.data()));
    }
    CUresult result = driver.cuModuleGetFunction(
        &loaded.function, loaded.module, image.entryName.c_str());
    if (result != CUDA_SUCCESS) {
      driver.cuModuleUnload(loaded.module);
      throwCudaError(
          result, ("cuModuleGetFunction(\"" + image.entryName + "\")").c_str(),
          __FILE__, __LINE__);
    }
    PACKJIT_LOG(Info, std::string(reused ? "loaded cached cubin of "
                                         : "JIT-compiled PTX and loaded ") +
                          spec.fileStem() + " on device " +
                          std::to_string(ordinal) + " in " +
                          std::to_string(millisecondsSince(start)) + " ms");
    return loaded;
  }
};

} // namespace

std::unique_ptr<ModuleLoader> makeDriverModuleLoader() {
  return std::make_unique<DriverModuleLoader>();
}

} // namespace packjit::runtime
