// Turns a KernelImage into a launchable function on a device. The default
// uses the CUDA driver; tests of the cache substitute a fake one.
#pragma once

#include "packjit/core/kernel_spec.h"
#include "packjit/runtime/device.h"
#include "packjit/runtime/kernel_image.h"

#include <atomic>
#include <functional>
#include <memory>
#include <string>

namespace packjit::runtime {

struct LoadedModule {
  CUcontext context = nullptr;
  CUmodule module = nullptr;
  CUfunction function = nullptr;
};

class ModuleLoader {
public:
  virtual ~ModuleLoader() = default;
  virtual DeviceTarget target(int device) = 0;
  // Loads `image` on `device` as ImageLoadPolicy does: image.cubin when it
  // fits the device and the driver takes it; otherwise compiles the PTX with
  // the driver and puts the cubin it made into `image` (sets *madeCubin) so
  // that it can be cached.
  virtual LoadedModule load(int device, const KernelSpec &spec,
                            KernelImage &image, bool *madeCubin) = 0;
  // Called on the background compile thread before each load there. The
  // driver's loader puts that thread in relaxed stream-capture mode: its
  // module loads are then never refused, nor do they invalidate a CUDA graph
  // another thread captures in global mode (PyTorch's default).
  virtual void prepareBackgroundThread() {}
};

// How an image becomes a module, apart from the driver (tests drive it with
// fakes): a cubin that fits the device (cubinFitsDevice) is loaded as is; a
// cubin the driver refuses is logged and, like a missing or unfitting one,
// replaced by the JIT's cubin of the PTX. The first refused ptxas cubin is a
// warning (the toolkit that made the bundle is newer than the driver, say),
// later ones are logged at info.
class ImageLoadPolicy {
public:
  // cuModuleLoadData of a cubin.
  using LoadCubin = std::function<CUresult(const std::string &cubin)>;
  // The driver's PTX JIT; throws packjit::Error with its log.
  using CompilePtx = std::function<std::string(const std::string &ptx)>;

  // `deviceTarget` is cubinTargetFor() of the device. Sets *madeCubin when
  // the JIT ran (image.cubin and image.cubinTarget are then its). Throws
  // packjit::Error when the JIT's cubin does not load either.
  void load(const KernelSpec &spec, KernelImage &image,
            const std::string &deviceTarget, const LoadCubin &loadCubin,
            const CompilePtx &compilePtx, bool *madeCubin);

private:
  void logRefusal(const KernelSpec &spec, const KernelImage &image,
                  const std::string &deviceTarget, CUresult result);

  std::atomic<bool> warnedOfRefusedPtxasCubin_{false};
};

// The CUDA driver, in each device's primary context.
std::unique_ptr<ModuleLoader> makeDriverModuleLoader();

} // namespace packjit::runtime
