#include "packjit/core/log.h"

#include <cstdio>
#include <cstdlib>
#include <string>

namespace packjit {
namespace {

LogLevel levelFromEnvironment() {
  const char *value = std::getenv("PACKJIT_LOG");
  if (!value)
    return LogLevel::Warn;
  std::string_view text(value);
  if (text == "off" || text == "none" || text == "0")
    return LogLevel::Off;
  if (text == "info")
    return LogLevel::Info;
  if (text == "debug")
    return LogLevel::Debug;
  return LogLevel::Warn;
}

std::string_view levelName(LogLevel level) {
  switch (level) {
  case LogLevel::Warn:
    return "warn";
  case LogLevel::Info:
    return "info";
  case LogLevel::Debug:
    return "debug";
  default:
    return "off";
  }
}

} // namespace

LogLevel logLevel() {
  static const LogLevel level = levelFromEnvironment();
  return level;
}

void logMessage(LogLevel level, std::string_view message) {
  // One fprintf per line keeps lines from several threads whole.
  std::string line = "packjit[" + std::string(levelName(level)) +
                     "]: " + std::string(message) + "\n";
  std::fputs(line.c_str(), stderr);
}

} // namespace packjit
