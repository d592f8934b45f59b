// Parsed templates, so a new specialization of a known template clones a
// module instead of parsing text.
#pragma once

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace packjit::pipeline {

// Clones read the cached module and never change it, so they run
// concurrently.
class TemplateCache {
public:
  // Bounded for compileText's arbitrary texts; modules in use stay alive.
  static constexpr size_t kMaxTemplates = 64;

  // A fresh copy of the module of `text`, parsed on its first use (unverified:
  // verification waits until placeholders are bound); null when it does not
  // parse (the parser's diagnostics say why). `sourceName` is the file name
  // of its locations.
  mlir::OwningOpRef<mlir::ModuleOp> instantiate(mlir::MLIRContext &context,
                                                std::string_view text,
                                                const std::string &sourceName);

private:
  using SharedModule = std::shared_ptr<mlir::OwningOpRef<mlir::ModuleOp>>;
  SharedModule find(const std::string &key);
  void insert(const std::string &key, SharedModule module);

  std::mutex mutex_;
  std::unordered_map<std::string, SharedModule> modules_;
};

} // namespace packjit::pipeline
