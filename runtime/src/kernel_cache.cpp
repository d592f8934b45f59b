#include "packjit/runtime/kernel_cache.h"

#include "packjit/core/error.h"
#include "packjit/core/log.h"

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

const Kernel &KernelCache::get(const KernelContract &contract,
                               const KernelSpec &spec, int device) {
  return get(contract, spec, spec.hash(), device);
}

const Kernel &KernelCache::get(const KernelContract &contract,
                               const KernelSpec &spec, const Hash128 &specHash,
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
  return load(*slot, contract, spec, device);
}

const Kernel &KernelCache::load(Slot &slot, const KernelContract &contract,
                                const KernelSpec &spec, int device) {
  std::lock_guard lock(slot.loadMutex);
  if (const Kernel *kernel = slot.ready.load(std::memory_order_acquire))
    return *kernel; // another thread loaded it while we waited
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
  ResolvedImage resolved =
      images_.resolve(spec, contract.templateText(), cubinTarget);
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
    if (it != kernels_.end())
      return *it->second;
  }
  // Slow path: the binding checks the values; the cache below makes
  // concurrent callers load only once.
  const Kernel &kernel =
      cache().get(contract_, spec(device, dtypes, values), device);
  std::unique_lock lock(mutex_);
  kernels_.emplace(key, &kernel);
  return kernel;
}

} // namespace packjit::runtime
