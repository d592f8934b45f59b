// The CUDA driver entry points packjit uses, as an X-macro table. No include
// guard: each includer defines PACKJIT_CUDA_SYMBOL(name) and expands the table
// (once into the CudaDriver struct, once into the loader).
//
// Names go through cuda.h's macros, so cuLinkCreate becomes cuLinkCreate_v2
// both in the struct and in the symbol looked up: the ABI cuda.h describes.
//
// cuGetErrorName and cuGetErrorString come first: they describe every other
// failure, including those while loading the rest.
PACKJIT_CUDA_SYMBOL(cuGetErrorName)
PACKJIT_CUDA_SYMBOL(cuGetErrorString)
PACKJIT_CUDA_SYMBOL(cuInit)
PACKJIT_CUDA_SYMBOL(cuDriverGetVersion)
PACKJIT_CUDA_SYMBOL(cuDeviceGetCount)
PACKJIT_CUDA_SYMBOL(cuDeviceGet)
PACKJIT_CUDA_SYMBOL(cuDeviceGetName)
PACKJIT_CUDA_SYMBOL(cuDeviceGetAttribute)
PACKJIT_CUDA_SYMBOL(cuDevicePrimaryCtxRetain)
PACKJIT_CUDA_SYMBOL(cuDevicePrimaryCtxRelease)
PACKJIT_CUDA_SYMBOL(cuCtxGetCurrent)
PACKJIT_CUDA_SYMBOL(cuCtxSetCurrent)
PACKJIT_CUDA_SYMBOL(cuCtxPushCurrent)
PACKJIT_CUDA_SYMBOL(cuCtxPopCurrent)
PACKJIT_CUDA_SYMBOL(cuCtxSynchronize)
PACKJIT_CUDA_SYMBOL(cuLinkCreate)
PACKJIT_CUDA_SYMBOL(cuLinkAddData)
PACKJIT_CUDA_SYMBOL(cuLinkComplete)
PACKJIT_CUDA_SYMBOL(cuLinkDestroy)
PACKJIT_CUDA_SYMBOL(cuModuleLoadData)
PACKJIT_CUDA_SYMBOL(cuModuleGetFunction)
PACKJIT_CUDA_SYMBOL(cuModuleUnload)
PACKJIT_CUDA_SYMBOL(cuFuncGetAttribute)
PACKJIT_CUDA_SYMBOL(cuLaunchKernel)
PACKJIT_CUDA_SYMBOL(cuStreamCreate)
PACKJIT_CUDA_SYMBOL(cuStreamDestroy)
PACKJIT_CUDA_SYMBOL(cuStreamSynchronize)
PACKJIT_CUDA_SYMBOL(cuMemAlloc)
PACKJIT_CUDA_SYMBOL(cuMemFree)
PACKJIT_CUDA_SYMBOL(cuMemcpyHtoD)
PACKJIT_CUDA_SYMBOL(cuMemcpyDtoH)
// The op library's copy of a result out of an upper-bound buffer
// (ops/src/cuda/owned_prefix.cpp), and its check that a stream is not being
// captured before it allocates a workspace.
PACKJIT_CUDA_SYMBOL(cuMemcpyDtoDAsync)
PACKJIT_CUDA_SYMBOL(cuStreamIsCapturing)
// get_unpad_data's mailbox: mapped pinned memory the scan posts its summary
// to, and a stream query while the host waits for it.
PACKJIT_CUDA_SYMBOL(cuMemHostAlloc)
PACKJIT_CUDA_SYMBOL(cuMemHostGetDevicePointer)
PACKJIT_CUDA_SYMBOL(cuMemFreeHost)
PACKJIT_CUDA_SYMBOL(cuStreamQuery)
// packing_metadata's strict checks, copied into the mailbox's side words.
PACKJIT_CUDA_SYMBOL(cuMemcpyDtoHAsync)
// The background compile thread's capture mode (tiered specialization).
PACKJIT_CUDA_SYMBOL(cuThreadExchangeStreamCaptureMode)
