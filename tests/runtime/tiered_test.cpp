// Tiered specialization over a fake compiler and module loader: the generic
// kernel first, the specialized one compiled once in the background and
// swapped in, the off switch, failures, and fork while a compile runs.
#include "packjit/core/error.h"
#include "packjit/runtime/background_compiles.h"
#include "packjit/runtime/kernel_cache.h"
#include "test_support.h"

#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

using namespace packjit;
using namespace packjit::runtime;
using namespace packjit::runtime::testing;

namespace {

constexpr int64_t kGeneric = 0; // S = 0: the row length read at run time

class FakeLoader final : public ModuleLoader {
public:
  DeviceTarget target(int) override { return {"sm_90", 78, 13000}; }
  LoadedModule load(int, const KernelSpec &, KernelImage &image,
                    bool *madeCubin) override {
    *madeCubin = image.cubin.empty();
    image.cubin = "CUBIN:" + image.ptx;
    image.cubinTarget = cubinTargetFor("sm_90", 13000);
    LoadedModule module;
    module.function =
        reinterpret_cast<CUfunction>(static_cast<uintptr_t>(++loads));
    return module;
  }
  void prepareBackgroundThread() override { ++backgroundPreparations; }
  std::atomic<int> loads{0}, backgroundPreparations{0};
};

// Closed until open(); a wait gives up after 10 s so that a failing test
// cannot hang on it.
class Gate {
public:
  void open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }
  void wait() {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, std::chrono::seconds(10), [&] { return open_; });
  }

private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool open_ = false;
};

// A compiler that counts compiles per value of S; the compiles of
// `gatedSize` wait for `gate`, those of `failingSize` throw.
struct Fixture {
  TempDir dir;
  std::shared_ptr<FakeLoader> loader = std::make_shared<FakeLoader>();
  std::mutex mutex;
  std::map<int64_t, int> compiles; // S -> count
  Gate gate;
  int64_t gatedSize = -1;
  int64_t failingSize = -1;
  std::chrono::milliseconds compileTime{0};
  std::atomic<bool> compiling{false};

  KernelCacheOptions options(bool tiered = true) {
    KernelCacheOptions options;
    options.settings = settingsFor(dir.path());
    options.bundlePaths = {};
    options.loader = loader;
    options.tiered = tiered;
    options.compile = [this](const KernelSpec &spec, std::string_view) {
      const int64_t size = spec.constexprs.at("S");
      {
        std::lock_guard lock(mutex);
        ++compiles[size];
      }
      compiling = true;
      if (size == gatedSize)
        gate.wait();
      std::this_thread::sleep_for(compileTime);
      compiling = false;
      if (size == failingSize)
        throw Error("compile failed: S=" + std::to_string(size) +
                    " is not supported here");
      return fakeImage(spec);
    };
    return options;
  }
  int compilesOf(int64_t size) {
    std::lock_guard lock(mutex);
    return compiles[size];
  }
};

struct Tiers {
  KernelFamily &family;
  ConstexprSlot size = family.slot("S");
  DType dtypes[1] = {DType::Int64};

  const Kernel &get(int64_t specializedSize) {
    ConstexprValues specialized = family.defaults();
    specialized.set(size, specializedSize);
    ConstexprValues generic = family.defaults();
    generic.set(size, kGeneric);
    return family.getTiered(0, dtypes, specialized, generic);
  }
};

int64_t sizeOf(const Kernel &kernel) { return kernel.spec.constexprs.at("S"); }

// Runs `child` in a forked process; its exit code, or -1 when it did not
// exit within `limit` (it is killed then).
int runForked(const std::function<bool()> &child,
              std::chrono::seconds limit = std::chrono::seconds(20)) {
  pid_t pid = ::fork();
  if (pid == 0) {
    bool ok = false;
    try {
      ok = child();
    } catch (...) {
    }
    ::_exit(ok ? 0 : 1);
  }
  auto deadline = std::chrono::steady_clock::now() + limit;
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -2;
}

} // namespace

TEST_CASE("the first call at a new shape runs the generic kernel, and the "
          "specialized one replaces it once compiled",
          "[runtime][tiered]") {
  Fixture fixture;
  fixture.gatedSize = 4096;
  KernelCache cache(fixture.options());
  KernelFamily family(testContract(), &cache);
  Tiers tiers{family};

  const Kernel &first = tiers.get(4096);
  CHECK(sizeOf(first) == kGeneric);
  CHECK(fixture.compilesOf(kGeneric) == 1); // the generic one, synchronously
  for (int i = 0; i < 100; ++i)             // during the background compile
    CHECK(&tiers.get(4096) == &first);

  fixture.gate.open();
  waitForBackgroundCompiles();
  const Kernel &later = tiers.get(4096);
  CHECK(sizeOf(later) == 4096);
  CHECK(&tiers.get(4096) == &later);
  CHECK(fixture.compilesOf(4096) == 1);
  CHECK(fixture.loader->backgroundPreparations == 1);
  // Stored in the disk cache as usual, with the cubin the load made.
  std::optional<KernelImage> stored =
      DiskCache(settingsFor(fixture.dir.path())).load(later.spec);
  REQUIRE(stored.has_value());
  CHECK(stored->cubinTarget == "sm_90/driver=13000");

  // Another new shape reuses the generic kernel: no compile before its
  // first launch.
  CHECK(&tiers.get(2048) == &first);
  waitForBackgroundCompiles();
  CHECK(sizeOf(tiers.get(2048)) == 2048);
  CHECK(fixture.compilesOf(kGeneric) == 1);
}

TEST_CASE("a plain get of a key that is compiling in the background returns "
          "the specialized kernel",
          "[runtime][tiered]") {
  Fixture fixture;
  fixture.compileTime = std::chrono::milliseconds(50);
  KernelCache cache(fixture.options());
  KernelFamily family(testContract(), &cache);
  Tiers tiers{family};
  CHECK(sizeOf(tiers.get(4096)) == kGeneric);
  ConstexprValues values = family.defaults();
  values.set(tiers.size, 4096);
  const Kernel &specialized = family.get(0, tiers.dtypes, values);
  CHECK(sizeOf(specialized) == 4096);
  CHECK(&tiers.get(4096) == &specialized);
  waitForBackgroundCompiles();
  CHECK(&tiers.get(4096) == &specialized);
  CHECK(fixture.compilesOf(4096) == 1); // the cache loaded the key once
}

TEST_CASE("many threads at new shapes queue each specialization once",
          "[runtime][tiered]") {
  Fixture fixture;
  fixture.compileTime = std::chrono::milliseconds(20);
  KernelCache cache(fixture.options());
  KernelFamily family(testContract(), &cache);
  Tiers tiers{family};
  const int64_t sizes[] = {1024, 2048, 4096, 8192};
  constexpr int kThreads = 16;
  std::atomic<int> generic{0}, specialized{0}, wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        int64_t wanted = sizes[(t + i) % 4];
        int64_t got = sizeOf(tiers.get(wanted));
        if (got == kGeneric)
          ++generic;
        else if (got == wanted)
          ++specialized;
        else
          ++wrong;
      }
    });
  for (std::thread &thread : threads)
    thread.join();
  waitForBackgroundCompiles();
  CHECK(wrong == 0);
  CHECK(generic > 0);
  CHECK(fixture.compilesOf(kGeneric) == 1);
  for (int64_t size : sizes) {
    CHECK(fixture.compilesOf(size) == 1);
    CHECK(sizeOf(tiers.get(size)) == size);
  }
  WARN("tiered under " << kThreads << " threads: " << generic
                       << " calls on the generic kernel, " << specialized
                       << " on the specialized ones");
}

TEST_CASE("PACKJIT_TIERED=0 compiles the specialized kernel before the first "
          "launch",
          "[runtime][tiered]") {
  Fixture fixture;
  KernelCache cache(fixture.options(/*tiered=*/false));
  KernelFamily family(testContract(), &cache);
  Tiers tiers{family};
  CHECK(sizeOf(tiers.get(4096)) == 4096);
  CHECK(fixture.compilesOf(4096) == 1);
  CHECK(fixture.compilesOf(kGeneric) == 0);
  CHECK(fixture.loader->backgroundPreparations == 0);
}

TEST_CASE("a specialized kernel on disk loads at once, with no generic one",
          "[runtime][tiered]") {
  Fixture fixture;
  {
    KernelCache earlier(fixture.options(/*tiered=*/false));
    KernelFamily family(testContract(), &earlier);
    Tiers{family}.get(4096);
  }
  KernelCache cache(fixture.options()); // the next process
  KernelFamily family(testContract(), &cache);
  Tiers tiers{family};
  const Kernel &kernel = tiers.get(4096);
  CHECK(sizeOf(kernel) == 4096);
  CHECK(kernel.origin == ImageOrigin::Disk);
  CHECK(fixture.compilesOf(kGeneric) == 0);
  CHECK(fixture.compilesOf(4096) == 1);
  CHECK(fixture.loader->backgroundPreparations == 0);
}

TEST_CASE("equal specialized and generic values are a plain get",
          "[runtime][tiered]") {
  Fixture fixture;
  KernelCache cache(fixture.options());
  KernelFamily family(testContract(), &cache);
  Tiers tiers{family};
  CHECK(sizeOf(tiers.get(kGeneric)) == kGeneric);
  waitForBackgroundCompiles();
  CHECK(fixture.compilesOf(kGeneric) == 1);
  CHECK(fixture.loader->backgroundPreparations == 0);
}

TEST_CASE("a failed background compile is logged and keeps the generic "
          "kernel",
          "[runtime][tiered]") {
  Fixture fixture;
  fixture.failingSize = 4096;
  KernelCache cache(fixture.options());
  KernelFamily family(testContract(), &cache);
  Tiers tiers{family};
  std::string log;
  {
    CapturedStderr captured(fixture.dir.path() + "/stderr.txt");
    CHECK(sizeOf(tiers.get(4096)) == kGeneric);
    waitForBackgroundCompiles();
    log = captured.text();
  }
  CHECK_THAT(log, Catch::Contains("tiered: the background compile of '") &&
                      Catch::Contains("failed; its generic kernel stays in "
                                      "use: compile failed: S=4096 is not "
                                      "supported here"));
  for (int i = 0; i < 3; ++i) // no throw, no new attempt
    CHECK(sizeOf(tiers.get(4096)) == kGeneric);
  waitForBackgroundCompiles();
  CHECK(fixture.compilesOf(4096) == 1);
  // Unrelated calls are unaffected.
  CHECK(sizeOf(tiers.get(2048)) == kGeneric);
  waitForBackgroundCompiles();
  CHECK(sizeOf(tiers.get(2048)) == 2048);
}

TEST_CASE("a fork while a background compile runs neither deadlocks nor "
          "inherits a held lock",
          "[runtime][tiered][fork]") {
  Fixture fixture;
  fixture.compileTime = std::chrono::milliseconds(300);
  KernelCache cache(fixture.options());
  KernelFamily family(testContract(), &cache);
  Tiers tiers{family};
  CHECK(sizeOf(tiers.get(4096)) == kGeneric);
  CHECK(sizeOf(tiers.get(2048)) == kGeneric); // queued behind 4096
  while (!fixture.compiling)                  // 4096 is compiling now
    std::this_thread::sleep_for(std::chrono::milliseconds(1));

  auto forkedAt = std::chrono::steady_clock::now();
  int status = runForked([&] {
    // The fork waited for the running compile: 4096 is ready here.
    if (sizeOf(tiers.get(4096)) != 4096)
      return false;
    // 2048 was queued, never started: this child's own worker runs it.
    waitForBackgroundCompiles();
    if (sizeOf(tiers.get(2048)) != 2048)
      return false;
    // And a new key compiles here too.
    if (sizeOf(tiers.get(1024)) != kGeneric)
      return false;
    waitForBackgroundCompiles();
    return sizeOf(tiers.get(1024)) == 1024;
  });
  CHECK(status == 0);
  CHECK(std::chrono::steady_clock::now() - forkedAt < std::chrono::seconds(15));

  // The parent's worker carries on.
  waitForBackgroundCompiles();
  CHECK(sizeOf(tiers.get(2048)) == 2048);
  CHECK(sizeOf(tiers.get(4096)) == 4096);
}

TEST_CASE("a forked child that only waits returns at once",
          "[runtime][tiered][fork]") {
  waitForBackgroundCompiles(); // the queue exists, empty
  CHECK(runForked([] {
          waitForBackgroundCompiles();
          return true;
        }) == 0);
}

TEST_CASE("a background compile that forks (a compiler running a tool) does "
          "not wait for itself",
          "[runtime][tiered][fork]") {
  Fixture fixture;
  KernelCacheOptions options = fixture.options();
  std::atomic<int> toolStatus{-3};
  options.compile = [&](const KernelSpec &spec, std::string_view) {
    toolStatus = runForked([] { return true; });
    return fakeImage(spec);
  };
  KernelCache cache(options);
  KernelFamily family(testContract(), &cache);
  Tiers tiers{family};
  CHECK(runForked([] { return true; }) == 0); // the queue exists
  tiers.get(0);                               // the generic kernel
  CHECK(toolStatus == 0);
  toolStatus = -3;
  CHECK(sizeOf(tiers.get(4096)) == kGeneric); // compiled in the background
  waitForBackgroundCompiles();
  CHECK(toolStatus == 0);
  CHECK(sizeOf(tiers.get(4096)) == 4096);
}
