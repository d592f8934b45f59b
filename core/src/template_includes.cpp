#include "template_includes.h"

#include "template_text.h"

#include "packjit/core/error.h"

#include <algorithm>
#include <filesystem>

namespace packjit {
namespace {

constexpr std::string_view kDirective = "// @include";

// The quoted path of an include line; nullopt when `line` is not one.
std::optional<std::string> includeTarget(std::string_view line,
                                         const std::string &where) {
  std::string_view rest = trim(line);
  if (!rest.starts_with(kDirective))
    return std::nullopt;
  rest.remove_prefix(kDirective.size());
  if (!rest.empty() && rest.front() != ' ' && rest.front() != '\t')
    return std::nullopt; // "// @includes": an ordinary comment
  rest = trim(rest);
  if (rest.size() < 3 || rest.front() != '"' || rest.back() != '"')
    throw Error(where + ": expected '// @include \"PATH\"', got '" +
                std::string(trim(line)) + "'");
  return std::string(rest.substr(1, rest.size() - 2));
}

bool sameFile(const TemplateFile &a, const TemplateFile &b) {
  return a.embedded == b.embedded && a.path == b.path;
}

void expandInto(const TemplateFile &file, const IncludeResolver &resolve,
                std::vector<const TemplateFile *> &stack, std::string &out) {
  auto open = [&file](const TemplateFile *f) { return sameFile(*f, file); };
  if (std::find_if(stack.begin(), stack.end(), open) != stack.end()) {
    std::string chain;
    for (const TemplateFile *including : stack)
      chain += including->describe() + " -> ";
    throw Error("kernel template: include cycle " + chain + file.describe());
  }
  stack.push_back(&file);
  std::string_view text = file.text;
  for (int lineNumber = 1; !text.empty(); ++lineNumber) {
    size_t end = text.find('\n');
    std::string_view line =
        text.substr(0, end == std::string_view::npos ? text.size() : end + 1);
    text.remove_prefix(line.size());
    // The place is named for errors only; every line passes here.
    if (line.find("@include") == std::string_view::npos) {
      out += line;
      continue;
    }
    std::string where = file.describe() + ":" + std::to_string(lineNumber);
    std::optional<std::string> target = includeTarget(line, where);
    if (!target) {
      out += line;
      continue;
    }
    std::string tried;
    std::optional<TemplateFile> included = resolve(file, *target, tried);
    if (!included)
      throw Error(where + ": cannot find the included file '" + *target +
                  "' (looked for " + tried + ")");
    expandInto(*included, resolve, stack, out);
  }
  stack.pop_back();
}

} // namespace

std::string TemplateFile::describe() const {
  return embedded ? "kernels_src/" + path + " (embedded)" : path;
}

std::string expandIncludes(const TemplateFile &file,
                           const IncludeResolver &resolve) {
  std::vector<const TemplateFile *> stack;
  std::string out;
  out.reserve(file.text.size());
  expandInto(file, resolve, stack, out);
  return out;
}

std::optional<TemplateFile> findEmbedded(const std::string &folder,
                                         const std::string &target,
                                         std::string &tried) {
  std::string path = (std::filesystem::path(folder) / target)
                         .lexically_normal()
                         .generic_string();
  tried += (tried.empty() ? "" : ", then ") +
           TemplateFile{path, "", true}.describe();
  for (const TemplateSource &source : embeddedTemplateSources())
    if (source.path == path)
      return TemplateFile{path, std::string(source.text), true};
  return std::nullopt;
}

} // namespace packjit
