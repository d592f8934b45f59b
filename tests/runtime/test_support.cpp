#include "test_support.h"

#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <iterator>
#include <stdexcept>
#include <unistd.h>

namespace packjit::runtime::testing {

TempDir::TempDir() {
  const char *base = std::getenv("TMPDIR");
  std::string pattern = std::string(base && *base ? base : "/tmp") +
                        "/packjit-runtime-test-XXXXXX";
  if (!mkdtemp(pattern.data()))
    throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

KernelContract testContract(const std::string &kernel) {
  return KernelContract::fromText(kernel, R"(// a made-up template
// @dtype T: i64 i32
// @constexpr BLOCK = 256 in 32..1024 multiple_of 32
// @constexpr S = 0 in 0..1048576
gpu.module @packjit {
  gpu.func @kernel(%data: !llvm.ptr<1>, %n: i32) kernel {
    gpu.return
  }
}
)");
}

KernelSpec testSpec(const std::string &kernel, int64_t size,
                    const std::string &arch) {
  return KernelBinding(testContract(kernel))
      .dtype("T", DType::Int64)
      .set("S", size)
      .arch(arch)
      .spec();
}

Kernel unloadedKernel(const std::string &kernel) {
  Kernel loaded;
  loaded.spec = testSpec(kernel);
  loaded.params = testContract(kernel).params().params;
  return loaded;
}

KernelImage fakeImage(const KernelSpec &spec, size_t ptxBytes) {
  KernelImage image;
  image.ptx = "// PTX of " + spec.canonical() + "\n";
  while (image.ptx.size() < ptxBytes)
    image.ptx += static_cast<char>('a' + image.ptx.size() % 26);
  image.ptx.resize(ptxBytes);
  image.entryName = spec.kernel + "_entry";
  return image;
}

CacheSettings settingsFor(const std::string &dir, uint64_t maxBytes) {
  CacheSettings settings;
  settings.diskEnabled = true;
  settings.directory = dir;
  settings.maxBytes = maxBytes;
  return settings;
}

void writeFile(const std::string &path, const std::string &bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw std::runtime_error("cannot read " + path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

bool fileExists(const std::string &path) {
  return std::filesystem::exists(path);
}

CapturedStderr::CapturedStderr(const std::string &path) : path_(path) {
  std::fflush(stderr);
  saved_ = ::dup(2);
  FILE *file = std::fopen(path.c_str(), "w");
  ::dup2(::fileno(file), 2);
  std::fclose(file);
}

std::string CapturedStderr::text() {
  restore();
  std::ifstream in(path_);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

void CapturedStderr::restore() {
  if (saved_ < 0)
    return;
  std::fflush(stderr);
  ::dup2(saved_, 2);
  ::close(saved_);
  saved_ = -1;
}

size_t countOccurrences(const std::string &text, const std::string &needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != std::string::npos;
       at = text.find(needle, at + 1))
    ++count;
  return count;
}

} // namespace packjit::runtime::testing
