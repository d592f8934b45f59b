// The in-memory kernel cache: KernelSpec x device -> a loaded kernel, in
// front of the image source (AOT bundles, disk cache, compiler). Each key is
// loaded exactly once however many threads ask at the same time; a failed
// load is not remembered, so the next call tries again. KernelFamily is the
// ops' lookup in front of it, with tiered specialization (getTiered).
#pragma once

#include "packjit/core/kernel_contract.h"
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
  // Its template's run-time parameters, in order: what launch() checks.
  std::vector<KernelParam> params;
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
  // KernelFamily::getTiered compiles in the background (PACKJIT_TIERED).
  bool tiered = tieredSpecializationFromEnvironment();
};

// A kernel loading on the background thread (KernelCache::loadInBackground):
// Loading, then Ready (kernel() is set) or Failed, for good.
class PendingKernel {
public:
  enum class State { Loading, Ready, Failed };
  State state() const { return state_.load(std::memory_order_acquire); }
  const Kernel *kernel() const { return kernel_; } // once Ready
  void setReady(const Kernel &kernel) {
    kernel_ = &kernel;
    state_.store(State::Ready, std::memory_order_release);
  }
  void setFailed() { state_.store(State::Failed, std::memory_order_release); }

private:
  std::atomic<State> state_{State::Loading};
  const Kernel *kernel_ = nullptr;
};

class KernelCache {
public:
  explicit KernelCache(KernelCacheOptions options = {});
  // Drops its queued background loads and waits for a running one.
  ~KernelCache();

  // The loaded kernel for `spec` (a specialization of `contract`, which
  // gives the kernel its parameters) on `device`: from memory, else from a
  // bundle, the disk cache or the compiler. Hashes the canonical text; hot
  // paths should use KernelFamily, which does not.
  const Kernel &get(const KernelContract &contract, const KernelSpec &spec,
                    int device);
  // The same with the spec's hash computed by the caller (spec.hash()).
  const Kernel &get(const KernelContract &contract, const KernelSpec &spec,
                    const Hash128 &specHash, int device);
  // The kernel when it is in memory or loads without compiling (an AOT
  // bundle, the disk cache); null when only the compiler could make it, or
  // while another thread is loading it (never waits for a compile).
  const Kernel *getWithoutCompiling(const KernelContract &contract,
                                    const KernelSpec &spec, int device);
  // get() on the background thread (background_compiles.h); `pending`
  // learns the kernel, or the failure, which is logged. Compiled images go
  // to the disk cache as get()'s do.
  void loadInBackground(KernelContract contract, KernelSpec spec, int device,
                        std::shared_ptr<PendingKernel> pending);
  // Whether KernelFamily::getTiered tiers (KernelCacheOptions::tiered).
  bool tiered() const { return tiered_; }

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
  Slot &slot(const Hash128 &specHash, int device);
  // Loads under the slot's lock; null when `mayCompile` is false and no
  // bundle or cache entry has the image.
  const Kernel *load(Slot &slot, const KernelContract &contract,
                     const KernelSpec &spec, int device, bool mayCompile);

  ImageSource images_;
  std::shared_ptr<ModuleLoader> loader_;
  bool tiered_;
  std::shared_mutex slotsMutex_;
  std::unordered_map<SlotKey, std::unique_ptr<Slot>, SlotKeyHash> slots_;
  std::atomic<uint64_t> memoryMisses_{0}, cubinsReused_{0}, cubinsMade_{0};
};

// The process's cache, configured from the environment on first use
// (PACKJIT_CACHE*, PACKJIT_AOT).
KernelCache &defaultKernelCache();

inline constexpr size_t kMaxFamilyConstexprs = 16;

// One constexpr of a KernelFamily's template, its name resolved once.
struct ConstexprSlot {
  uint8_t index = 0;
};

// The constexpr values of one specialization: the template's defaults
// (KernelFamily::defaults()), some set by slot.
class ConstexprValues {
public:
  ConstexprValues &set(ConstexprSlot slot, int64_t value) {
    values_[slot.index] = value;
    return *this;
  }
  int64_t operator[](ConstexprSlot slot) const { return values_[slot.index]; }
  friend bool operator==(const ConstexprValues &,
                         const ConstexprValues &) = default;

private:
  friend class KernelFamily;
  std::array<int64_t, kMaxFamilyConstexprs> values_{};
};

// The hot path for one kernel template: a lookup from (device, dtypes,
// constexpr values) that builds no strings and hashes a few words, so a hit
// costs tens of nanoseconds. The constexprs' names are resolved to slots
// once; a miss binds the values by name (KernelBinding), so a value the
// template's header forbids is refused with the binding's message. Ops keep
// the family and its slots as statics (a test in
// tests/runtime/kernel_cache_test.cpp runs the same calls):
//
//   static KernelFamily scan("mask_scan");
//   static const ConstexprSlot chunk = scan.slot("CHUNK");
//   const DType dtypes[] = {DType::Int64};
//   ConstexprValues values = scan.defaults();
//   values.set(chunk, 64);
//   const Kernel &k = scan.get(device, dtypes, values);
class KernelFamily {
public:
  static constexpr size_t kMaxDTypes = 8;

  // An embedded template's family.
  explicit KernelFamily(std::string_view kernel, KernelCache *cache = nullptr);
  // Any template's (a test's kernel, a template under development).
  explicit KernelFamily(KernelContract contract, KernelCache *cache = nullptr);

  // The slot of constexpr `name`; throws packjit::Error naming the
  // template's constexprs when it has none of that name.
  ConstexprSlot slot(std::string_view name) const;
  // Every constexpr at its declared default.
  const ConstexprValues &defaults() const { return defaults_; }
  const KernelContract &contract() const { return contract_; }

  const Kernel &get(int device, std::span<const DType> dtypes,
                    const ConstexprValues &values);
  // Tiered specialization (docs/runtime.md): the `specialized` kernel when
  // it is loaded, or loads without compiling (an AOT bundle, the disk
  // cache). Otherwise the `generic` one (loaded as get() loads it: from a
  // bundle or the cache, or compiled), while `specialized` compiles on the
  // background thread, queued once per key; a call after it is loaded gets
  // it. A failed background compile is logged and the generic kernel stays.
  // Hits cost what get()'s do. Without tiering (PACKJIT_TIERED=0,
  // KernelCacheOptions::tiered) or when both values are equal: get().
  const Kernel &getTiered(int device, std::span<const DType> dtypes,
                          const ConstexprValues &specialized,
                          const ConstexprValues &generic);
  // The spec get() would load, for logs and error messages; throws what
  // get() throws for a specialization the header forbids.
  KernelSpec spec(int device, std::span<const DType> dtypes,
                  const ConstexprValues &values);

private:
  struct Key {
    std::array<int64_t, 2 + kMaxFamilyConstexprs> words{};
    friend bool operator==(const Key &, const Key &) = default;
  };
  struct KeyHash {
    size_t operator()(const Key &key) const;
  };
  // A key's kernel; while `pending` loads in the background, `kernel` is
  // the generic one that stands in for it.
  struct Entry {
    const Kernel *kernel = nullptr;
    std::shared_ptr<PendingKernel> pending;
  };
  Key makeKey(int device, std::span<const DType> dtypes,
              const ConstexprValues &values) const;
  KernelCache &cache();
  const Kernel &firstTieredCall(const Key &key, int device,
                                std::span<const DType> dtypes,
                                const ConstexprValues &specialized,
                                const ConstexprValues &generic);

  KernelContract contract_;
  ConstexprValues defaults_;
  KernelCache *cache_;
  std::shared_mutex mutex_;
  std::unordered_map<Key, Entry, KeyHash> kernels_;
};

} // namespace packjit::runtime
