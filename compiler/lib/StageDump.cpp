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

void createDumpDir(const std::string &dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    throw Error("PACKJIT_DUMP: cannot create '" + dir + "': " + ec.message());
}

void removeStageDump(const std::string &dir, const std::string &fileStem,
                     std::string_view stage) {
  std::error_code ignored; // absent is the usual case
  std::filesystem::remove(std::filesystem::path(dir) /
                              (fileStem + "." + std::string(stage)),
                          ignored);
}

void writeStageDump(const std::string &dir, const std::string &fileStem,
                    std::string_view stage, const std::string &text) {
  std::filesystem::path path =
      std::filesystem::path(dir) / (fileStem + "." + std::string(stage));
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out)
    throw Error("PACKJIT_DUMP: cannot write '" + path.string() + "'");
}

} // namespace packjit::pipeline
