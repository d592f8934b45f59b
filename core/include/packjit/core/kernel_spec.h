// KernelSpec: the whole specialization key of a compiled kernel. The same key
// names the in-memory cache entry, the disk-cache file and the AOT bundle
// entry.
#pragma once

#include "packjit/core/dtype.h"

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace packjit {

struct Hash128 {
  uint64_t high = 0;
  uint64_t low = 0;
  std::string hex() const; // 32 lowercase hex digits
  friend bool operator==(const Hash128 &, const Hash128 &) = default;
};

// XXH3-128 of arbitrary bytes.
Hash128 hash128(std::string_view bytes);

// Made (and checked) by a KernelBinding (kernel_contract.h); parse() reads one
// back from a cache entry or bundle without the template.
struct KernelSpec {
  std::string kernel;        // template name, e.g. "mask_scan"
  std::string templateHash;  // hex XXH3-128 of the template's text
  std::vector<DType> dtypes; // bound to the template's dtype placeholders
  std::map<std::string, int64_t> constexprs; // sorted by name
  std::string arch;                          // "sm_90", "sm_90a", ...
  int ptxVersion = 0;                        // 78 = PTX ISA 7.8
  std::string compilerVersion;

  // One line, every field, fixed order:
  // kernel=mask_scan;template=<hex>;dtypes=i64;constexprs=BLOCK:256,SEQ:4096;
  // arch=sm_90;ptx=78;compiler=packjit-0.1.0+mlir-22.r2
  std::string canonical() const;
  // Inverse of canonical(); throws packjit::Error on malformed text.
  static KernelSpec parse(std::string_view canonicalText);

  Hash128 hash() const { return hash128(canonical()); }
  // "mask_scan-<32 hex>": file names of dumps and cache entries.
  std::string fileStem() const;

  friend bool operator==(const KernelSpec &, const KernelSpec &) = default;
};

} // namespace packjit
