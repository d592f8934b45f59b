#include "packjit/runtime/device.h"

#include "packjit/core/arch.h"
#include "packjit/core/error.h"
#include "packjit/core/log.h"
#include "packjit/runtime/driver.h"

#include <memory>
#include <mutex>

namespace packjit::runtime {
namespace {

std::unique_ptr<Device> openDevice(int ordinal) {
  const CudaDriver &driver = cudaDriver();
  auto dev = std::make_unique<Device>();
  dev->ordinal = ordinal;
  PACKJIT_CUDA_CHECK(driver.cuDeviceGet(&dev->handle, ordinal));
  char name[256] = {};
  PACKJIT_CUDA_CHECK(driver.cuDeviceGetName(name, sizeof name, dev->handle));
  dev->name = name;
  PACKJIT_CUDA_CHECK(driver.cuDeviceGetAttribute(
      &dev->computeCapabilityMajor,
      CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev->handle));
  PACKJIT_CUDA_CHECK(driver.cuDeviceGetAttribute(
      &dev->computeCapabilityMinor,
      CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev->handle));
  PACKJIT_CUDA_CHECK(driver.cuDriverGetVersion(&dev->target.driverVersion));
  dev->target.arch = archForComputeCapability(dev->computeCapabilityMajor,
                                              dev->computeCapabilityMinor);
  dev->target.ptxVersion =
      choosePtxVersion(dev->target.arch, dev->target.driverVersion);
  PACKJIT_CUDA_CHECK(
      driver.cuDevicePrimaryCtxRetain(&dev->context, dev->handle));
  PACKJIT_LOG(Info, "device " + std::to_string(ordinal) + ": " + dev->name +
                        ", " + dev->target.arch + ", driver " +
                        std::to_string(dev->target.driverVersion) + ", PTX " +
                        ptxVersionString(dev->target.ptxVersion));
  return dev;
}

} // namespace

int deviceCount() {
  const CudaDriver &driver = cudaDriver();
  int count = 0;
  PACKJIT_CUDA_CHECK(driver.cuDeviceGetCount(&count));
  return count;
}

const Device &device(int ordinal) {
  // Devices are opened once and live as long as the process.
  static std::mutex mutex;
  static std::vector<std::unique_ptr<Device>> devices;
  std::lock_guard lock(mutex);
  if (ordinal >= 0 && static_cast<size_t>(ordinal) < devices.size() &&
      devices[ordinal])
    return *devices[ordinal];
  int count = deviceCount();
  if (ordinal < 0 || ordinal >= count)
    throw Error("CUDA device " + std::to_string(ordinal) + " does not exist (" +
                std::to_string(count) + " devices)");
  if (devices.size() < static_cast<size_t>(count))
    devices.resize(count);
  devices[ordinal] = openDevice(ordinal);
  return *devices[ordinal];
}

ScopedContext::ScopedContext(CUcontext context) {
  const CudaDriver &driver = cudaDriver();
  CUcontext current = nullptr;
  PACKJIT_CUDA_CHECK(driver.cuCtxGetCurrent(&current));
  if (current == context)
    return;
  PACKJIT_CUDA_CHECK(driver.cuCtxPushCurrent(context));
  pushed_ = true;
}

ScopedContext::~ScopedContext() {
  if (!pushed_)
    return;
  CUcontext popped = nullptr;
  cudaDriver().cuCtxPopCurrent(&popped); // a destructor must not throw
}

} // namespace packjit::runtime
