# LibTorch as installed in a Python environment (pip's torch wheels), found
# the way torch.utils.cpp_extension builds extensions: the interpreter names
# its headers, libraries and C++ ABI. Torch's own CMake package
# (TorchConfig.cmake) is not used for these: with a CUDA wheel it asks for
# nvcc and a GPU (or TORCH_CUDA_ARCH_LIST) although packjit compiles no CUDA
# C++, and it looks up libc10.so on the default paths too, so on a machine
# that also has Debian's LibTorch it links both torches into one library.
#
# packjit_torch_from_python(PYTHON) defines what find_package(Torch) would:
# the imported targets `torch` and, for a CUDA build of torch, `c10_cuda`
# (c10's CUDA library and the CUDA headers: the toolkit's when
# PACKJIT_CUDA_INCLUDE_DIR has them, else the ones pip's nvidia-* wheels
# ship), and Torch_FOUND, Torch_VERSION, TORCH_INSTALL_PREFIX,
# TORCH_LIBRARIES.
function(packjit_torch_from_python python)
  execute_process(
    COMMAND "${python}" -c [=[
import os, torch
from torch.utils.cpp_extension import include_paths
root = os.path.dirname(torch.__file__)
cuda_includes, cudart = [], []
if torch.version.cuda:
    import importlib.util
    spec = importlib.util.find_spec("nvidia")
    for base in (spec.submodule_search_locations if spec else []):
        for entry in sorted(os.listdir(base)):
            inc = os.path.join(base, entry, "include")
            if os.path.isfile(os.path.join(inc, "cuda_runtime_api.h")):
                cuda_includes.append(inc)
            lib = os.path.join(base, entry, "lib")
            if os.path.isdir(lib):
                cudart += sorted(os.path.join(lib, f) for f in os.listdir(lib)
                                 if f.startswith("libcudart.so"))
print(torch.__version__)
print(root)
print(",".join(include_paths()))
print(int(torch._C._GLIBCXX_USE_CXX11_ABI))
print(torch.version.cuda or "")
print(",".join(cuda_includes))
print(cudart[0] if cudart else "")
print("end")
]=]
    OUTPUT_VARIABLE probe ERROR_VARIABLE probe_error
    RESULT_VARIABLE probe_status OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT probe_status EQUAL 0)
    message(FATAL_ERROR "packjit: ${python} cannot import torch, which the op "
      "library is built against:\n${probe_error}\nWith pip, install into an "
      "environment that has torch, without build isolation: "
      "pip install --no-build-isolation .")
  endif()
  # One value a line (lists comma-separated; "end" keeps empty last values).
  string(REPLACE "\n" ";" lines "${probe}")
  list(GET lines 0 version)
  list(GET lines 1 root)
  list(GET lines 2 includes)
  list(GET lines 3 abi)
  list(GET lines 4 cuda_version)
  list(GET lines 5 cuda_includes)
  list(GET lines 6 probe_cudart)
  string(REPLACE "," ";" includes "${includes}")
  string(REPLACE "," ";" cuda_includes "${cuda_includes}")

  set(libdir "${root}/lib")
  set(libs "${libdir}/libtorch.so" "${libdir}/libtorch_cpu.so" "${libdir}/libc10.so")
  foreach(lib IN LISTS libs)
    if(NOT EXISTS "${lib}")
      message(FATAL_ERROR "packjit: torch ${version} at ${root} has no ${lib}")
    endif()
  endforeach()
  add_library(torch INTERFACE IMPORTED GLOBAL)
  target_include_directories(torch SYSTEM INTERFACE ${includes})
  target_link_libraries(torch INTERFACE ${libs})
  target_compile_definitions(torch INTERFACE _GLIBCXX_USE_CXX11_ABI=${abi})

  if(cuda_version AND EXISTS "${libdir}/libc10_cuda.so")
    if(EXISTS "${PACKJIT_CUDA_INCLUDE_DIR}/cuda_runtime_api.h")
      set(cuda_includes "${PACKJIT_CUDA_INCLUDE_DIR}")
    endif()
    if(cuda_includes)
      # ATen's CUDA headers include cuda_runtime.h: on `torch`, as
      # TorchConfig.cmake's torch target has them.
      target_include_directories(torch SYSTEM INTERFACE ${cuda_includes})
      # c10_cuda: c10's and ATen's CUDA libraries (at::cuda::CUDAGraph, ...)
      # and the CUDA runtime (the GPU tests call it): the one torch loads
      # (pip's nvidia-* wheel), else the toolkit's.
      add_library(c10_cuda INTERFACE IMPORTED GLOBAL)
      set(cudart "${probe_cudart}")
      if(NOT cudart)
        foreach(dir IN LISTS cuda_includes)
          foreach(candidate "${dir}/../lib64/libcudart.so" "${dir}/../lib/libcudart.so")
            if(NOT cudart AND EXISTS "${candidate}")
              get_filename_component(cudart "${candidate}" REALPATH)
            endif()
          endforeach()
        endforeach()
      endif()
      target_link_libraries(c10_cuda INTERFACE "${libdir}/libc10_cuda.so"
                            "${libdir}/libtorch_cuda.so" ${cudart} torch)
      # The runtime's cuda.h (types only) from the same place when the
      # toolkit is absent.
      if(NOT EXISTS "${PACKJIT_CUDA_INCLUDE_DIR}/cuda.h")
        list(GET cuda_includes 0 first)
        set(PACKJIT_CUDA_INCLUDE_DIR "${first}" CACHE PATH "" FORCE)
      endif()
    else()
      message(STATUS "packjit: torch ${version} has CUDA ${cuda_version} but no "
        "CUDA headers were found (a toolkit at PACKJIT_CUDA_INCLUDE_DIR, or "
        "pip's nvidia-* packages): the CUDA ops are not built")
    endif()
  endif()

  set(Torch_FOUND TRUE PARENT_SCOPE)
  set(Torch_VERSION "${version}" PARENT_SCOPE)
  set(TORCH_INSTALL_PREFIX "${root}" PARENT_SCOPE)
  set(TORCH_LIBRARIES torch PARENT_SCOPE)
endfunction()
