// The C ABI of c_api.h over packjit::compiler::Compiler::shared().
#include "packjit/compiler/c_api.h"

#include "packjit/compiler/compiler.h"
#include "packjit/core/error.h"
#include "packjit/core/kernel_spec.h"
#include "packjit/core/version.h"

#include <cstdlib>
#include <cstring>
#include <exception>

namespace {

char *copyString(const std::string &text) {
  char *copy = static_cast<char *>(std::malloc(text.size() + 1));
  if (copy)
    std::memcpy(copy, text.c_str(), text.size() + 1);
  return copy;
}

} // namespace

extern "C" {

int packjit_compiler_abi_version(void) { return PACKJIT_COMPILER_ABI_VERSION; }

const char *packjit_compiler_version(void) {
  return packjit::compilerVersion().data(); // a NUL-terminated static string
}

int packjit_compiler_compile(const char *spec_canonical,
                             const char *template_text, const char *dump_dir,
                             PackjitCompileOutput *out) {
  if (!out)
    return 1;
  *out = PackjitCompileOutput{};
  try {
    if (!spec_canonical)
      throw packjit::Error("packjit_compiler_compile: spec_canonical is NULL");
    packjit::KernelSpec spec = packjit::KernelSpec::parse(spec_canonical);
    packjit::compiler::CompileOptions options;
    if (dump_dir)
      options.dumpDir = dump_dir;
    packjit::compiler::Compiler &compiler =
        packjit::compiler::Compiler::shared();
    packjit::compiler::CompileResult result;
    if (template_text) {
      if (packjit::hash128(template_text).hex() != spec.templateHash)
        throw packjit::Error("the template text given for '" + spec.kernel +
                             "' does not hash to the spec's template " +
                             spec.templateHash);
      if (spec.compilerVersion != packjit::compilerVersion())
        throw packjit::Error("kernel spec names compiler '" +
                             spec.compilerVersion + "', this is '" +
                             std::string(packjit::compilerVersion()) + "'");
      result = compiler.compileText(template_text, spec, options);
    } else {
      result = compiler.compile(spec, options);
    }
    out->ptx = copyString(result.ptx);
    out->ptx_size = result.ptx.size();
    out->entry_name = copyString(result.entryName);
    if (!out->ptx || !out->entry_name)
      throw std::bad_alloc();
    return 0;
  } catch (const std::exception &e) {
    packjit_compiler_free_output(out);
    out->error = copyString(e.what());
    return 1;
  }
}

void packjit_compiler_free_output(PackjitCompileOutput *out) {
  if (!out)
    return;
  std::free(out->ptx);
  std::free(out->entry_name);
  std::free(out->error);
  *out = PackjitCompileOutput{};
}

} // extern "C"
