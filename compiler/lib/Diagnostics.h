// MLIR diagnostics -> the message of a packjit::Error. One handler is
// installed on the shared MLIRContext; it appends each diagnostic to the
// collector of the thread that is compiling, so parallel compiles keep their
// diagnostics apart.
#pragma once

#include "mlir/IR/MLIRContext.h"

#include <string>

namespace packjit::pipeline {

void installDiagnosticHandler(mlir::MLIRContext &context);

// Collects the calling thread's diagnostics for its lifetime (not nested).
class DiagnosticCollector {
public:
  DiagnosticCollector();
  ~DiagnosticCollector();
  DiagnosticCollector(const DiagnosticCollector &) = delete;
  DiagnosticCollector &operator=(const DiagnosticCollector &) = delete;

  void append(const std::string &line);
  // "\n"-joined, each "<location>: error: <message>" with its notes.
  const std::string &text() const { return text_; }

private:
  std::string text_;
};

} // namespace packjit::pipeline
