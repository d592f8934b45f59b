#include "packjit/runtime/compiler_library.h"

#include "packjit/compiler/c_api.h"
#include "packjit/core/error.h"

#include <cstdlib>
#include <dlfcn.h>
#include <string>
#include <vector>

namespace packjit::runtime {
namespace {

constexpr const char *kCompilerSoname = "libpackjit_compiler.so";

struct CompilerEntryPoints {
  decltype(&packjit_compiler_abi_version) abiVersion = nullptr;
  decltype(&packjit_compiler_version) version = nullptr;
  decltype(&packjit_compiler_compile) compile = nullptr;
  decltype(&packjit_compiler_free_output) freeOutput = nullptr;
  std::string error; // empty when loaded
};

#ifndef PACKJIT_RUNTIME_ONLY
std::string directoryOfThisLibrary() {
  Dl_info info;
  if (dladdr(reinterpret_cast<void *>(&compilerAvailable), &info) == 0 ||
      !info.dli_fname)
    return "";
  std::string path = info.dli_fname;
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

bool bind(void *library, CompilerEntryPoints &entry) {
  entry.abiVersion = reinterpret_cast<decltype(entry.abiVersion)>(
      dlsym(library, "packjit_compiler_abi_version"));
  entry.version = reinterpret_cast<decltype(entry.version)>(
      dlsym(library, "packjit_compiler_version"));
  entry.compile = reinterpret_cast<decltype(entry.compile)>(
      dlsym(library, "packjit_compiler_compile"));
  entry.freeOutput = reinterpret_cast<decltype(entry.freeOutput)>(
      dlsym(library, "packjit_compiler_free_output"));
  return entry.abiVersion && entry.version && entry.compile && entry.freeOutput;
}

CompilerEntryPoints loadCompiler() {
  CompilerEntryPoints entry;
  std::vector<std::string> candidates;
  if (const char *path = std::getenv("PACKJIT_COMPILER_LIBRARY");
      path && *path) {
    candidates.push_back(path); // explicit: the only place looked at
  } else {
    if (std::string dir = directoryOfThisLibrary(); !dir.empty())
      candidates.push_back(dir + "/" + kCompilerSoname);
    candidates.push_back(kCompilerSoname);
  }
  std::string tried;
  for (const std::string &candidate : candidates) {
    void *library = dlopen(candidate.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!library) {
      const char *why = dlerror();
      tried += "\n  " + candidate + ": " + (why ? why : "not found");
      continue;
    }
    if (!bind(library, entry)) {
      tried +=
          "\n  " + candidate + ": lacks the packjit_compiler_* entry points";
      continue;
    }
    if (entry.abiVersion() != PACKJIT_COMPILER_ABI_VERSION) {
      tried += "\n  " + candidate + ": compiler ABI version " +
               std::to_string(entry.abiVersion()) + ", runtime expects " +
               std::to_string(PACKJIT_COMPILER_ABI_VERSION);
      continue;
    }
    return entry;
  }
  entry.error = "no compiler library could be loaded; tried:" + tried;
  return entry;
}
#endif

const CompilerEntryPoints &compiler() {
#ifdef PACKJIT_RUNTIME_ONLY
  static const CompilerEntryPoints entry{
      nullptr, nullptr, nullptr, nullptr,
      "this is a runtime-only build of packjit (PACKJIT_RUNTIME_ONLY): it has "
      "no compiler"};
#else
  static const CompilerEntryPoints entry = loadCompiler();
#endif
  return entry;
}

} // namespace

bool compilerAvailable(std::string *why) {
  const CompilerEntryPoints &entry = compiler();
  if (why)
    *why = entry.error;
  return entry.error.empty();
}

KernelImage compileWithCompilerLibrary(const KernelSpec &spec,
                                       std::string_view templateText) {
  const CompilerEntryPoints &entry = compiler();
  if (!entry.error.empty())
    throw Error(entry.error);
  if (spec.compilerVersion != entry.version())
    throw Error("kernel spec '" + spec.canonical() + "' names compiler '" +
                spec.compilerVersion + "', but the loaded compiler is '" +
                entry.version() + "'");
  PackjitCompileOutput output{};
  const std::string text(templateText); // the C ABI wants it NUL-terminated
  int rc =
      entry.compile(spec.canonical().c_str(), text.c_str(), nullptr, &output);
  if (rc != 0 || !output.ptx) {
    std::string message = output.error ? output.error : "unknown error";
    entry.freeOutput(&output);
    throw Error("compiling '" + spec.canonical() + "' failed: " + message);
  }
  KernelImage image;
  image.ptx.assign(output.ptx, output.ptx_size);
  image.entryName = output.entry_name ? output.entry_name : "";
  entry.freeOutput(&output);
  return image;
}

} // namespace packjit::runtime
