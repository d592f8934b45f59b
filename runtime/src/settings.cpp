#include "packjit/runtime/settings.h"

#include "packjit/core/log.h"

#include "packjit/core/split_list.h"

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <pwd.h>
#include <string>
#include <string_view>
#include <unistd.h>

namespace packjit::runtime {
namespace {

std::string environment(const char *name) {
  const char *value = std::getenv(name);
  return value ? value : "";
}

std::string homeDirectory() {
  std::string home = environment("HOME");
  if (!home.empty())
    return home;
  if (const passwd *entry = getpwuid(getuid()))
    return entry->pw_dir;
  return "/tmp";
}

// The largest cap whose byte count fits 64 bits.
constexpr uint64_t kMaxCacheMegabytes = UINT64_MAX >> 20;

// Digits only (strtoull would take "-5" as 2^64 - 5), at least 1, and a
// byte count that fits.
std::optional<uint64_t> parseMegabytes(const std::string &text) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  errno = 0;
  const unsigned long long value = std::strtoull(text.c_str(), nullptr, 10);
  if (errno == ERANGE || value == 0 || value > kMaxCacheMegabytes)
    return std::nullopt;
  return value;
}

} // namespace

CacheSettings cacheSettingsFromEnvironment() {
  CacheSettings settings;
  std::string mode = environment("PACKJIT_CACHE");
  settings.diskEnabled = !(mode == "off" || mode == "0" || mode == "false");
  if (std::string dir = environment("PACKJIT_CACHE_DIR"); !dir.empty())
    settings.directory = dir;
  else if (std::string xdg = environment("XDG_CACHE_HOME"); !xdg.empty())
    settings.directory = xdg + "/packjit";
  else
    settings.directory = homeDirectory() + "/.cache/packjit";
  settings.maxBytes = kDefaultCacheMaxMegabytes << 20;
  if (std::string cap = environment("PACKJIT_CACHE_MAX_MB"); !cap.empty()) {
    if (std::optional<uint64_t> megabytes = parseMegabytes(cap))
      settings.maxBytes = *megabytes << 20;
    else
      PACKJIT_LOG(Warn, "ignoring PACKJIT_CACHE_MAX_MB='" + cap +
                            "': not a number of megabytes in 1.." +
                            std::to_string(kMaxCacheMegabytes) +
                            "; the cap stays " +
                            std::to_string(kDefaultCacheMaxMegabytes) + " MB");
  }
  return settings;
}

std::vector<std::string> aotBundlePathsFromEnvironment() {
  return splitList(environment("PACKJIT_AOT"), ':');
}

bool tieredSpecializationFromEnvironment() {
  std::string mode = environment("PACKJIT_TIERED");
  if (mode.empty() || mode == "1" || mode == "on" || mode == "true")
    return true;
  if (mode == "0" || mode == "off" || mode == "false")
    return false;
  PACKJIT_LOG(Warn, "ignoring PACKJIT_TIERED='" + mode +
                        "': not 0/off/false or 1/on/true; tiering stays on");
  return true;
}

bool deviceChecksFromEnvironment() {
  const char *value = std::getenv("PACKJIT_CHECK");
  if (value == nullptr || *value == '\0')
    return false;
  const std::string_view mode = value;
  if (mode == "1" || mode == "on" || mode == "true")
    return true;
  if (mode != "0" && mode != "off" && mode != "false") {
    static std::once_flag warned; // read at every call: say it once
    std::call_once(warned, [&] {
      PACKJIT_LOG(Warn, "ignoring PACKJIT_CHECK='" + std::string(mode) +
                            "': not 0/off/false or 1/on/true; checks stay off");
    });
  }
  return false;
}

} // namespace packjit::runtime
