#include "packjit/core/kernel_signature.h"

#include "packjit/core/arch.h"
#include "packjit/core/error.h"
#include "packjit/core/kernel_templates.h"

#include <charconv>
#include <mutex>
#include <sstream>
#include <unordered_map>

namespace packjit {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

std::vector<std::string> words(std::string_view s) {
  std::vector<std::string> out;
  std::istringstream in{std::string(s)};
  for (std::string w; in >> w;)
    out.push_back(w);
  return out;
}

int64_t toInt(std::string_view text, std::string_view line) {
  int64_t value = 0;
  auto [end, ec] =
      std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size())
    throw Error("kernel template: '" + std::string(text) +
                "' is not an integer in '" + std::string(line) + "'");
  return value;
}

DTypeParameter parseDTypeLine(std::string_view line, std::string_view body) {
  size_t colon = body.find(':');
  if (colon == std::string_view::npos)
    throw Error("kernel template: expected '@dtype NAME: dtype...' in '" +
                std::string(line) + "'");
  DTypeParameter param{std::string(trim(body.substr(0, colon))), {}};
  for (const std::string &name : words(body.substr(colon + 1))) {
    std::optional<DType> dtype = parseDType(name);
    if (!dtype)
      throw Error("kernel template: unknown dtype '" + name + "' in '" +
                  std::string(line) + "'");
    param.allowed.push_back(*dtype);
  }
  if (param.name.empty() || param.allowed.empty())
    throw Error("kernel template: empty @dtype line '" + std::string(line) +
                "'");
  return param;
}

// NAME = DEFAULT [in MIN..MAX]
ConstexprParameter parseConstexprLine(std::string_view line,
                                      std::string_view body) {
  std::vector<std::string> w = words(body);
  if (!(w.size() == 3 || w.size() == 5) || w[1] != "=" ||
      (w.size() == 5 && w[3] != "in"))
    throw Error("kernel template: expected '@constexpr NAME = DEFAULT [in "
                "MIN..MAX]' in '" +
                std::string(line) + "'");
  ConstexprParameter param;
  param.name = w[0];
  param.defaultValue = toInt(w[2], line);
  if (w.size() == 5) {
    size_t dots = w[4].find("..");
    if (dots == std::string::npos)
      throw Error("kernel template: expected MIN..MAX in '" +
                  std::string(line) + "'");
    param.min = toInt(std::string_view(w[4]).substr(0, dots), line);
    param.max = toInt(std::string_view(w[4]).substr(dots + 2), line);
  }
  if (param.defaultValue < param.min || param.defaultValue > param.max)
    throw Error("kernel template: default out of range in '" +
                std::string(line) + "'");
  return param;
}

std::string dtypeList(const std::vector<DType> &dtypes) {
  std::string out;
  for (DType dtype : dtypes)
    out += (out.empty() ? "" : "|") + std::string(dtypeName(dtype));
  return out;
}

} // namespace

std::string KernelSignature::describe() const {
  std::string out;
  auto add = [&out](const std::string &item) {
    out += (out.empty() ? "" : " ") + item;
  };
  for (const DTypeParameter &param : dtypes)
    add(param.name + ":" + dtypeList(param.allowed));
  for (const ConstexprParameter &param : constexprs) {
    std::string item = param.name + "=" + std::to_string(param.defaultValue);
    if (param.min != INT64_MIN || param.max != INT64_MAX)
      item += "[" + std::to_string(param.min) + ".." +
              std::to_string(param.max) + "]";
    add(item);
  }
  return out;
}

KernelSignature parseKernelSignature(std::string_view text) {
  KernelSignature signature;
  // Only the leading comment block is the header.
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    std::string_view line = trim(text.substr(pos, end - pos));
    pos = end == std::string_view::npos ? text.size() : end + 1;
    if (line.empty())
      continue;
    if (!line.starts_with("//"))
      break;
    std::string_view body = trim(line.substr(2));
    if (body.starts_with("@dtype "))
      signature.dtypes.push_back(parseDTypeLine(line, body.substr(7)));
    else if (body.starts_with("@constexpr "))
      signature.constexprs.push_back(parseConstexprLine(line, body.substr(11)));
  }
  return signature;
}

const KernelSignature &kernelSignature(std::string_view kernel) {
  static std::mutex mutex;
  static std::unordered_map<std::string, KernelSignature> parsed;
  const KernelTemplate &tmpl = kernelTemplate(kernel);
  std::lock_guard lock(mutex);
  auto it = parsed.find(std::string(kernel));
  if (it == parsed.end())
    it = parsed.emplace(std::string(kernel), parseKernelSignature(tmpl.text))
             .first;
  return it->second;
}

KernelSpec makeKernelSpec(std::string_view kernel,
                          const std::vector<DType> &dtypes,
                          const std::map<std::string, int64_t> &overrides,
                          std::string_view arch,
                          std::optional<int> driverVersion) {
  const KernelSignature &signature = kernelSignature(kernel);
  std::string name(kernel);
  if (dtypes.size() != signature.dtypes.size())
    throw Error("kernel '" + name + "' takes " +
                std::to_string(signature.dtypes.size()) + " dtype(s), got " +
                std::to_string(dtypes.size()));
  for (size_t i = 0; i < dtypes.size(); ++i) {
    const DTypeParameter &param = signature.dtypes[i];
    bool allowed = false;
    for (DType dtype : param.allowed)
      allowed |= dtype == dtypes[i];
    if (!allowed)
      throw Error("kernel '" + name + "' does not support dtype '" +
                  std::string(dtypeName(dtypes[i])) + "' for " + param.name +
                  " (supported: " + dtypeList(param.allowed) + ")");
  }
  std::map<std::string, int64_t> constexprs;
  for (const ConstexprParameter &param : signature.constexprs)
    constexprs[param.name] = param.defaultValue;
  for (const auto &[key, value] : overrides) {
    const ConstexprParameter *param = nullptr;
    for (const ConstexprParameter &p : signature.constexprs)
      if (p.name == key)
        param = &p;
    if (!param)
      throw Error("kernel '" + name + "' has no constexpr '" + key +
                  "' (parameters: " + signature.describe() + ")");
    if (value < param->min || value > param->max)
      throw Error("constexpr " + key + "=" + std::to_string(value) +
                  " of kernel '" + name + "' is out of range " +
                  std::to_string(param->min) + ".." +
                  std::to_string(param->max));
    constexprs[key] = value;
  }
  int ptx = choosePtxVersion(arch, driverVersion);
  return KernelSpec::make(kernel, dtypes, std::move(constexprs), arch, ptx);
}

} // namespace packjit
