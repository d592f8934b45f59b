#include "packjit/core/kernel_templates.h"

#include "packjit/core/error.h"
#include "packjit/core/kernel_spec.h"
#include "template_includes.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace packjit {
namespace {

// Embedded files include embedded files only.
std::optional<TemplateFile> findEmbeddedInclude(const TemplateFile &includer,
                                                const std::string &target,
                                                std::string &tried) {
  return findEmbedded(
      std::filesystem::path(includer.path).parent_path().generic_string(),
      target, tried);
}

std::optional<std::string> readFile(const std::filesystem::path &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// A file on disk includes the file next to it, else the embedded one.
std::optional<TemplateFile> findInclude(const TemplateFile &includer,
                                        const std::string &target,
                                        std::string &tried) {
  if (includer.embedded)
    return findEmbeddedInclude(includer, target, tried);
  std::filesystem::path path =
      (std::filesystem::path(includer.path).parent_path() / target)
          .lexically_normal();
  tried = path.generic_string();
  if (std::optional<std::string> text = readFile(path))
    return TemplateFile{path.generic_string(), std::move(*text), false};
  return findEmbedded("", target, tried);
}

struct ExpandedTemplates {
  std::vector<std::string> names, texts;
  std::vector<KernelTemplate> kernels;
};

ExpandedTemplates expandEmbedded() {
  ExpandedTemplates expanded;
  for (const TemplateSource &source : embeddedTemplateSources()) {
    std::filesystem::path path(source.path);
    if (path.has_parent_path())
      continue; // an included file
    expanded.names.push_back(path.stem().string());
    expanded.texts.push_back(expandIncludes(
        {std::string(source.path), std::string(source.text), true},
        findEmbeddedInclude));
  }
  for (size_t i = 0; i < expanded.names.size(); ++i)
    expanded.kernels.push_back({expanded.names[i], expanded.texts[i]});
  return expanded;
}

} // namespace

const std::vector<KernelTemplate> &kernelTemplates() {
  static const ExpandedTemplates expanded = expandEmbedded();
  return expanded.kernels;
}

const KernelTemplate &kernelTemplate(std::string_view name) {
  for (const KernelTemplate &kernel : kernelTemplates())
    if (kernel.name == name)
      return kernel;
  std::string known;
  for (const KernelTemplate &kernel : kernelTemplates())
    known += (known.empty() ? "" : ", ") + std::string(kernel.name);
  throw Error("unknown kernel '" + std::string(name) + "' (known: " + known +
              ")");
}

std::string templateHash(const KernelTemplate &kernel) {
  return hash128(kernel.text).hex();
}

std::string readTemplateFile(const std::string &path) {
  std::optional<std::string> text = readFile(path);
  if (!text)
    throw Error("cannot read '" + path + "'");
  return expandIncludes({path, std::move(*text), false}, findInclude);
}

} // namespace packjit
