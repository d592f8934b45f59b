/* The stable C entry points of libpackjit_compiler.so.
 *
 * The runtime loads the compiler with dlopen only when a kernel is missing
 * from every cache, so a warm process never maps LLVM, and a runtime-only
 * build (no compiler library at all) still runs from AOT bundles. A C ABI
 * keeps that boundary independent of the C++ standard library's ABI. */
#ifndef PACKJIT_COMPILER_C_API_H
#define PACKJIT_COMPILER_C_API_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PACKJIT_COMPILER_ABI_VERSION 2

typedef struct PackjitCompileOutput {
  char *ptx;        /* NUL-terminated PTX text */
  size_t ptx_size;  /* strlen(ptx) */
  char *entry_name; /* the kernel's function name in the PTX */
  char *error;      /* set (and the rest NULL) when compilation failed */
} PackjitCompileOutput;

/* Returns PACKJIT_COMPILER_ABI_VERSION of the library. */
int packjit_compiler_abi_version(void);
/* packjit::compilerVersion() of the library, e.g. "packjit-0.1.0+mlir-22.r2".
 */
const char *packjit_compiler_version(void);
/* Compiles the KernelSpec given in its canonical text form. Thread-safe.
 * template_text is the kernel template the caller keyed the spec with (its
 * XXH3-128 must equal the spec's template hash): the runtime passes its
 * contract's text (KernelContract::templateText), so any template compiles,
 * embedded or not, and a prebuilt compiler compiles templates newer than
 * itself. NULL: the compiler's own embedded template of that name.
 * dump_dir may be NULL; otherwise every stage is written there (as
 * PACKJIT_DUMP does). Returns 0 on success; on failure returns non-zero and
 * sets out->error to a message with MLIR's diagnostics. */
int packjit_compiler_compile(const char *spec_canonical,
                             const char *template_text, const char *dump_dir,
                             PackjitCompileOutput *out);
/* Frees what packjit_compiler_compile put in *out. */
void packjit_compiler_free_output(PackjitCompileOutput *out);

#ifdef __cplusplus
}
#endif

#endif /* PACKJIT_COMPILER_C_API_H */
