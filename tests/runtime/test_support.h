// Helpers shared by the runtime tests.
#pragma once

#include "packjit/core/kernel_contract.h"
#include "packjit/runtime/kernel_cache.h"
#include "packjit/runtime/kernel_image.h"
#include "packjit/runtime/settings.h"

#include <string>

namespace packjit::runtime::testing {

// A fresh directory under $TMPDIR, removed with its contents on destruction.
class TempDir {
public:
  TempDir();
  ~TempDir();
  const std::string &path() const { return path_; }

private:
  std::string path_;
};

// The contract of a made-up template (tests need no embedded one) named
// `kernel`: a dtype T (i64 or i32), constexprs BLOCK and S, and the
// parameters of add_one_ptx.h's kernel, (%data: pointer, %n: i32).
KernelContract testContract(const std::string &kernel = "test_kernel");
// Its specialization for S = `size` on `arch`.
KernelSpec testSpec(const std::string &kernel = "test_kernel",
                    int64_t size = 4096, const std::string &arch = "sm_90");
// A Kernel of testContract(kernel) as the cache makes it, never loaded.
Kernel unloadedKernel(const std::string &kernel = "add_one");
// A deterministic image standing for what the compiler makes of `spec`.
KernelImage fakeImage(const KernelSpec &spec, size_t ptxBytes = 256);
CacheSettings settingsFor(const std::string &dir, uint64_t maxBytes = 1 << 30);
void writeFile(const std::string &path, const std::string &bytes);
// The whole file; throws when it cannot be read.
std::string readFile(const std::string &path);
bool fileExists(const std::string &path);
size_t countOccurrences(const std::string &text, const std::string &needle);

// Redirects stderr (PACKJIT_LOG's stream) to the file at `path` for its
// lifetime, or until text() returns what was written.
class CapturedStderr {
public:
  explicit CapturedStderr(const std::string &path);
  ~CapturedStderr() { restore(); }
  std::string text();

private:
  void restore();
  std::string path_;
  int saved_ = -1;
};

} // namespace packjit::runtime::testing
