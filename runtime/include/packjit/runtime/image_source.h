// Finds the image (PTX, maybe cubin) of a KernelSpec without touching a GPU:
// AOT bundles first, then the disk cache, then the compile function (one
// process at a time per key, through the disk cache's lock file).
#pragma once

#include "packjit/core/kernel_spec.h"
#include "packjit/runtime/bundle.h"
#include "packjit/runtime/disk_cache.h"

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

namespace packjit::runtime {

// Turns a spec into PTX, given the text of its template (its contract's:
// an embedded kernel's or one read with KernelContract::fromText). The
// default is the compiler library; tests inject their own.
using CompileFunction = std::function<KernelImage(
    const KernelSpec &spec, std::string_view templateText)>;

enum class ImageOrigin { Bundle, Disk, Compiled };
std::string_view
imageOriginName(ImageOrigin origin); // "aot", "disk", "compiled"

struct ResolvedImage {
  KernelImage image;
  ImageOrigin origin;
};

class ImageSource {
public:
  // An empty `compile` means compileWithCompilerLibrary.
  ImageSource(CacheSettings settings, CompileFunction compile);

  // Throws packjit::Error when the file is not a usable bundle. Thread-safe.
  void addBundle(const std::string &path);
  void addBundle(Bundle bundle);

  // The image for `spec`, compiled from `templateText` (the template the
  // spec's hash was taken of) when no bundle or cache entry has it.
  // `cubinTarget` is the target of the device it is for: a bundle entry
  // without a cubin this driver made (none, or ptxas's) borrows the disk
  // cache's when it has one, else keeps its own. Throws packjit::Error
  // naming the spec when it is in no bundle, not in the cache and cannot be
  // compiled.
  ResolvedImage resolve(const KernelSpec &spec, std::string_view templateText,
                        const std::string &cubinTarget);
  // The image from a bundle or the disk cache; nullopt where only the
  // compiler could make it (nothing is compiled).
  std::optional<ResolvedImage>
  findWithoutCompiling(const KernelSpec &spec, const std::string &cubinTarget);

  DiskCache &disk() { return disk_; }

  struct Counters {
    std::atomic<uint64_t> bundleHits{0}, diskHits{0}, compiles{0};
  };
  const Counters &counters() const { return counters_; }

private:
  KernelImage compile(const KernelSpec &spec, std::string_view templateText);
  std::optional<ResolvedImage> findInBundles(const KernelSpec &spec,
                                             const std::string &cubinTarget);
  std::string whereItWasLookedFor() const;

  DiskCache disk_;
  CompileFunction compile_;
  mutable std::shared_mutex bundlesMutex_;
  std::vector<std::shared_ptr<const Bundle>> bundles_;
  Counters counters_;
};

} // namespace packjit::runtime
