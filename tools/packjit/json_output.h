// The benchmarks' --json files. Opened before the benchmark runs, so a path
// that cannot be written fails at once, and written whole at the end or an
// error: never exit 0 with no file.
#pragma once

#include "packjit/core/error.h"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>

namespace packjit::cli {

class JsonOutput {
public:
  // No file when `path` is empty.
  explicit JsonOutput(std::string path) : path_(std::move(path)) {
    if (path_.empty())
      return;
    out_.open(path_, std::ios::trunc);
    if (!out_)
      throw Error("cannot write " + path_ + ": " + std::strerror(errno));
  }

  void write(const nlohmann::json &value, int indent = 2) {
    if (path_.empty())
      return;
    out_ << value.dump(indent) << "\n";
    out_.flush();
    if (!out_)
      throw Error("cannot write " + path_ + ": " + std::strerror(errno));
  }

private:
  std::string path_;
  std::ofstream out_;
};

} // namespace packjit::cli
