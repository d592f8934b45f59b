#include "TemplateCache.h"

#include "Passes.h"

#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"

namespace packjit::pipeline {

namespace {

// The helpers are inlined once per template: inlining depends on neither
// the constexprs nor the dtypes (the placeholders are types like any
// other), and it was a fifth of the specialized stage of mask_scan.
mlir::LogicalResult inlineHelpers(mlir::MLIRContext &context,
                                  mlir::ModuleOp module) {
  mlir::PassManager pm(&context);
  pm.enableVerifier(false); // placeholders are not valid operands yet
  pm.addPass(createPackjitInlineHelpers());
  return pm.run(module);
}

} // namespace

mlir::OwningOpRef<mlir::ModuleOp>
TemplateCache::instantiate(mlir::MLIRContext &context, std::string_view text,
                           const std::string &sourceName) {
  std::string key = sourceName + '\0' + std::string(text);
  SharedModule parsed = find(key);
  if (!parsed) {
    mlir::ParserConfig config(&context, /*verifyAfterParse=*/false);
    mlir::OwningOpRef<mlir::ModuleOp> module =
        mlir::parseSourceString<mlir::ModuleOp>(
            llvm::StringRef(text.data(), text.size()), config, sourceName);
    if (!module || mlir::failed(inlineHelpers(context, *module)))
      return nullptr;
    parsed =
        std::make_shared<mlir::OwningOpRef<mlir::ModuleOp>>(std::move(module));
    insert(key, parsed);
  }
  return mlir::OwningOpRef<mlir::ModuleOp>(
      mlir::cast<mlir::ModuleOp>((**parsed)->clone()));
}

TemplateCache::SharedModule TemplateCache::find(const std::string &key) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = modules_.find(key);
  return it == modules_.end() ? nullptr : it->second;
}

void TemplateCache::insert(const std::string &key, SharedModule module) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (modules_.size() >= kMaxTemplates)
    modules_.clear();
  modules_.emplace(key, std::move(module));
}

} // namespace packjit::pipeline
