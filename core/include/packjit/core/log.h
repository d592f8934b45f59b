// PACKJIT_LOG=off|warn|info|debug: packjit's messages on stderr (runtime,
// compiler). Default: warn.
#pragma once

#include <string_view>

namespace packjit {

enum class LogLevel { Off = 0, Warn = 1, Info = 2, Debug = 3 };

// The level from PACKJIT_LOG, read once.
LogLevel logLevel();
inline bool logEnabled(LogLevel level) { return level <= logLevel(); }
// Writes "packjit[<level>]: <message>" as one line to stderr.
void logMessage(LogLevel level, std::string_view message);

} // namespace packjit

// Builds the message only when it will be printed.
#define PACKJIT_LOG(level, message)                                            \
  do {                                                                         \
    if (::packjit::logEnabled(::packjit::LogLevel::level))                     \
      ::packjit::logMessage(::packjit::LogLevel::level, (message));            \
  } while (false)
