// packjit's one error type: every failure the library reports to a caller
// (bad input, a compile failure with MLIR's diagnostics, a driver error) is a
// packjit::Error carrying a complete, human-readable message.
#pragma once

#include <stdexcept>
#include <string>

namespace packjit {

class Error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

} // namespace packjit
