#include "packjit/runtime/kernel_cache.h"

#include "packjit/core/error.h"
#include "packjit/core/log.h"
#include "packjit/runtime/background_compiles.h"

#include <chrono>

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
                  : std::shared_ptr<ModuleLoader>(makeDriverModuleLoader())),
      tiered_(options.tiered) {
  for (const std::string &path : options.bundlePaths)
    images_.addBundle(path);
}

// Modules stay loaded: kernels may still be running on a stream, and the
// process-wide cache dies at exit, when the driver may be gone already.
KernelCache::~KernelCache() { forgetBackgroundCompiles(this); }

const Kernel &KernelCache::get(const KernelContract &contract,
                               const KernelSpec &spec, int device) {
  return get(contract, spec, spec.hash(), device);
}

const Kernel &KernelCache::get(const KernelContract &contract,
                               const KernelSpec &spec, const Hash128 &specHash,
                               int device) {
  Slot &found = slot(specHash, device);
  if (const Kernel *kernel = found.ready.load(std::memory_order_acquire))
    return *kernel;
  return *load(found, contract, spec, device, /*mayCompile=*/true);
}

const Kernel *KernelCache::getWithoutCompiling(const KernelContract &contract,
                                               const KernelSpec &spec,
                                               int device) {
  Slot &found = slot(spec.hash(), device);
  if (const Kernel *kernel = found.ready.load(std::memory_order_acquire))
    return kernel;
  return load(found, contract, spec, device, /*mayCompile=*/false);
}

KernelCache::Slot &KernelCache::slot(const Hash128 &specHash, int device) {
  SlotKey key{specHash, device};
  {
    std::shared_lock lock(slotsMutex_);
    auto it = slots_.find(key);
    if (it != slots_.end())
      return *it->second;
  }
  std::unique_lock lock(slotsMutex_);
  auto &owned = slots_[key];
  if (!owned)
    owned = std::make_unique<Slot>();
  return *owned;
}

const Kernel *KernelCache::load(Slot &slot, const KernelContract &contract,
                                const KernelSpec &spec, int device,
                                bool mayCompile) {
  // Without compiling, a load in progress elsewhere (maybe a compile) is not
  // waited for.
  std::unique_lock lock(slot.loadMutex, std::defer_lock);
  if (mayCompile)
    lock.lock();
  else if (!lock.try_lock())
    return nullptr;
  if (const Kernel *kernel = slot.ready.load(std::memory_order_acquire))
    return kernel; // another thread loaded it while we waited
  if (spec.kernel != contract.kernel() ||
      spec.templateHash != contract.templateHash())
    throw Error("KernelSpec '" + spec.canonical() +
                "' is not a specialization of the contract of '" +
                contract.kernel() + "' (template hash " +
                contract.templateHash() + ")");
  memoryMisses_++;
  PACKJIT_LOG(Debug, "memory cache miss: " + spec.fileStem() + " on device " +
                         std::to_string(device));
  DeviceTarget target = loader_->target(device);
  std::string cubinTarget = cubinTargetFor(target.arch, target.driverVersion);
  ResolvedImage resolved;
  if (mayCompile) {
    resolved = images_.resolve(spec, contract.templateText(), cubinTarget);
  } else if (std::optional<ResolvedImage> found =
                 images_.findWithoutCompiling(spec, cubinTarget)) {
    resolved = std::move(*found);
  } else {
    return nullptr;
  }
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
  kernel->params = contract.params().params;
  kernel->device = device;
  kernel->context = loaded.context;
  kernel->module = loaded.module;
  kernel->function = loaded.function;
  kernel->origin = resolved.origin;
  kernel->cubinReused = !madeCubin;
  slot.kernel = std::move(kernel);
  slot.ready.store(slot.kernel.get(), std::memory_order_release);
  return slot.kernel.get();
}

namespace {

double millisecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now() - start)
      .count();
}

} // namespace

// The module is loaded on the background thread too, in the device's
// primary context (the loader makes it current there), which every thread
// of the process shares: the driver's PTX-to-SASS JIT of a fresh image
// takes milliseconds, and left to the next calling thread it would stall
// that call, which is what tiering exists to avoid.
void KernelCache::loadInBackground(KernelContract contract, KernelSpec spec,
                                   int device,
                                   std::shared_ptr<PendingKernel> pending) {
  PACKJIT_LOG(Info, "tiered: queued " + spec.fileStem() + " on device " +
                        std::to_string(device) +
                        " for a background compile; its generic kernel "
                        "serves until it is loaded");
  auto queued = std::chrono::steady_clock::now();
  postBackgroundCompile(this, [this, contract = std::move(contract),
                               spec = std::move(spec), device,
                               pending = std::move(pending), queued] {
    auto start = std::chrono::steady_clock::now();
    try {
      loader_->prepareBackgroundThread();
      const Kernel &kernel = get(contract, spec, device);
      pending->setReady(kernel);
      PACKJIT_LOG(Info, "tiered: " + spec.fileStem() + " on device " +
                            std::to_string(device) + " ready in " +
                            std::to_string(millisecondsSince(start)) + " ms (" +
                            std::to_string(millisecondsSince(queued)) +
                            " ms after it was queued); the next call swaps "
                            "it in");
    } catch (const std::exception &e) {
      pending->setFailed();
      PACKJIT_LOG(Warn, "tiered: the background compile of '" +
                            spec.canonical() + "' on device " +
                            std::to_string(device) + " failed; its generic " +
                            "kernel stays in use: " + e.what());
    }
  });
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

KernelFamily::KernelFamily(std::string_view kernel, KernelCache *cache)
    : KernelFamily(KernelContract::of(kernel), cache) {}

KernelFamily::KernelFamily(KernelContract contract, KernelCache *cache)
    : contract_(std::move(contract)), cache_(cache) {
  const std::vector<ConstexprParameter> &params = contract_.header().constexprs;
  if (params.size() > kMaxFamilyConstexprs)
    throw Error("kernel '" + contract_.kernel() + "' has more than " +
                std::to_string(kMaxFamilyConstexprs) + " constexprs");
  for (size_t i = 0; i < params.size(); ++i)
    defaults_.values_[i] = params[i].defaultValue;
}

ConstexprSlot KernelFamily::slot(std::string_view name) const {
  const ConstexprParameter &param = contract_.constexprParameter(name);
  return {static_cast<uint8_t>(&param - contract_.header().constexprs.data())};
}

size_t KernelFamily::KeyHash::operator()(const Key &key) const {
  return XXH3_64bits(key.words.data(), sizeof key.words);
}

KernelFamily::Key KernelFamily::makeKey(int device,
                                        std::span<const DType> dtypes,
                                        const ConstexprValues &values) const {
  if (dtypes.size() > kMaxDTypes)
    throw Error("kernel '" + contract_.kernel() + "': at most " +
                std::to_string(kMaxDTypes) + " dtypes, got " +
                std::to_string(dtypes.size()));
  Key key;
  key.words[0] = static_cast<int64_t>(static_cast<uint32_t>(device)) |
                 (static_cast<int64_t>(dtypes.size()) << 32);
  uint64_t packed = 0;
  for (size_t i = 0; i < dtypes.size(); ++i)
    packed |= static_cast<uint64_t>(dtypes[i]) << (8 * i);
  key.words[1] = static_cast<int64_t>(packed);
  std::copy(values.values_.begin(), values.values_.end(),
            key.words.begin() + 2);
  return key;
}

KernelCache &KernelFamily::cache() {
  return cache_ ? *cache_ : defaultKernelCache();
}

KernelSpec KernelFamily::spec(int device, std::span<const DType> dtypes,
                              const ConstexprValues &values) {
  DeviceTarget target = cache().loader().target(device);
  KernelBinding binding(contract_);
  binding.dtypes({dtypes.begin(), dtypes.end()});
  const std::vector<ConstexprParameter> &params = contract_.header().constexprs;
  for (size_t i = 0; i < params.size(); ++i)
    binding.set(params[i].name, values.values_[i]);
  return binding.arch(target.arch).ptxVersion(target.ptxVersion).spec();
}

const Kernel &KernelFamily::get(int device, std::span<const DType> dtypes,
                                const ConstexprValues &values) {
  Key key = makeKey(device, dtypes, values);
  {
    std::shared_lock lock(mutex_);
    auto it = kernels_.find(key);
    if (it != kernels_.end() && !it->second.pending)
      return *it->second.kernel;
  }
  // Slow path: the binding checks the values; the cache below makes
  // concurrent callers load only once (and waits for a background load of
  // the same key).
  const Kernel &kernel =
      cache().get(contract_, spec(device, dtypes, values), device);
  std::unique_lock lock(mutex_);
  kernels_.insert_or_assign(key, Entry{&kernel, nullptr});
  return kernel;
}

const Kernel &KernelFamily::getTiered(int device, std::span<const DType> dtypes,
                                      const ConstexprValues &specialized,
                                      const ConstexprValues &generic) {
  Key key = makeKey(device, dtypes, specialized);
  {
    std::shared_lock lock(mutex_);
    auto it = kernels_.find(key);
    if (it != kernels_.end()) {
      const Entry &entry = it->second;
      if (!entry.pending ||
          entry.pending->state() == PendingKernel::State::Loading)
        return *entry.kernel; // the generic one while loading
    }
  }
  if (!cache().tiered() || specialized == generic)
    return get(device, dtypes, specialized);
  {
    // Settled in the background since: swap the specialized kernel in, or
    // keep the generic one for good after a failure (logged there).
    std::unique_lock lock(mutex_);
    auto it = kernels_.find(key);
    if (it != kernels_.end()) {
      Entry &entry = it->second;
      if (entry.pending &&
          entry.pending->state() == PendingKernel::State::Ready) {
        entry.kernel = entry.pending->kernel();
        PACKJIT_LOG(Info, "tiered: swapped in " +
                              entry.kernel->spec.fileStem() + " on device " +
                              std::to_string(device) + " for later calls");
      }
      if (entry.pending &&
          entry.pending->state() != PendingKernel::State::Loading)
        entry.pending = nullptr;
      return *entry.kernel;
    }
  }
  return firstTieredCall(key, device, dtypes, specialized, generic);
}

const Kernel &KernelFamily::firstTieredCall(const Key &key, int device,
                                            std::span<const DType> dtypes,
                                            const ConstexprValues &specialized,
                                            const ConstexprValues &generic) {
  KernelSpec wanted = spec(device, dtypes, specialized); // checks the values
  if (const Kernel *ready =
          cache().getWithoutCompiling(contract_, wanted, device)) {
    std::unique_lock lock(mutex_);
    kernels_.insert_or_assign(key, Entry{ready, nullptr});
    return *ready;
  }
  const Kernel &standIn = get(device, dtypes, generic);
  auto pending = std::make_shared<PendingKernel>();
  {
    std::unique_lock lock(mutex_);
    auto [it, inserted] = kernels_.try_emplace(key, Entry{&standIn, pending});
    if (!inserted)
      return *it->second.kernel; // another thread queued it first
  }
  cache().loadInBackground(contract_, std::move(wanted), device,
                           std::move(pending));
  return standIn;
}

} // namespace packjit::runtime
