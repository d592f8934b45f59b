// The CUDA toolkit's PTX assembler, run as a subprocess: `packjit aot` puts
// its cubin for each entry's arch in the bundle, so that a host loads the
// kernel without the driver's PTX JIT (hundreds of milliseconds per kernel).
#pragma once

#include <optional>
#include <string>

namespace packjit::runtime {

struct Ptxas {
  std::string path;
  std::string version; // "13.0.88", from `ptxas --version`

  // The cubin of `ptx` for `arch` ("sm_90"); `what` names the PTX in
  // errors. Throws packjit::Error with ptxas's messages. Thread-safe.
  std::string assemble(const std::string &ptx, const std::string &arch,
                       const std::string &what) const;
  // ptxasCubinTarget(arch, version).
  std::string cubinTarget(const std::string &arch) const;
};

// Looks only at `explicitPath` when it is given, else only at $PACKJIT_PTXAS
// when that is set; otherwise at ptxas on $PATH, $CUDA_HOME/bin,
// $CUDA_PATH/bin and /usr/local/cuda/bin, in that order. A candidate counts
// when it runs and prints its version. nullopt with `why` naming each place
// looked at and what failed there.
std::optional<Ptxas> findPtxas(const std::string &explicitPath,
                               std::string *why);

} // namespace packjit::runtime
