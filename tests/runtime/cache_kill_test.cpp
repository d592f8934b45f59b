// Writers killed with SIGKILL at random points, and locks left by dead or
// stopped processes: a fresh reader afterwards gets the right kernel or
// compiles it, never a wrong one, and never waits without bound.
#include "child_process.h"
#include "packjit/runtime/disk_cache.h"
#include "test_support.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <random>
#include <set>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <tuple>
#include <unistd.h>

using namespace packjit;
using namespace packjit::runtime;
using namespace packjit::runtime::testing;
using namespace std::chrono_literals;

namespace {

constexpr int kKeys = 4;

KernelSpec keySpec(int key) { return testSpec("test_kernel", 1000 + key); }

// Every image a writer may store for a key: the same PTX, and no cubin or
// a driver cubin of one of two sizes (as the cubin rewrite after a load
// stores). Each is the right kernel for its key; nothing else is.
KernelImage makeRightImage(int key, int variant) {
  KernelSpec spec = keySpec(key);
  KernelImage image = fakeImage(spec, 3000);
  static const size_t kCubinSizes[] = {0, 8 << 10, 96 << 10};
  size_t cubinSize = kCubinSizes[variant % 3];
  for (size_t i = 0; i < cubinSize; ++i)
    image.cubin.push_back(static_cast<char>((i * 131 + key) & 0xff));
  if (cubinSize)
    image.cubinTarget = "sm_90/driver=13000";
  return image;
}

// Made once (before the writers fork): the writers spend their time
// storing, not making images.
const KernelImage &rightImage(int key, int variant) {
  static const std::vector<KernelImage> images = [] {
    std::vector<KernelImage> all;
    for (int i = 0; i < kKeys * 3; ++i)
      all.push_back(makeRightImage(i / 3, i % 3));
    return all;
  }();
  return images[key * 3 + variant % 3];
}

bool isRightImage(int key, const KernelImage &image) {
  for (int variant = 0; variant < 3; ++variant)
    if (image == rightImage(key, variant))
      return true;
  return false;
}

std::vector<std::filesystem::path> temporaryFiles(const std::string &dir) {
  std::vector<std::filesystem::path> found;
  for (const auto &item : std::filesystem::directory_iterator(dir))
    if (item.path().filename().string().find(".tmp") != std::string::npos)
      found.push_back(item.path());
  return found;
}

// What a writer tells the parent, in memory they share.
struct WriterProgress {
  std::atomic<bool> started{false};
  std::atomic<uint64_t> stores{0}; // stores that returned
};

// Stores entries of every key in a loop until killed.
int writeForever(const CacheSettings &settings, WriterProgress *progress) {
  DiskCache cache(settings);
  progress->started = true;
  for (uint64_t i = 0;; ++i) {
    int key = static_cast<int>(i % kKeys);
    cache.store(keySpec(key), rightImage(key, static_cast<int>(i / kKeys)));
    progress->stores.fetch_add(1, std::memory_order_relaxed);
  }
}

// A temporary file as it stands: a writer that made it anew since changed
// one of these (an inode number alone can be reused at once).
using FileState = std::tuple<std::string, ino_t, off_t, int64_t, int64_t>;

std::set<FileState>
fileStates(const std::vector<std::filesystem::path> &paths) {
  std::set<FileState> states;
  for (const auto &path : paths) {
    struct stat info;
    if (lstat(path.c_str(), &info) == 0)
      states.insert({path.filename().string(), info.st_ino, info.st_size,
                     info.st_mtim.tv_sec, info.st_mtim.tv_nsec});
  }
  return states;
}

// A child that holds the lock of keySpec(0): it misses, takes the lock
// and "compiles" forever; `compilingFile` appears once it holds the lock.
pid_t startLockHolder(const CacheSettings &settings,
                      const std::string &compilingFile) {
  return startChild([settings, compilingFile] {
    DiskCache cache(settings);
    bool produced = false;
    cache.loadOrProduce(
        keySpec(0),
        [&]() -> KernelImage {
          writeFile(compilingFile, "");
          while (true)
            pause();
        },
        &produced);
    return 1; // unreachable
  });
}

bool lockIsFree(const std::string &lockPath) {
  int fd = open(lockPath.c_str(), O_RDWR | O_CLOEXEC);
  REQUIRE(fd >= 0);
  bool free = flock(fd, LOCK_EX | LOCK_NB) == 0;
  close(fd);
  return free;
}

// Runs `step` in a traced child and kills it with SIGKILL on entering its
// `killAt`-th system call (counted from 1). Returns the number of system
// calls it entered: `killAt` when it was killed, fewer when `step` returned
// first.
int killAtSystemCall(const std::function<void()> &step, int killAt) {
  pid_t pid = startChild([&] {
    ptrace(PTRACE_TRACEME, 0, nullptr, nullptr);
    raise(SIGSTOP); // the tracer starts counting from here
    step();
    return 0;
  });
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFSTOPPED(status));
  REQUIRE(ptrace(PTRACE_SETOPTIONS, pid, nullptr,
                 PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL) == 0);
  int entered = 0;
  bool inCall = false;
  int signal = 0;
  while (true) {
    REQUIRE(ptrace(PTRACE_SYSCALL, pid, nullptr, signal) == 0);
    signal = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
      CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
      return entered;
    }
    if (WSTOPSIG(status) != (SIGTRAP | 0x80)) {
      signal = WSTOPSIG(status); // a real signal: deliver it
      continue;
    }
    inCall = !inCall;
    if (inCall && ++entered == killAt) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      CHECK((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL));
      return entered;
    }
  }
}

} // namespace

TEST_CASE("writers killed at random points leave the right kernel or a "
          "recompile, and a bounded number of temporary files",
          "[runtime][disk][fault]") {
  TempDir dir;
  // A cap below the four keys' largest entries: the writers also evict.
  CacheSettings settings = settingsFor(dir.path() + "/cache", 250 << 10);
  settings.lockWait = 5s;
  REQUIRE(std::filesystem::create_directories(settings.directory));
  constexpr int kKills = 200;
  std::mt19937 random(13); // fixed: the same delays on every run
  std::uniform_int_distribution<int> delayMicroseconds(0, 3000);
  auto *progress = static_cast<WriterProgress *>(
      mmap(nullptr, sizeof(WriterProgress), PROT_READ | PROT_WRITE,
           MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  REQUIRE(progress != MAP_FAILED);
  rightImage(0, 0); // made before the writers fork

  int killedMidStore = 0, hits = 0, recompiles = 0, wrong = 0;
  size_t mostTemporaries = 0;
  std::set<uintmax_t> partialSizes;
  uint64_t totalStores = 0;
  std::set<uint64_t> storesBeforeKill;
  for (int kill = 0; kill < kKills; ++kill) {
    new (progress) WriterProgress();
    std::set<FileState> before = fileStates(temporaryFiles(settings.directory));
    pid_t writer = startChild([&] { return writeForever(settings, progress); });
    // The delay counts from the first store: the kill lands inside the
    // loop, not in the child's start.
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!progress->started && std::chrono::steady_clock::now() < deadline)
      std::this_thread::yield();
    std::this_thread::sleep_for(
        std::chrono::microseconds(delayMicroseconds(random)));
    REQUIRE(::kill(writer, SIGKILL) == 0);
    ChildEnd end = waitForChild(writer, 5s);
    INFO("kill " << kill << ": the writer " << end.describe());
    REQUIRE(end.signal == SIGKILL); // it neither crashed nor stopped early
    totalStores += progress->stores.load();

    std::vector<std::filesystem::path> temporaries =
        temporaryFiles(settings.directory);
    mostTemporaries = std::max(mostTemporaries, temporaries.size());
    // At most one per key: the next store of the key replaces it.
    REQUIRE(temporaries.size() <= kKeys);
    bool midStore = false;
    for (const FileState &state : fileStates(temporaries))
      if (!before.count(state)) {
        midStore = true;
        partialSizes.insert(std::get<2>(state));
      }
    killedMidStore += midStore;
    storesBeforeKill.insert(progress->stores.load());

    DiskCache reader(settings); // a fresh process's view
    for (int key = 0; key < kKeys; ++key) {
      bool produced = false;
      auto start = std::chrono::steady_clock::now();
      KernelImage image = reader.loadOrProduce(
          keySpec(key), [&] { return rightImage(key, 0); }, &produced);
      CHECK(std::chrono::steady_clock::now() - start < 2s);
      if (!isRightImage(key, image))
        ++wrong;
      else if (produced)
        ++recompiles;
      else
        ++hits;
    }
  }
  munmap(progress, sizeof(WriterProgress));
  std::cout << "killed writers: " << kKills << " (after " << totalStores
            << " completed stores, " << *storesBeforeKill.begin() << " to "
            << *storesBeforeKill.rbegin() << " per writer; " << killedMidStore
            << " killed between creating a temporary and renaming it, "
            << partialSizes.size()
            << " distinct sizes of it); fresh readers: " << hits << " hits, "
            << recompiles << " recompiles, " << wrong
            << " wrong kernels; at most " << mostTemporaries
            << " temporary files at once\n";
  CHECK(wrong == 0);
  CHECK(hits + recompiles == kKills * kKeys);
  // Where the kills landed is reported, not checked: on a loaded machine
  // few may land inside a write. The next test kills at every system call.

  // The next store of each key leaves no temporary file behind.
  DiskCache last(settings);
  for (int key = 0; key < kKeys; ++key)
    last.store(keySpec(key), rightImage(key, 0));
  CHECK(temporaryFiles(settings.directory).empty());
}

TEST_CASE("a lock left by a killed process is free at once",
          "[runtime][disk][fault]") {
  TempDir dir;
  CacheSettings settings = settingsFor(dir.path() + "/cache");
  std::string compiling = dir.path() + "/compiling";
  pid_t holder = startLockHolder(settings, compiling);
  REQUIRE(waitForFile(compiling, 5s));
  DiskCache cache(settings);
  std::string lockPath =
      settings.directory + "/" + keySpec(0).fileStem() + ".lock";
  CHECK_FALSE(lockIsFree(lockPath)); // held while the holder lives

  REQUIRE(kill(holder, SIGKILL) == 0);
  CHECK(waitForChild(holder, 5s).signal == SIGKILL);
  CHECK(fileExists(lockPath)); // the file stays; its lock does not
  CHECK(lockIsFree(lockPath));

  bool produced = false;
  auto start = std::chrono::steady_clock::now();
  KernelImage image = cache.loadOrProduce(
      keySpec(0), [] { return rightImage(0, 0); }, &produced);
  CHECK(std::chrono::steady_clock::now() - start < 1s);
  CHECK(produced); // the dead holder stored nothing
  CHECK(image == rightImage(0, 0));
  REQUIRE(DiskCache(settings).load(keySpec(0)).has_value());
}

TEST_CASE("a lock held by a stopped process is waited for only so long",
          "[runtime][disk][fault]") {
  TempDir dir;
  CacheSettings settings = settingsFor(dir.path() + "/cache");
  std::string compiling = dir.path() + "/compiling";
  pid_t holder = startLockHolder(settings, compiling);
  REQUIRE(waitForFile(compiling, 5s));
  REQUIRE(kill(holder, SIGSTOP) == 0);

  settings.lockWait = 300ms;
  DiskCache cache(settings);
  std::string log = dir.path() + "/stderr.txt";
  bool produced = false;
  KernelImage image;
  auto start = std::chrono::steady_clock::now();
  {
    CapturedStderr capture(log);
    image = cache.loadOrProduce(
        keySpec(0), [] { return rightImage(0, 0); }, &produced);
  }
  auto waited = std::chrono::steady_clock::now() - start;
  kill(holder, SIGKILL);
  waitForChild(holder, 5s);

  CHECK(produced);
  CHECK(image == rightImage(0, 0));
  CHECK(waited >= 300ms);
  CHECK(waited < 3s);
  CHECK_THAT(readFile(log), Catch::Contains(keySpec(0).fileStem() + ".lock") &&
                                Catch::Contains("compiling without it"));
  // Stored all the same, through a temporary of its own.
  std::optional<KernelImage> stored = DiskCache(settings).load(keySpec(0));
  REQUIRE(stored.has_value());
  CHECK(*stored == rightImage(0, 0));
}

TEST_CASE("a writer killed at each system call of a store leaves the old "
          "entry or the new one",
          "[runtime][disk][fault]") {
  TempDir dir;
  // Four entries at the cap: each store evicts.
  CacheSettings settings = settingsFor(dir.path() + "/cache", 40 << 10);
  rightImage(0, 0);
  auto resetCache = [&] {
    DiskCache cache(settings);
    cache.clear();
    for (int key = 1; key < kKeys; ++key)
      cache.store(keySpec(key), rightImage(key, 1));
  };
  struct Scenario {
    const char *name;
    std::function<void()> step;
    bool entryBefore; // key 0's entry (variant 1) exists before the step
  };
  Scenario scenarios[] = {
      {"a store replacing an entry",
       [&] { DiskCache(settings).store(keySpec(0), rightImage(0, 0)); }, true},
      {"a miss compiled and stored",
       [&] {
         bool produced = false;
         DiskCache(settings).loadOrProduce(
             keySpec(0), [] { return rightImage(0, 0); }, &produced);
       },
       false},
  };
  for (const Scenario &scenario : scenarios) {
    int calls = 0, oldEntry = 0, newEntry = 0, noEntry = 0, wrong = 0;
    for (int killAt = 1;; ++killAt) {
      resetCache();
      if (scenario.entryBefore)
        DiskCache(settings).store(keySpec(0), rightImage(0, 1));
      int entered = killAtSystemCall(scenario.step, killAt);
      std::optional<KernelImage> found = DiskCache(settings).load(keySpec(0));
      if (!found)
        ++noEntry;
      else if (*found == rightImage(0, 0))
        ++newEntry;
      else if (*found == rightImage(0, 1))
        ++oldEntry;
      else
        ++wrong;
      // Before the rename, the old entry (or none); after it, the new one.
      if (!scenario.entryBefore)
        CHECK(oldEntry == 0);
      CHECK(temporaryFiles(settings.directory).size() <= 1);
      bool reader = true;
      for (int key = 0; key < kKeys && reader; ++key) {
        bool produced = false;
        reader = isRightImage(
            key,
            DiskCache(settings).loadOrProduce(
                keySpec(key), [&] { return rightImage(key, 0); }, &produced));
      }
      CHECK(reader);
      if (entered < killAt) { // ran to the end: every call was a kill point
        calls = entered;
        break;
      }
    }
    std::cout << scenario.name << ": killed at each of its " << calls
              << " system calls; then the old entry " << oldEntry
              << " times, the new one " << newEntry << ", none " << noEntry
              << ", a wrong one " << wrong << "\n";
    CHECK(wrong == 0);
    CHECK(newEntry > 0);           // the kills after the rename
    CHECK(oldEntry + noEntry > 0); // and those before it
  }
}
