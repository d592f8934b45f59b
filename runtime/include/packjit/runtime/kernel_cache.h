// The in-memory kernel cache: KernelSpec x device -> a loaded kernel, in
// front of the image source (AOT bundles, disk cache, compiler). Each key is
// loaded exactly once however many threads ask at the same time; a failed
// load is not remembered, so the next call tries again.
#pragma once

#include "packjit/core/kernel_spec.h"
#include "packjit/runtime/image_source.h"
#include "packjit/runtime/module_loader.h"

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <unordered_map>

namespace packjit::runtime {

// A kernel ready to launch. Lives as long as its KernelCache.
struct Kernel {
  KernelSpec spec;
  int device = 0;
  CUcontext context = nullptr;
  CUmodule module = nullptr;
  CUfunction function = nullptr;
  ImageOrigin origin = ImageOrigin::Compiled; // where its image came from
  bool cubinReused = false; // the driver's PTX JIT was skipped
};

struct KernelCacheOptions {
  CacheSettings settings = cacheSettingsFromEnvironment();
  std::vector<std::string> bundlePaths = aotBundlePathsFromEnvironment();
  CompileFunction compile;              // empty: the compiler library
  std::shared_ptr<ModuleLoader> loader; // null: the CUDA driver
};

class KernelCache {
public:
  explicit KernelCache(KernelCacheOptions options = {});
  ~KernelCache();

  // The loaded kernel for `spec` on `device`: from memory, else from a
  // bundle, the disk cache or the compiler. Hashes the canonical text; hot
  // paths should use KernelFamily, which does not.
  const Kernel &get(const KernelSpec &spec, int device);
  // The same with the spec's hash computed by the caller (spec.hash()).
  const Kernel &get(const KernelSpec &spec, const Hash128 &specHash,
                    int device);

  void addBundle(const std::string &path) { images_.addBundle(path); }
  ImageSource &images() { return images_; }
  ModuleLoader &loader() { return *loader_; }

  struct Stats {
    uint64_t memoryMisses, bundleHits, diskHits, compiles, cubinsReused,
        cubinsMade;
  };
  Stats stats() const;

private:
  struct Slot;
  struct SlotKey {
    Hash128 hash;
    int device;
    friend bool operator==(const SlotKey &, const SlotKey &) = default;
  };
  struct SlotKeyHash {
    size_t operator()(const SlotKey &key) const {
      return key.hash.low ^ (key.hash.high * 31) ^
             static_cast<size_t>(key.device);
    }
  };
  const Kernel &load(Slot &slot, const KernelSpec &spec, int device);

  ImageSource images_;
  std::shared_ptr<ModuleLoader> loader_;
  std::shared_mutex slotsMutex_;
  std::unordered_map<SlotKey, std::unique_ptr<Slot>, SlotKeyHash> slots_;
  std::atomic<uint64_t> memoryMisses_{0}, cubinsReused_{0}, cubinsMade_{0};
};

// The process's cache, configured from the environment on first use
// (PACKJIT_CACHE*, PACKJIT_AOT).
KernelCache &defaultKernelCache();

// The hot path for one kernel template: a lookup from (device, dtypes,
// constexpr values) that builds no strings and hashes a few words, so a hit
// costs tens of nanoseconds. Ops keep one as a static:
//
//   static KernelFamily scan("mask_scan", {"BLOCK", "S"});
//   const Kernel &k = scan.get(device, {{DType::Int64}}, {{256, seqLen}});
class KernelFamily {
public:
  static constexpr size_t kMaxDTypes = 8;
  static constexpr size_t kMaxConstexprs = 16;

  // `constexprNames` in the order get() receives their values. An empty
  // `templateHash` means the embedded template's (looked up on first miss).
  KernelFamily(std::string kernel, std::vector<std::string> constexprNames,
               std::string templateHash = "", KernelCache *cache = nullptr);

  const Kernel &get(int device, std::span<const DType> dtypes,
                    std::span<const int64_t> constexprValues);
  // The spec get() would load, for logs and error messages.
  KernelSpec spec(int device, std::span<const DType> dtypes,
                  std::span<const int64_t> constexprValues);

private:
  struct Key {
    std::array<int64_t, 2 + kMaxConstexprs> words{};
    friend bool operator==(const Key &, const Key &) = default;
  };
  struct KeyHash {
    size_t operator()(const Key &key) const;
  };
  Key makeKey(int device, std::span<const DType> dtypes,
              std::span<const int64_t> constexprValues) const;
  KernelCache &cache();

  std::string kernel_;
  std::vector<std::string> constexprNames_;
  std::string templateHash_;
  KernelCache *cache_;
  std::shared_mutex mutex_;
  std::unordered_map<Key, const Kernel *, KeyHash> kernels_;
};

} // namespace packjit::runtime
