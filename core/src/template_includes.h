// Include lines in kernel templates (private to packjit_core):
//   // @include "lib/rows.mlir"
// is replaced by that file's text, its own include lines expanded.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace packjit {

// One file of kernels_src/ as written, named by its path there
// ("mask_scan.mlir", "lib/rows.mlir").
struct TemplateSource {
  std::string_view path;
  std::string_view text;
};

// Defined in the generated embedded_templates.cpp (cmake/EmbedTemplates.cmake).
const std::vector<TemplateSource> &embeddedTemplateSources();

// A template file: on disk (path as given or found), or embedded (path
// relative to kernels_src/). The same path names the same file.
struct TemplateFile {
  std::string path;
  std::string text;
  bool embedded = false;

  std::string describe() const;
};

// Finds the file that `includer` names as `target`; nullopt when there is
// none. Appends where it looked to `tried`, for the message.
using IncludeResolver = std::function<std::optional<TemplateFile>(
    const TemplateFile &includer, const std::string &target,
    std::string &tried)>;

// `file`'s text with its include lines expanded. Throws packjit::Error for a
// malformed include line, a file that cannot be found, or an include cycle.
std::string expandIncludes(const TemplateFile &file,
                           const IncludeResolver &resolve);

// The embedded file at `target` relative to the kernels_src/ folder
// `folder` ("" for kernels_src/ itself).
std::optional<TemplateFile> findEmbedded(const std::string &folder,
                                         const std::string &target,
                                         std::string &tried);

} // namespace packjit
