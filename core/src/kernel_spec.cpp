#include "packjit/core/kernel_spec.h"

#include "packjit/core/error.h"
#include "packjit/core/version.h"
#include "template_text.h"

#include <charconv>
#include <cstdio>
#include <limits>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace packjit {
namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  if (s.empty())
    return parts;
  size_t start = 0;
  while (true) {
    size_t end = s.find(sep, start);
    parts.push_back(s.substr(start, end - start));
    if (end == std::string_view::npos)
      return parts;
    start = end + 1;
  }
}

int64_t parseInt(std::string_view text, std::string_view what) {
  int64_t value = 0;
  auto [end, ec] =
      std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size())
    throw Error("malformed KernelSpec: " + std::string(what) + " '" +
                std::string(text) + "' is not an integer");
  return value;
}

} // namespace

std::string Hash128::hex() const {
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx",
                static_cast<unsigned long long>(high),
                static_cast<unsigned long long>(low));
  return buf;
}

Hash128 hash128(std::string_view bytes) {
  XXH128_hash_t h = XXH3_128bits(bytes.data(), bytes.size());
  return {h.high64, h.low64};
}

std::string KernelSpec::canonical() const {
  std::string out =
      "kernel=" + kernel + ";template=" + templateHash + ";dtypes=";
  for (size_t i = 0; i < dtypes.size(); ++i) {
    if (i)
      out += ',';
    out += dtypeName(dtypes[i]);
  }
  out += ";constexprs=";
  bool first = true;
  for (const auto &[name, value] : constexprs) {
    if (!first)
      out += ',';
    out += name + ":" + std::to_string(value);
    first = false;
  }
  out += ";arch=" + arch + ";ptx=" + std::to_string(ptxVersion) +
         ";compiler=" + compilerVersion;
  return out;
}

KernelSpec KernelSpec::parse(std::string_view text) {
  static constexpr std::string_view kFields[] = {
      "kernel", "template", "dtypes", "constexprs", "arch", "ptx", "compiler"};
  std::vector<std::string_view> fields = split(text, ';');
  if (fields.size() != std::size(kFields))
    throw Error("malformed KernelSpec '" + std::string(text) + "': expected " +
                std::to_string(std::size(kFields)) + " ';'-separated fields");
  std::string_view values[std::size(kFields)];
  for (size_t i = 0; i < fields.size(); ++i) {
    size_t eq = fields[i].find('=');
    if (eq == std::string_view::npos || fields[i].substr(0, eq) != kFields[i])
      throw Error("malformed KernelSpec '" + std::string(text) + "': field " +
                  std::to_string(i + 1) + " should be '" +
                  std::string(kFields[i]) + "=...'");
    values[i] = fields[i].substr(eq + 1);
  }
  KernelSpec spec;
  spec.kernel = std::string(values[0]);
  spec.templateHash = std::string(values[1]);
  for (std::string_view name : split(values[2], ',')) {
    std::optional<DType> dtype = parseDType(name);
    if (!dtype)
      throw Error("malformed KernelSpec: unknown dtype '" + std::string(name) +
                  "'");
    spec.dtypes.push_back(*dtype);
  }
  for (std::string_view item : split(values[3], ',')) {
    size_t colon = item.find(':');
    if (colon == std::string_view::npos || !isIdentifier(item.substr(0, colon)))
      throw Error("malformed KernelSpec: constexpr '" + std::string(item) +
                  "' should be NAME:VALUE");
    spec.constexprs[std::string(item.substr(0, colon))] =
        parseInt(item.substr(colon + 1), "constexpr value");
  }
  spec.arch = std::string(values[4]);
  const int64_t ptx = parseInt(values[5], "ptx");
  // Not narrowed: "ptx=4294967374" would read as 78.
  if (ptx < std::numeric_limits<int>::min() ||
      ptx > std::numeric_limits<int>::max())
    throw Error("malformed KernelSpec: ptx '" + std::string(values[5]) +
                "' is out of range");
  spec.ptxVersion = static_cast<int>(ptx);
  spec.compilerVersion = std::string(values[6]);
  return spec;
}

std::string KernelSpec::fileStem() const { return kernel + "-" + hash().hex(); }

std::string_view compilerVersion() {
  static const std::string version = "packjit-" + std::string(kPackjitVersion) +
                                     "+mlir-" +
                                     std::to_string(kLLVMMajorVersion) + ".r" +
                                     std::to_string(kCodegenRevision);
  return version;
}

} // namespace packjit
