#include "packjit/core/template_header.h"

#include "packjit/core/arch.h"
#include "packjit/core/error.h"
#include "template_text.h"

#include <algorithm>
#include <charconv>

namespace packjit {
namespace {

int64_t toInt(std::string_view text, std::string_view line) {
  int64_t value = 0;
  auto [end, ec] =
      std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size())
    throw Error("kernel template: '" + std::string(text) +
                "' is not an integer in '" + std::string(line) + "'");
  return value;
}

bool isInteger(std::string_view text) {
  int64_t value = 0;
  auto [end, ec] =
      std::from_chars(text.data(), text.data() + text.size(), value);
  return !text.empty() && ec == std::errc() && end == text.data() + text.size();
}

DTypeParameter parseDTypeLine(std::string_view line, std::string_view body) {
  size_t colon = body.find(':');
  if (colon == std::string_view::npos)
    throw Error("kernel template: expected '@dtype NAME: dtype...' in '" +
                std::string(line) + "'");
  DTypeParameter param{std::string(trim(body.substr(0, colon))), {}};
  for (std::string_view name : words(body.substr(colon + 1))) {
    std::optional<DType> dtype = parseDType(name);
    if (!dtype)
      throw Error("kernel template: unknown dtype '" + std::string(name) +
                  "' in '" + std::string(line) + "'");
    param.allowed.push_back(*dtype);
  }
  if (!isIdentifier(param.name) || param.allowed.empty())
    throw Error("kernel template: expected '@dtype NAME: dtype...' in '" +
                std::string(line) + "'");
  return param;
}

// NAME = DEFAULT [in MIN..MAX] [multiple_of N] [power_of_2] [divides NAME]
// [one_of A B ...], the constraints in any order.
ConstexprParameter parseConstexprLine(std::string_view line,
                                      std::string_view body) {
  std::vector<std::string_view> w = words(body);
  if (w.size() < 3 || w[1] != "=" || !isIdentifier(w[0]))
    throw Error("kernel template: expected '@constexpr NAME = DEFAULT "
                "[constraints]' in '" +
                std::string(line) + "'");
  ConstexprParameter param;
  param.name = std::string(w[0]);
  param.defaultValue = toInt(w[2], line);
  param.declaration = std::string(trim(body));
  auto operand = [&](size_t i) {
    if (i >= w.size())
      throw Error("kernel template: '" + std::string(w[i - 1]) +
                  "' needs an operand in '" + std::string(line) + "'");
    return w[i];
  };
  for (size_t i = 3; i < w.size(); ++i) {
    std::string_view clause = w[i];
    if (clause == "in") {
      std::string_view range = operand(++i);
      size_t dots = range.find("..");
      if (dots == std::string_view::npos)
        throw Error("kernel template: expected MIN..MAX after 'in' in '" +
                    std::string(line) + "'");
      param.min = toInt(range.substr(0, dots), line);
      param.max = toInt(range.substr(dots + 2), line);
    } else if (clause == "multiple_of") {
      param.multipleOf = toInt(operand(++i), line);
      if (param.multipleOf <= 0)
        throw Error("kernel template: multiple_of needs a positive integer "
                    "in '" +
                    std::string(line) + "'");
    } else if (clause == "power_of_2") {
      param.powerOf2 = true;
    } else if (clause == "divides") {
      std::string_view other = operand(++i);
      if (!isIdentifier(other) || other == param.name)
        throw Error("kernel template: 'divides' needs another constexpr's "
                    "name in '" +
                    std::string(line) + "'");
      param.divides = std::string(other);
    } else if (clause == "one_of") {
      operand(i + 1);
      while (i + 1 < w.size() && isInteger(w[i + 1]))
        param.oneOf.push_back(toInt(w[++i], line));
      if (param.oneOf.empty())
        throw Error("kernel template: 'one_of' needs integers in '" +
                    std::string(line) + "'");
    } else {
      throw Error("kernel template: unknown constraint '" +
                  std::string(clause) +
                  "' (known: in, multiple_of, power_of_2, divides, one_of) "
                  "in '" +
                  std::string(line) + "'");
    }
  }
  return param;
}

std::string dtypeList(const std::vector<DType> &dtypes) {
  std::string out;
  for (DType dtype : dtypes) {
    if (!out.empty())
      out += '|';
    out += dtypeName(dtype);
  }
  return out;
}

// Why `value` breaks `param`'s constraints given the other constexprs'
// `values` ("is not a power of 2"); empty when it meets them all.
std::string violation(const ConstexprParameter &param, int64_t value,
                      const std::map<std::string, int64_t> &values) {
  if (value < param.min || value > param.max)
    return "is out of range " + std::to_string(param.min) + ".." +
           std::to_string(param.max);
  if (param.multipleOf && value % param.multipleOf != 0)
    return "is not a multiple of " + std::to_string(param.multipleOf);
  if (param.powerOf2 && (value <= 0 || (value & (value - 1)) != 0))
    return "is not a power of 2";
  if (!param.divides.empty()) {
    auto other = values.find(param.divides);
    // value -1 divides everything; INT64_MIN % -1 would trap.
    if (other != values.end() && value != -1 &&
        (value == 0 || other->second % value != 0))
      return "does not divide " + param.divides + "=" +
             std::to_string(other->second);
  }
  if (!param.oneOf.empty() && std::find(param.oneOf.begin(), param.oneOf.end(),
                                        value) == param.oneOf.end()) {
    std::string list;
    for (int64_t allowed : param.oneOf)
      list += (list.empty() ? "" : ", ") + std::to_string(allowed);
    return "is not one of " + list;
  }
  return "";
}

std::string describeConstraints(const ConstexprParameter &param) {
  std::vector<std::string> items;
  if (param.min != std::numeric_limits<int64_t>::min() ||
      param.max != std::numeric_limits<int64_t>::max())
    items.push_back(std::to_string(param.min) + ".." +
                    std::to_string(param.max));
  if (param.multipleOf)
    items.push_back("multiple_of=" + std::to_string(param.multipleOf));
  if (param.powerOf2)
    items.push_back("power_of_2");
  if (!param.divides.empty())
    items.push_back("divides=" + param.divides);
  if (!param.oneOf.empty()) {
    std::string list;
    for (int64_t allowed : param.oneOf)
      list += (list.empty() ? "" : "|") + std::to_string(allowed);
    items.push_back("one_of=" + list);
  }
  std::string out;
  for (const std::string &item : items)
    out += (out.empty() ? "[" : ",") + item;
  return out.empty() ? out : out + "]";
}

} // namespace

TemplateHeader TemplateHeader::parse(std::string_view text) {
  TemplateHeader header;
  for (std::string_view line : headerLines(text)) {
    std::string_view body = trim(line.substr(2));
    if (body.starts_with("@dtype ")) {
      DTypeParameter param = parseDTypeLine(line, body.substr(7));
      // A second T could never be bound: bindings name placeholders.
      for (const DTypeParameter &other : header.dtypes)
        if (other.name == param.name)
          throw Error("kernel template: dtype placeholder " + param.name +
                      " is declared twice");
      header.dtypes.push_back(std::move(param));
    } else if (body.starts_with("@constexpr ")) {
      ConstexprParameter param = parseConstexprLine(line, body.substr(11));
      if (header.find(param.name))
        throw Error("kernel template: constexpr " + param.name +
                    " is declared twice");
      header.constexprs.push_back(std::move(param));
    }
  }
  std::map<std::string, int64_t> defaults;
  for (const ConstexprParameter &param : header.constexprs)
    defaults[param.name] = param.defaultValue;
  for (const ConstexprParameter &param : header.constexprs) {
    if (!param.divides.empty() && !header.find(param.divides))
      throw Error("kernel template: constexpr " + param.name +
                  " divides an undeclared constexpr '" + param.divides +
                  "' ('@constexpr " + param.declaration + "')");
    std::string why = violation(param, param.defaultValue, defaults);
    if (!why.empty())
      throw Error("kernel template: the default " + param.name + "=" +
                  std::to_string(param.defaultValue) + " " + why +
                  " ('@constexpr " + param.declaration + "')");
  }
  return header;
}

const ConstexprParameter *TemplateHeader::find(std::string_view name) const {
  for (const ConstexprParameter &param : constexprs)
    if (param.name == name)
      return &param;
  return nullptr;
}

std::string TemplateHeader::describe() const {
  std::string out;
  auto add = [&out](const std::string &item) {
    out += (out.empty() ? "" : " ") + item;
  };
  for (const DTypeParameter &param : dtypes)
    add(param.name + ":" + dtypeList(param.allowed));
  for (const ConstexprParameter &param : constexprs)
    add(param.name + "=" + std::to_string(param.defaultValue) +
        describeConstraints(param));
  return out;
}

void TemplateHeader::check(const KernelSpec &spec) const {
  const std::string kernel = "kernel '" + spec.kernel + "'";
  if (spec.dtypes.size() != dtypes.size()) {
    std::string names;
    for (const DTypeParameter &param : dtypes)
      names += (names.empty() ? "" : ", ") + param.name;
    throw Error(kernel + " takes " + std::to_string(dtypes.size()) +
                " dtype(s) (" + names + "), got " +
                std::to_string(spec.dtypes.size()));
  }
  for (size_t i = 0; i < dtypes.size(); ++i) {
    const DTypeParameter &param = dtypes[i];
    if (std::find(param.allowed.begin(), param.allowed.end(), spec.dtypes[i]) ==
        param.allowed.end())
      throw Error(kernel + " does not support dtype '" +
                  std::string(dtypeName(spec.dtypes[i])) + "' for " +
                  param.name + " (supported: " + dtypeList(param.allowed) +
                  ")");
  }
  for (const auto &[name, value] : spec.constexprs)
    if (!find(name))
      throw Error(kernel + " has no constexpr '" + name +
                  "' (parameters: " + describe() + ")");
  for (const ConstexprParameter &param : constexprs) {
    auto it = spec.constexprs.find(param.name);
    if (it == spec.constexprs.end())
      throw Error(kernel + ": the spec gives no value for constexpr " +
                  param.name);
    std::string why = violation(param, it->second, spec.constexprs);
    if (!why.empty())
      throw Error("constexpr " + param.name + "=" + std::to_string(it->second) +
                  " of " + kernel + " " + why +
                  " (declared: " + param.declaration + ")");
  }
  const ArchInfo &arch = archInfo(spec.arch); // throws for unsupported archs
  if (spec.ptxVersion < arch.minPtxVersion)
    throw Error("PTX ISA " + ptxVersionString(spec.ptxVersion) +
                " is too old for " + spec.arch + " (needs " +
                ptxVersionString(arch.minPtxVersion) + ")");
}

} // namespace packjit
