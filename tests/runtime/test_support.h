// Helpers shared by the runtime tests.
#pragma once

#include "packjit/core/kernel_spec.h"
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

// A spec for a made-up kernel (tests need no embedded template).
KernelSpec testSpec(const std::string &kernel = "test_kernel",
                    int64_t size = 4096, const std::string &arch = "sm_90");
// A deterministic image standing for what the compiler makes of `spec`.
KernelImage fakeImage(const KernelSpec &spec, size_t ptxBytes = 256);
CacheSettings settingsFor(const std::string &dir, uint64_t maxBytes = 1 << 30);
void writeFile(const std::string &path, const std::string &bytes);
bool fileExists(const std::string &path);

} // namespace packjit::runtime::testing
