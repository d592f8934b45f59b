// Kernel templates with `// @include "PATH"` lines: the embedded texts are
// expanded (so their hashes cover the helpers), template files resolve
// includes beside them, then in the embedded library, and a missing include
// or a cycle is a clear error.
#include "packjit/core/error.h"
#include "packjit/core/kernel_templates.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <stdlib.h>

namespace fs = std::filesystem;

namespace {

// A fresh folder, removed with everything in it.
class Folder {
public:
  Folder() {
    std::string pattern = (fs::temp_directory_path() / "pjt-XXXXXX").string();
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~Folder() { fs::remove_all(path_); }
  // Writes `text` to `name` (folders created) and returns its path.
  std::string write(const std::string &name, const std::string &text) const {
    fs::path path = path_ / name;
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
    return path.string();
  }

private:
  fs::path path_;
};

std::string source(const std::string &name) {
  std::ifstream in(fs::path(PACKJIT_KERNELS_SRC) / name, std::ios::binary);
  REQUIRE(in);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

size_t count(std::string_view text, std::string_view what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string_view::npos;
       at = text.find(what, at + 1))
    ++n;
  return n;
}

} // namespace

TEST_CASE("the embedded kernels are kernels_src/*.mlir, includes expanded",
          "[core][templates]") {
  std::vector<std::string> names;
  for (const packjit::KernelTemplate &kernel : packjit::kernelTemplates()) {
    names.emplace_back(kernel.name);
    CHECK(count(kernel.text, "// @include") == 0);
    // Byte for byte the files as `packjit compile --template` reads them.
    CHECK(kernel.text ==
          packjit::readTemplateFile(std::string(PACKJIT_KERNELS_SRC) + "/" +
                                    std::string(kernel.name) + ".mlir"));
  }
  // Every file there, nothing else: a new kernel is a new file, no list.
  std::vector<std::string> files;
  for (const fs::directory_entry &entry :
       fs::directory_iterator(PACKJIT_KERNELS_SRC))
    if (entry.is_regular_file() && entry.path().extension() == ".mlir")
      files.push_back(entry.path().stem().string());
  std::sort(files.begin(), files.end());
  std::sort(names.begin(), names.end());
  CHECK(files.size() >= 5);
  CHECK(names == files);
  // The row copies are written once (lib/rows.mlir), in both users' text.
  std::string rows = source("lib/rows.mlir");
  for (const char *user : {"gather_rows", "scatter_rows"}) {
    std::string_view text = packjit::kernelTemplate(user).text;
    CHECK(count(source(std::string(user) + ".mlir"), "func.func") == 0);
    CHECK(count(text, rows) == 1);
  }
  CHECK_THROWS_WITH(packjit::kernelTemplate("rows"),
                    Catch::Contains("unknown kernel 'rows'"));
}

TEST_CASE("an include is found beside its file, then in the embedded library",
          "[core][templates]") {
  Folder folder;
  folder.write("inc/b.mlir", "b1\n// @include \"c.mlir\"\nb2\n");
  folder.write("inc/c.mlir", "c\n");
  std::string a = folder.write(
      "a.mlir", "a1\n  // @include \"inc/b.mlir\"  \n// @includes x\na2");
  CHECK(packjit::readTemplateFile(a) == "a1\nb1\nc\nb2\n// @includes x\na2");

  // Not beside it: the embedded copy, its own includes embedded too.
  std::string kernel =
      folder.write("gather_rows.mlir", source("gather_rows.mlir"));
  CHECK(packjit::readTemplateFile(kernel) ==
        packjit::kernelTemplate("gather_rows").text);
  // Beside it: that one, so a helper can be edited with its kernel.
  folder.write("lib/rows.mlir", "// edited rows\n");
  std::string edited = packjit::readTemplateFile(kernel);
  CHECK(count(edited, "// edited rows\n") == 1);
  CHECK(count(edited, "func.func") == 0);
}

TEST_CASE("a missing include, an include cycle and a bad include line are "
          "errors that say where",
          "[core][templates]") {
  Folder folder;
  std::string missing =
      folder.write("missing.mlir", "x\n// @include \"lib/nope.mlir\"\n");
  CHECK_THROWS_MATCHES(
      packjit::readTemplateFile(missing), packjit::Error,
      Catch::Message(
          missing +
          ":2: cannot find the included file 'lib/nope.mlir' (looked for " +
          (fs::path(missing).parent_path() / "lib/nope.mlir").string() +
          ", then kernels_src/lib/nope.mlir (embedded))"));

  std::string a = folder.write("a.mlir", "// @include \"sub/b.mlir\"\n");
  std::string b = folder.write("sub/b.mlir", "// @include \"../a.mlir\"\n");
  CHECK_THROWS_MATCHES(packjit::readTemplateFile(a), packjit::Error,
                       Catch::Message("kernel template: include cycle " + a +
                                      " -> " + b + " -> " + a));
  std::string self = folder.write("self.mlir", "// @include \"self.mlir\"\n");
  CHECK_THROWS_WITH(packjit::readTemplateFile(self),
                    Catch::Contains("include cycle " + self + " -> " + self));

  std::string unquoted =
      folder.write("bad.mlir", "// @include lib/rows.mlir\n");
  CHECK_THROWS_WITH(packjit::readTemplateFile(unquoted),
                    unquoted + ":1: expected '// @include \"PATH\"', got "
                               "'// @include lib/rows.mlir'");
  CHECK_THROWS_WITH(packjit::readTemplateFile(folder.write("x", "") + ".none"),
                    Catch::Contains("cannot read"));
}
