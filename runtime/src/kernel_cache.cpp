#include "packjit/runtime/kernel_cache.h"

#include "packjit/core/error.h"
#include "packjit/core/kernel_templates.h"
#include "packjit/core/log.h"
#include "packjit/core/version.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace packjit::runtime {

// One per (spec, device): its mutex makes the first caller load and the
// others wait; `kernel` is published once loaded.
struct KernelCache::Slot {
  std::mutex loadMutex;
  std::atomic<const Kernel *> ready{nullptr};
  std::unique_ptr<Kernel> kernel;
};

KernelCache::KernelCache(KernelCacheOptions options)
    : images_(std::move(options.settings), std::move(options.compile)),
      loader_(options.loader
                  ? std::move(options.loader)
                  : std::shared_ptr<ModuleLoader>(makeDriverModuleLoader())) {
  for (const std::string &path : options.bundlePaths)
    images_.addBundle(path);
}

// Modules stay loaded: kernels may still be running on a stream, and the
// process-wide cache dies at exit, when the driver may be gone already.
KernelCache::~KernelCache() = default;

const Kernel &KernelCache::get(const KernelSpec &spec, int device) {
  return get(spec, spec.hash(), device);
}

const Kernel &KernelCache::get(const KernelSpec &spec, const Hash128 &specHash,
                               int device) {
  SlotKey key{specHash, device};
  Slot *slot = nullptr;
  {
    std::shared_lock lock(slotsMutex_);
    auto it = slots_.find(key);
    if (it != slots_.end())
      slot = it->second.get();
  }
  if (!slot) {
    std::unique_lock lock(slotsMutex_);
    auto &owned = slots_[key];
    if (!owned)
      owned = std::make_unique<Slot>();
    slot = owned.get();
  }
  if (const Kernel *kernel = slot->ready.load(std::memory_order_acquire))
    return *kernel;
  return load(*slot, spec, device);
}

const Kernel &KernelCache::load(Slot &slot, const KernelSpec &spec,
                                int device) {
  std::lock_guard lock(slot.loadMutex);
  if (const Kernel *kernel = slot.ready.load(std::memory_order_acquire))
    return *kernel; // another thread loaded it while we waited
  memoryMisses_++;
  PACKJIT_LOG(Debug, "memory cache miss: " + spec.fileStem() + " on device " +
                         std::to_string(device));
  DeviceTarget target = loader_->target(device);
  std::string cubinTarget = cubinTargetFor(target.arch, target.driverVersion);
  ResolvedImage resolved = images_.resolve(spec, cubinTarget);
  bool madeCubin = false;
  LoadedModule loaded = loader_->load(device, spec, resolved.image, &madeCubin);
  if (madeCubin) {
    cubinsMade_++;
    // Next process loads the cubin and skips the driver's PTX JIT.
    images_.disk().store(spec, resolved.image);
  } else {
    cubinsReused_++;
  }
  auto kernel = std::make_unique<Kernel>();
  kernel->spec = spec;
  kernel->device = device;
  kernel->context = loaded.context;
  kernel->module = loaded.module;
  kernel->function = loaded.function;
  kernel->origin = resolved.origin;
  kernel->cubinReused = !madeCubin;
  slot.kernel = std::move(kernel);
  slot.ready.store(slot.kernel.get(), std::memory_order_release);
  return *slot.kernel;
}

KernelCache::Stats KernelCache::stats() const {
  const ImageSource::Counters &counters = images_.counters();
  return {memoryMisses_.load(),     counters.bundleHits.load(),
          counters.diskHits.load(), counters.compiles.load(),
          cubinsReused_.load(),     cubinsMade_.load()};
}

KernelCache &defaultKernelCache() {
  static KernelCache *cache = new KernelCache(); // never destroyed, see above
  return *cache;
}

KernelFamily::KernelFamily(std::string kernel,
                           std::vector<std::string> constexprNames,
                           std::string templateHash, KernelCache *cache)
    : kernel_(std::move(kernel)), constexprNames_(std::move(constexprNames)),
      templateHash_(std::move(templateHash)), cache_(cache) {
  if (constexprNames_.size() > kMaxConstexprs)
    throw Error("kernel '" + kernel_ + "' has more than " +
                std::to_string(kMaxConstexprs) + " constexprs");
}

size_t KernelFamily::KeyHash::operator()(const Key &key) const {
  return XXH3_64bits(key.words.data(), sizeof key.words);
}

KernelFamily::Key
KernelFamily::makeKey(int device, std::span<const DType> dtypes,
                      std::span<const int64_t> constexprValues) const {
  if (dtypes.size() > kMaxDTypes ||
      constexprValues.size() != constexprNames_.size())
    throw Error("kernel '" + kernel_ + "' takes " +
                std::to_string(constexprNames_.size()) +
                " constexpr values and at most " + std::to_string(kMaxDTypes) +
                " dtypes; got " + std::to_string(constexprValues.size()) +
                " and " + std::to_string(dtypes.size()));
  Key key;
  key.words[0] = static_cast<int64_t>(static_cast<uint32_t>(device)) |
                 (static_cast<int64_t>(dtypes.size()) << 32);
  uint64_t packed = 0;
  for (size_t i = 0; i < dtypes.size(); ++i)
    packed |= static_cast<uint64_t>(dtypes[i]) << (8 * i);
  key.words[1] = static_cast<int64_t>(packed);
  for (size_t i = 0; i < constexprValues.size(); ++i)
    key.words[2 + i] = constexprValues[i];
  return key;
}

KernelCache &KernelFamily::cache() {
  return cache_ ? *cache_ : defaultKernelCache();
}

KernelSpec KernelFamily::spec(int device, std::span<const DType> dtypes,
                              std::span<const int64_t> constexprValues) {
  DeviceTarget target = cache().loader().target(device);
  KernelSpec spec;
  spec.kernel = kernel_;
  spec.templateHash = templateHash_.empty()
                          ? templateHash(kernelTemplate(kernel_))
                          : templateHash_;
  spec.dtypes.assign(dtypes.begin(), dtypes.end());
  for (size_t i = 0; i < constexprValues.size(); ++i)
    spec.constexprs[constexprNames_[i]] = constexprValues[i];
  spec.arch = target.arch;
  spec.ptxVersion = target.ptxVersion;
  spec.compilerVersion = std::string(compilerVersion());
  return spec;
}

const Kernel &KernelFamily::get(int device, std::span<const DType> dtypes,
                                std::span<const int64_t> constexprValues) {
  Key key = makeKey(device, dtypes, constexprValues);
  {
    std::shared_lock lock(mutex_);
    auto it = kernels_.find(key);
    if (it != kernels_.end())
      return *it->second;
  }
  // Slow path: the cache below makes concurrent callers load only once.
  const Kernel &kernel =
      cache().get(spec(device, dtypes, constexprValues), device);
  std::unique_lock lock(mutex_);
  kernels_.emplace(key, &kernel);
  return kernel;
}

} // namespace packjit::runtime
