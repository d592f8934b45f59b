#include "packjit/core/kernel_params.h"

#include "packjit/core/error.h"
#include "template_text.h"

namespace packjit {
namespace {

struct KindName {
  ParamKind kind;
  std::string_view name;
  std::string_view mlirType;
};

constexpr KindName kKinds[] = {
    {ParamKind::Pointer, "pointer", "!llvm.ptr<1>"},
    {ParamKind::I8, "i8", "i8"},
    {ParamKind::I16, "i16", "i16"},
    {ParamKind::I32, "i32", "i32"},
    {ParamKind::I64, "i64", "i64"},
    {ParamKind::F32, "f32", "f32"},
    {ParamKind::F64, "f64", "f64"},
};

// The position of the `)` closing the `(` at `open`, skipping nested
// brackets, quoted strings and `//` comments; npos when unbalanced.
size_t closingParen(std::string_view text, size_t open) {
  int depth = 0;
  for (size_t i = open; i < text.size(); ++i) {
    char c = text[i];
    if (c == '"') {
      for (++i; i < text.size() && text[i] != '"'; ++i)
        i += text[i] == '\\';
    } else if (c == '/' && i + 1 < text.size() && text[i + 1] == '/') {
      i = text.find('\n', i);
      if (i == std::string_view::npos)
        return i;
    } else if (c == '(' || c == '[' || c == '{' || c == '<') {
      ++depth;
    } else if (c == ')' || c == ']' || c == '}' || c == '>') {
      if (--depth == 0)
        return c == ')' ? i : std::string_view::npos;
    }
  }
  return std::string_view::npos;
}

// The arguments between the parentheses, split at top-level commas, with
// comments dropped.
std::vector<std::string> splitArguments(std::string_view list) {
  std::vector<std::string> args(1);
  int depth = 0;
  for (size_t i = 0; i < list.size(); ++i) {
    char c = list[i];
    if (c == '/' && i + 1 < list.size() && list[i + 1] == '/') {
      i = list.find('\n', i);
      if (i == std::string_view::npos)
        break;
      continue;
    }
    if (c == '"') {
      size_t end = list.find('"', i + 1);
      args.back() += list.substr(i, end - i + 1);
      if (end == std::string_view::npos)
        break;
      i = end;
      continue;
    }
    if (c == '(' || c == '[' || c == '{' || c == '<')
      ++depth;
    else if (c == ')' || c == ']' || c == '}' || c == '>')
      --depth;
    if (c == ',' && depth == 0)
      args.emplace_back();
    else
      args.back() += c;
  }
  if (trim(args.back()).empty())
    args.pop_back();
  return args;
}

// Finds "gpu.func @" outside comments.
size_t findGpuFunc(std::string_view text) {
  size_t pos = 0;
  while ((pos = text.find("gpu.func @", pos)) != std::string_view::npos) {
    size_t lineStart = text.rfind('\n', pos);
    lineStart = lineStart == std::string_view::npos ? 0 : lineStart + 1;
    if (text.substr(lineStart, pos - lineStart).find("//") ==
        std::string_view::npos)
      return pos;
    pos += 1;
  }
  return pos;
}

} // namespace

std::string_view paramKindName(ParamKind kind) {
  return kKinds[static_cast<size_t>(kind)].name;
}

KernelParams KernelParams::parse(std::string_view text) {
  size_t func = findGpuFunc(text);
  if (func == std::string_view::npos)
    throw Error("kernel template: no 'gpu.func @name(...)' found");
  size_t nameStart = func + std::string_view("gpu.func @").size();
  size_t open = text.find('(', nameStart);
  size_t close =
      open == std::string_view::npos ? open : closingParen(text, open);
  KernelParams result;
  result.entryName =
      std::string(trim(text.substr(nameStart, open - nameStart)));
  if (close == std::string_view::npos || !isIdentifier(result.entryName))
    throw Error("kernel template: malformed 'gpu.func @" + result.entryName +
                "(...)' argument list");
  const std::string where = "kernel template: gpu.func @" + result.entryName;
  for (const std::string &arg :
       splitArguments(text.substr(open + 1, close - open - 1))) {
    std::string_view item = trim(arg);
    size_t colon = item.find(':');
    if (!item.starts_with("%") || colon == std::string_view::npos)
      throw Error(where + ": expected '%name: type', got '" +
                  std::string(item) + "'");
    std::string_view rest = trim(item.substr(colon + 1));
    size_t brace = rest.find('{');
    std::string_view type = trim(rest.substr(0, brace));
    if (brace != std::string_view::npos &&
        rest.find("packjit.constexpr", brace) != std::string_view::npos)
      continue; // bound at compile time, not a PTX parameter
    std::string name(trim(item.substr(1, colon - 1)));
    const KindName *kind = nullptr;
    for (const KindName &candidate : kKinds)
      if (candidate.mlirType == type)
        kind = &candidate;
    if (!kind)
      throw Error(where + ": argument %" + name + " has type '" +
                  std::string(type) +
                  "', which a launch cannot pass (!llvm.ptr<1>, i8, i16, i32, "
                  "i64, f32, f64)");
    result.params.push_back({std::move(name), kind->kind});
  }
  return result;
}

std::string KernelParams::describe() const {
  std::string out;
  for (const KernelParam &param : params)
    out += (out.empty() ? "%" : ", %") + param.name + ": " +
           std::string(paramKindName(param.kind));
  return "(" + out + ")";
}

} // namespace packjit
