#include "Diagnostics.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Location.h"
#include "llvm/Support/raw_ostream.h"

namespace packjit::pipeline {
namespace {

thread_local DiagnosticCollector *currentCollector = nullptr;

const char *severityName(mlir::DiagnosticSeverity severity) {
  switch (severity) {
  case mlir::DiagnosticSeverity::Error:
    return "error";
  case mlir::DiagnosticSeverity::Warning:
    return "warning";
  case mlir::DiagnosticSeverity::Note:
    return "note";
  case mlir::DiagnosticSeverity::Remark:
    return "remark";
  }
  return "diagnostic";
}

void format(llvm::raw_ostream &os, mlir::Diagnostic &diag) {
  os << diag.getLocation() << ": " << severityName(diag.getSeverity()) << ": "
     << diag.str();
  for (mlir::Diagnostic &note : diag.getNotes()) {
    os << "\n  ";
    format(os, note);
  }
}

} // namespace

void installDiagnosticHandler(mlir::MLIRContext &context) {
  context.getDiagEngine().registerHandler([](mlir::Diagnostic &diag) {
    if (!currentCollector)
      return mlir::success(); // nobody compiling on this thread: drop it
    std::string line;
    llvm::raw_string_ostream os(line);
    format(os, diag);
    currentCollector->append(line);
    return mlir::success();
  });
}

DiagnosticCollector::DiagnosticCollector() { currentCollector = this; }
DiagnosticCollector::~DiagnosticCollector() { currentCollector = nullptr; }

void DiagnosticCollector::append(const std::string &line) {
  text_ += (text_.empty() ? "" : "\n") + line;
}

} // namespace packjit::pipeline
