// Several processes missing the same key: one compiles, the others wait on
// the lock file and load its entry.
#include "packjit/runtime/disk_cache.h"
#include "test_support.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <fcntl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace packjit;
using namespace packjit::runtime;
using namespace packjit::runtime::testing;

namespace {

// Child exit codes.
constexpr int kLoadedFromDisk = 10;
constexpr int kCompiled = 11;
constexpr int kWrongImage = 12;

// Appends one line to `path` (O_APPEND: whole lines from many processes).
void appendLine(const std::string &path, const std::string &line) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  std::string text = line + "\n";
  (void)!write(fd, text.data(), text.size());
  close(fd);
}

int childMain(const std::string &cacheDir, const std::string &compileLog,
              const std::string &goFile) {
  while (access(goFile.c_str(), F_OK) != 0) // start together
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  DiskCache cache(settingsFor(cacheDir));
  KernelSpec spec = testSpec();
  bool produced = false;
  KernelImage image = cache.loadOrProduce(
      spec,
      [&] {
        appendLine(compileLog, std::to_string(getpid()));
        // A slow compile, so that the others arrive while it runs.
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        return fakeImage(spec);
      },
      &produced);
  if (!(image == fakeImage(spec)))
    return kWrongImage;
  return produced ? kCompiled : kLoadedFromDisk;
}

int countLines(const std::string &path) {
  FILE *file = std::fopen(path.c_str(), "r");
  if (!file)
    return 0;
  int lines = 0;
  for (int c; (c = std::fgetc(file)) != EOF;)
    lines += c == '\n';
  std::fclose(file);
  return lines;
}

} // namespace

TEST_CASE("processes missing one key compile it once",
          "[runtime][disk][process]") {
  TempDir dir;
  std::string cacheDir = dir.path() + "/cache";
  std::string compileLog = dir.path() + "/compiles.txt";
  std::string goFile = dir.path() + "/go";
  constexpr int kProcesses = 6;
  std::vector<pid_t> children;
  for (int i = 0; i < kProcesses; ++i) {
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0)
      _exit(childMain(cacheDir, compileLog, goFile));
    children.push_back(pid);
  }
  writeFile(goFile, "");
  int compiled = 0, loaded = 0;
  for (pid_t pid : children) {
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    int code = WEXITSTATUS(status);
    CHECK((code == kCompiled || code == kLoadedFromDisk));
    compiled += code == kCompiled;
    loaded += code == kLoadedFromDisk;
  }
  CHECK(compiled == 1);
  CHECK(loaded == kProcesses - 1);
  CHECK(countLines(compileLog) == 1);
  DiskCache cache(settingsFor(cacheDir));
  REQUIRE(cache.load(testSpec()).has_value());
}
