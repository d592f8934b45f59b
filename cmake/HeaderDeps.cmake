# The header-only dependencies: their Debian CMake packages where installed,
# else their headers from PACKJIT_EXTRA_INCLUDE_DIRS (the GPU host has no
# package manager; scripts/gpu-host carries the headers there).
function(packjit_header_dependency target package header)
  if(NOT TARGET ${target})
    find_package(${package} QUIET)
  endif()
  if(NOT TARGET ${target})
    find_path(${package}_HEADER_DIR ${header} HINTS ${PACKJIT_EXTRA_INCLUDE_DIRS})
    if(NOT ${package}_HEADER_DIR)
      message(FATAL_ERROR "${package} not found: install it (scripts/install-deps.sh) "
                          "or put ${header} under PACKJIT_EXTRA_INCLUDE_DIRS")
    endif()
    add_library(${target} INTERFACE IMPORTED GLOBAL)
    target_include_directories(${target} SYSTEM INTERFACE ${${package}_HEADER_DIR})
  endif()
endfunction()

packjit_header_dependency(CLI11::CLI11 CLI11 CLI/CLI.hpp)
packjit_header_dependency(nlohmann_json::nlohmann_json nlohmann_json nlohmann/json.hpp)
if(PACKJIT_BUILD_TESTS)
  packjit_header_dependency(Catch2::Catch2 Catch2 catch2/catch.hpp)
endif()
