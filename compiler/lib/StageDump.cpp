#include "StageDump.h"

#include "packjit/core/error.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace packjit::pipeline {

std::string dumpDirFromEnvironment() {
  const char *dir = std::getenv("PACKJIT_DUMP");
  return dir ? dir : "";
}

void writeStageDumps(const std::string &dir, const std::string &fileStem,
                     const compiler::CompileResult &result) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    throw Error("PACKJIT_DUMP: cannot create '" + dir + "': " + ec.message());
  for (compiler::Stage stage : compiler::kAllStages) {
    std::filesystem::path path =
        std::filesystem::path(dir) /
        (fileStem + "." + std::string(compiler::stageName(stage)));
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << result.stage(stage);
    if (!out)
      throw Error("PACKJIT_DUMP: cannot write '" + path.string() + "'");
  }
}

} // namespace packjit::pipeline
