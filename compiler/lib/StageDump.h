// Writes a compile's stages as <dir>/<kernel>-<hash>.<stage> files.
#pragma once

#include "packjit/compiler/compiler.h"

#include <string>

namespace packjit::pipeline {

// The directory PACKJIT_DUMP names, or empty.
std::string dumpDirFromEnvironment();
// Creates `dir` if needed; throws packjit::Error when a file can't be written.
void writeStageDumps(const std::string &dir, const std::string &fileStem,
                     const compiler::CompileResult &result);

} // namespace packjit::pipeline
