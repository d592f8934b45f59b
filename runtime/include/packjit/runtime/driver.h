// The CUDA driver, loaded at run time with dlopen("libcuda.so.1"). Nothing
// links libcuda: without a driver the library loads and only GPU calls fail,
// with a packjit::Error that says there is no CUDA driver and why.
#pragma once

#include <cuda.h>

#include <string>

namespace packjit::runtime {

// One function pointer per entry point of cuda_symbol_table.h.
struct CudaDriver {
#define PACKJIT_CUDA_SYMBOL(name) decltype(&::name) name = nullptr;
#include "packjit/runtime/cuda_symbol_table.h"
#undef PACKJIT_CUDA_SYMBOL
};

// The loaded and cuInit'ed driver. Throws packjit::Error ("no CUDA driver:
// ...", with dlerror's text) when libcuda.so.1 cannot be loaded, lacks an
// entry point, or cuInit fails. Thread-safe; loads once.
const CudaDriver &cudaDriver();
// Whether cudaDriver() succeeds; when not, `why` (if given) gets its message.
bool cudaDriverAvailable(std::string *why = nullptr);

// Throws packjit::Error naming the call, the CUresult's name, code and text,
// and where in packjit it happened.
[[noreturn]] void throwCudaError(CUresult result, const char *call,
                                 const char *file, int line);

} // namespace packjit::runtime

// Checks one driver call: PACKJIT_CUDA_CHECK(driver.cuInit(0)).
#define PACKJIT_CUDA_CHECK(call)                                               \
  do {                                                                         \
    CUresult packjitCudaResult_ = (call);                                      \
    if (packjitCudaResult_ != CUDA_SUCCESS)                                    \
      ::packjit::runtime::throwCudaError(packjitCudaResult_, #call, __FILE__,  \
                                         __LINE__);                            \
  } while (false)
