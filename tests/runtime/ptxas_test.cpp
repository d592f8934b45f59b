// Finding and running ptxas, with stand-in scripts (the real one is run by
// the lit test aot_cubins.test).
#include "packjit/core/error.h"
#include "packjit/runtime/ptxas.h"
#include "test_support.h"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>

using namespace packjit;
using namespace packjit::runtime;
using namespace packjit::runtime::testing;

namespace {

// An executable script at dir/name.
std::string script(const TempDir &dir, const std::string &name,
                   const std::string &body) {
  std::string path = dir.path() + "/" + name;
  writeFile(path, "#!/bin/sh\n" + body);
  std::filesystem::permissions(path, std::filesystem::perms::owner_all);
  return path;
}

// Prints ptxas's version line; "assembles" by writing -arch and the PTX to
// the -o file, as: ptxas -arch=sm_90 -o OUT IN.
const char *kFakePtxas = R"(
case "$1" in
--version) echo "Cuda compilation tools, release 13.0, V13.0.88"; exit 0 ;;
esac
{ echo "$1"; cat "$4"; } > "$3"
)";

// Sets or unsets an environment variable for its lifetime.
class ScopedEnvironment {
public:
  ScopedEnvironment(const char *name, const char *value) : name_(name) {
    if (const char *old = std::getenv(name))
      old_ = old;
    if (value)
      setenv(name, value, 1);
    else
      unsetenv(name);
  }
  ~ScopedEnvironment() {
    if (old_)
      setenv(name_, old_->c_str(), 1);
    else
      unsetenv(name_);
  }

private:
  const char *name_;
  std::optional<std::string> old_;
};

} // namespace

TEST_CASE("ptxas is run with the arch and its cubin read back",
          "[runtime][ptxas]") {
  TempDir dir;
  std::string path = script(dir, "ptxas", kFakePtxas);
  std::string why;
  std::optional<Ptxas> ptxas = findPtxas(path, &why);
  REQUIRE(ptxas.has_value());
  CHECK(ptxas->path == path);
  CHECK(ptxas->version == "13.0.88");
  CHECK(ptxas->cubinTarget("sm_90") == "sm_90/ptxas=13.0.88");
  CHECK(ptxas->assemble(".version 7.8\n", "sm_90", "k") ==
        "-arch=sm_90\n.version 7.8\n");
}

TEST_CASE("PACKJIT_PTXAS is the only place looked at when set, --ptxas "
          "before it",
          "[runtime][ptxas]") {
  TempDir dir;
  std::string path = script(dir, "my-ptxas", kFakePtxas);
  std::string why;
  {
    ScopedEnvironment env("PACKJIT_PTXAS", path.c_str());
    std::optional<Ptxas> found = findPtxas("", &why);
    REQUIRE(found.has_value());
    CHECK(found->path == path);
    CHECK_FALSE(findPtxas(dir.path() + "/absent", &why));
    CHECK_THAT(why, Catch::StartsWith("--ptxas names no usable ptxas (") &&
                        Catch::Contains("/absent: No such file"));
  }
  ScopedEnvironment env("PACKJIT_PTXAS", (dir.path() + "/absent").c_str());
  CHECK_FALSE(findPtxas("", &why));
  CHECK(why == "PACKJIT_PTXAS names no usable ptxas (" + dir.path() +
                   "/absent: No such file or directory)");
}

TEST_CASE("a ptxas that prints no version, or fails, is named with its "
          "message on one line",
          "[runtime][ptxas]") {
  TempDir dir;
  std::string why;
  std::string mute = script(dir, "mute", "echo something else\n");
  CHECK_FALSE(findPtxas(mute, &why));
  CHECK_THAT(why, Catch::EndsWith("mute: its --version printed no version "
                                  "('something else'))"));
  CHECK_FALSE(findPtxas(dir.path(), &why));
  CHECK_THAT(why, Catch::EndsWith(": a directory)"));

  std::string failing = script(dir, "failing", R"(
case "$1" in --version) echo "V12.4.131"; exit 0 ;; esac
echo "ptxas fatal   : Unknown option" >&2
echo "second line" >&2
exit 255
)");
  std::optional<Ptxas> ptxas = findPtxas(failing, &why);
  REQUIRE(ptxas.has_value());
  CHECK(ptxas->version == "12.4.131");
  CHECK_THROWS_WITH(ptxas->assemble("ptx", "sm_80", "mask_scan-0123"),
                    failing + " -arch=sm_80 failed on the PTX of "
                              "mask_scan-0123 (exit code 255): ptxas fatal   "
                              ": Unknown option; second line");
}
