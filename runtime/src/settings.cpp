#include "packjit/runtime/settings.h"

#include "packjit/core/log.h"

#include "packjit/core/split_list.h"

#include <cstdlib>
#include <pwd.h>
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
    char *end = nullptr;
    unsigned long long megabytes = std::strtoull(cap.c_str(), &end, 10);
    if (end && *end == '\0' && megabytes > 0)
      settings.maxBytes = static_cast<uint64_t>(megabytes) << 20;
    else
      PACKJIT_LOG(Warn, "ignoring PACKJIT_CACHE_MAX_MB='" + cap +
                            "': not a positive number of megabytes");
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

} // namespace packjit::runtime
