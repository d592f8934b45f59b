// Turns a KernelImage into a launchable function on a device. The default
// uses the CUDA driver; tests of the cache substitute a fake one.
#pragma once

#include "packjit/core/kernel_spec.h"
#include "packjit/runtime/device.h"
#include "packjit/runtime/kernel_image.h"

#include <memory>

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
  // Loads `image` on `device`. Uses image.cubin when it was made for this
  // device's target; otherwise compiles the PTX with the driver and puts the
  // cubin it made into `image` (sets *madeCubin) so that it can be cached.
  virtual LoadedModule load(int device, const KernelSpec &spec,
                            KernelImage &image, bool *madeCubin) = 0;
  // Called on the background compile thread before each load there. The
  // driver's loader puts that thread in relaxed stream-capture mode: its
  // module loads are then never refused, nor do they invalidate a CUDA graph
  // another thread captures in global mode (PyTorch's default).
  virtual void prepareBackgroundThread() {}
};

// The CUDA driver, in each device's primary context.
std::unique_ptr<ModuleLoader> makeDriverModuleLoader();

} // namespace packjit::runtime
