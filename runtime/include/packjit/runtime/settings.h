// The runtime's environment variables, read in one place.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace packjit::runtime {

struct CacheSettings {
  bool diskEnabled = true; // PACKJIT_CACHE=off disables the disk cache
  std::string
      directory; // PACKJIT_CACHE_DIR, $XDG_CACHE_HOME/packjit, ~/.cache/packjit
  uint64_t maxBytes = 0; // PACKJIT_CACHE_MAX_MB (default 1024 MB)
  // How long a process that misses a key waits for another one compiling
  // it (the key's lock file) before compiling it itself: a holder that is
  // stopped or hung must not stall everyone else for good.
  std::chrono::milliseconds lockWait = std::chrono::seconds(60);
};

inline constexpr uint64_t kDefaultCacheMaxMegabytes = 1024;

// Reads the variables now (tests change them between calls).
CacheSettings cacheSettingsFromEnvironment();
// PACKJIT_AOT: bundle paths separated by ':'.
std::vector<std::string> aotBundlePathsFromEnvironment();
// PACKJIT_TIERED: tiered specialization (KernelFamily::getTiered) on unless
// it is 0, off or false.
bool tieredSpecializationFromEnvironment();
// PACKJIT_CHECK: a debug mode in which the CUDA gathers and scatters check
// their indices on the device and the ops raise as the CPU does (a sync per
// call); on for 1, on or true, off by default. Read at each call.
bool deviceChecksFromEnvironment();

} // namespace packjit::runtime
