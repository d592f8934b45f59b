# The header-only dependencies: their Debian CMake packages where installed,
# else their headers from PACKJIT_EXTRA_INCLUDE_DIRS (the GPU host has no
# package manager; scripts/gpu-host carries the headers there).
# An optional fourth argument is the major version to accept: a package of
# another major version (Catch2 v3 on a GPU host) counts as not installed.
function(packjit_header_dependency target package header)
  if(NOT TARGET ${target})
    find_package(${package} ${ARGN} QUIET)
    set(${package}_FOUND ${${package}_FOUND} PARENT_SCOPE)
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
  packjit_header_dependency(Catch2::Catch2 Catch2 catch2/catch.hpp 2)
  # catch_discover_tests beside Catch2 v2's package config, when that is
  # what provided the target.
  if(Catch2_FOUND)
    set(PACKJIT_CATCH2_CMAKE_DIR ${Catch2_DIR} CACHE INTERNAL "")
  else()
    unset(PACKJIT_CATCH2_CMAKE_DIR CACHE)
  endif()
endif()
