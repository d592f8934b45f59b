// Writes each stage of a compile as <dir>/<kernel>-<hash>.<stage> when it is
// produced, so a failed compile leaves the stages before the failure.
#pragma once

#include <string>
#include <string_view>

namespace packjit::pipeline {

// The directory PACKJIT_DUMP names, or empty.
std::string dumpDirFromEnvironment();
// Creates `dir` if needed; throws packjit::Error when it can't.
void createDumpDir(const std::string &dir);
// Removes a previous compile's dump of `stage` (a failed compile must not
// leave another compile's later stages beside its own).
void removeStageDump(const std::string &dir, const std::string &fileStem,
                     std::string_view stage);
// Throws packjit::Error when the file can't be written.
void writeStageDump(const std::string &dir, const std::string &fileStem,
                    std::string_view stage, const std::string &text);

} // namespace packjit::pipeline
