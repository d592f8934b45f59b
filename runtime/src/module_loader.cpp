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

// "CUDA_ERROR_INVALID_IMAGE (200)"; just the code where no driver names it
// (the tests' fake loaders).
std::string describeResult(CUresult result) {
  const char *name = nullptr;
  if (cudaDriverAvailable())
    cudaDriver().cuGetErrorName(result, &name);
  return std::string(name ? name : "CUresult") + " (" +
         std::to_string(static_cast<int>(result)) + ")";
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
    LoadedModule loaded;
    loaded.context = dev.context;
    auto start = std::chrono::steady_clock::now();
    policy_.load(
        spec, image, cubinTargetFor(dev.target.arch, dev.target.driverVersion),
        [&](const std::string &cubin) {
          return driver.cuModuleLoadData(&loaded.module, cubin.data());
        },
        [&](const std::string &ptx) { return linkPtx(driver, spec, ptx); },
        madeCubin);
    CUresult result = driver.cuModuleGetFunction(
        &loaded.function, loaded.module, image.entryName.c_str());
    if (result != CUDA_SUCCESS) {
      driver.cuModuleUnload(loaded.module);
      throwCudaError(
          result, ("cuModuleGetFunction(\"" + image.entryName + "\")").c_str(),
          __FILE__, __LINE__);
    }
    std::string how = *madeCubin ? "JIT-compiled PTX and loaded "
                      : isPtxasCubinTarget(image.cubinTarget)
                          ? "loaded ptxas cubin (" + image.cubinTarget + ") of "
                          : "loaded cached cubin of ";
    PACKJIT_LOG(Info, how + spec.fileStem() + " on device " +
                          std::to_string(ordinal) + " in " +
                          std::to_string(millisecondsSince(start)) + " ms");
    return loaded;
  }

private:
  ImageLoadPolicy policy_;
};

} // namespace

void ImageLoadPolicy::load(const KernelSpec &spec, KernelImage &image,
                           const std::string &deviceTarget,
                           const LoadCubin &loadCubin,
                           const CompilePtx &compilePtx, bool *madeCubin) {
  *madeCubin = false;
  if (cubinFitsDevice(image.cubinTarget, deviceTarget) &&
      !image.cubin.empty()) {
    CUresult result = loadCubin(image.cubin);
    if (result == CUDA_SUCCESS)
      return;
    logRefusal(spec, image, deviceTarget, result);
  }
  image.cubin = compilePtx(image.ptx);
  image.cubinTarget = deviceTarget;
  *madeCubin = true;
  if (CUresult result = loadCubin(image.cubin); result != CUDA_SUCCESS)
    throwCudaError(result, "cuModuleLoadData", __FILE__, __LINE__);
}

void ImageLoadPolicy::logRefusal(const KernelSpec &spec,
                                 const KernelImage &image,
                                 const std::string &deviceTarget,
                                 CUresult result) {
  std::string what = "the driver (" + deviceTarget + ") refused the cubin (" +
                     image.cubinTarget + ") of " + spec.fileStem() + " with " +
                     describeResult(result) + "; JIT-compiling its PTX instead";
  if (!isPtxasCubinTarget(image.cubinTarget)) {
    PACKJIT_LOG(Warn, what);
    return;
  }
  if (warnedOfRefusedPtxasCubin_.exchange(true)) {
    PACKJIT_LOG(Info, what);
    return;
  }
  PACKJIT_LOG(Warn, what +
                        ". A driver older than the CUDA toolkit whose "
                        "ptxas made an AOT bundle's cubins refuses them: "
                        "make the bundle with that driver's toolkit (packjit "
                        "aot --ptxas), or update the driver. Each kernel "
                        "costs a JIT on its first load until then (the disk "
                        "cache keeps the result); further refusals are "
                        "logged at info");
}

std::unique_ptr<ModuleLoader> makeDriverModuleLoader() {
  return std::make_unique<DriverModuleLoader>();
}

} // namespace packjit::runtime
