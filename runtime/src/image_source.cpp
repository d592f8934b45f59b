#include "packjit/runtime/image_source.h"

#include "packjit/core/error.h"
#include "packjit/core/log.h"
#include "packjit/runtime/compiler_library.h"

#include <chrono>
#include <mutex>

namespace packjit::runtime {

std::string_view imageOriginName(ImageOrigin origin) {
  switch (origin) {
  case ImageOrigin::Bundle:
    return "aot";
  case ImageOrigin::Disk:
    return "disk";
  case ImageOrigin::Compiled:
    return "compiled";
  }
  return "?";
}

ImageSource::ImageSource(CacheSettings settings, CompileFunction compile)
    : disk_(std::move(settings)), compile_(std::move(compile)) {}

void ImageSource::addBundle(const std::string &path) {
  addBundle(Bundle::load(path));
}

void ImageSource::addBundle(Bundle bundle) {
  size_t withCubin = 0;
  for (const CacheEntry &entry : bundle.entries())
    withCubin += !entry.image.cubin.empty();
  PACKJIT_LOG(Info, "loaded AOT bundle " + bundle.path() + " (" +
                        std::to_string(bundle.entries().size()) + " kernels, " +
                        std::to_string(withCubin) + " with a cubin)");
  auto shared = std::make_shared<const Bundle>(std::move(bundle));
  std::unique_lock lock(bundlesMutex_);
  bundles_.push_back(std::move(shared));
}

std::string ImageSource::whereItWasLookedFor() const {
  std::string where = "AOT bundles: ";
  {
    std::shared_lock lock(bundlesMutex_);
    if (bundles_.empty())
      where += "none loaded (PACKJIT_AOT)";
    for (size_t i = 0; i < bundles_.size(); ++i)
      where += (i ? ", " : "") + bundles_[i]->path();
  }
  where += "; kernel cache: ";
  if (!disk_.settings().diskEnabled)
    where += "disk cache off (PACKJIT_CACHE=off)";
  else
    where += disk_.directory() + (disk_.usable() ? "" : " (unusable)");
  return where;
}

KernelImage ImageSource::compile(const KernelSpec &spec,
                                 std::string_view templateText) {
  if (!compile_) {
    std::string why;
    if (!compilerAvailable(&why))
      throw Error("kernel spec '" + spec.canonical() +
                  "' is missing from every AOT bundle and the kernel cache (" +
                  whereItWasLookedFor() +
                  "), and no compiler is available: " + why);
  }
  auto start = std::chrono::steady_clock::now();
  KernelImage image = compile_ ? compile_(spec, templateText)
                               : compileWithCompilerLibrary(spec, templateText);
  counters_.compiles++;
  std::chrono::duration<double, std::milli> elapsed =
      std::chrono::steady_clock::now() - start;
  PACKJIT_LOG(Info, "compiled " + spec.fileStem() + " in " +
                        std::to_string(elapsed.count()) + " ms");
  return image;
}

std::optional<ResolvedImage>
ImageSource::findInBundles(const KernelSpec &spec,
                           const std::string &cubinTarget) {
  std::string key = spec.canonical();
  std::vector<std::shared_ptr<const Bundle>> bundles;
  {
    std::shared_lock lock(bundlesMutex_);
    bundles = bundles_;
  }
  for (const auto &bundle : bundles) {
    const KernelImage *found = bundle->find(key);
    if (!found)
      continue;
    counters_.bundleHits++;
    PACKJIT_LOG(Info, "AOT hit: " + spec.fileStem() + " in " + bundle->path());
    ResolvedImage resolved{*found, ImageOrigin::Bundle};
    // Short of a cubin this very driver made, the disk cache's is preferred:
    // it is there when the bundle has none for this device, or when the
    // driver refused the bundle's ptxas cubin before (and JIT-compiled it).
    if (resolved.image.cubinTarget != cubinTarget ||
        resolved.image.cubin.empty())
      if (std::optional<KernelImage> cached = disk_.load(spec);
          cached && !cached->cubin.empty() &&
          cached->cubinTarget == cubinTarget) {
        resolved.image.cubin = std::move(cached->cubin);
        resolved.image.cubinTarget = cubinTarget;
      }
    return resolved;
  }
  return std::nullopt;
}

ResolvedImage ImageSource::resolve(const KernelSpec &spec,
                                   std::string_view templateText,
                                   const std::string &cubinTarget) {
  if (std::optional<ResolvedImage> bundled = findInBundles(spec, cubinTarget))
    return std::move(*bundled);
  bool produced = false;
  KernelImage image = disk_.loadOrProduce(
      spec, [&] { return compile(spec, templateText); }, &produced);
  if (!produced) {
    counters_.diskHits++;
    PACKJIT_LOG(Info, "disk cache hit: " + spec.fileStem());
  }
  return {std::move(image),
          produced ? ImageOrigin::Compiled : ImageOrigin::Disk};
}

std::optional<ResolvedImage>
ImageSource::findWithoutCompiling(const KernelSpec &spec,
                                  const std::string &cubinTarget) {
  if (std::optional<ResolvedImage> bundled = findInBundles(spec, cubinTarget))
    return bundled;
  std::optional<KernelImage> cached = disk_.load(spec);
  if (!cached)
    return std::nullopt;
  counters_.diskHits++;
  PACKJIT_LOG(Info, "disk cache hit: " + spec.fileStem());
  return ResolvedImage{std::move(*cached), ImageOrigin::Disk};
}

} // namespace packjit::runtime
