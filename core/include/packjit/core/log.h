// PACKJIT_LOG=warn|info|debug: the runtime's messages on stderr. Default: warn.
#pragma once

#include <string_view>

namespace packjit::runtime {

enum class LogLevel { Off = 0, Warn = 1, Info = 2, Debug = 3 };

// The level from PACKJIT_LOG, read once.
LogLevel logLevel();
inline bool logEnabled(LogLevel level) { return level <= logLevel(); }
// Writes "packjit[<level>]: <message>" as one line to stderr.
void logMessage(LogLevel level, std::string_view message);

} // namespace packjit::runtime

// Builds the message only when it will be printed.
#define PACKJIT_LOG(level, message)                                            \
  do {                                                                         \
    if (::packjit::runtime::logEnabled(::packjit::runtime::LogLevel::level))   \
      ::packjit::runtime::logMessage(::packjit::runtime::LogLevel::level,      \
                                     (message));                               \
  } while (false)
