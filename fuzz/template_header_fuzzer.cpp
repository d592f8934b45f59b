// The kernel-template contract parser (template header and gpu.func
// parameters) on arbitrary text, and TemplateHeader::check of an arbitrary
// spec against it: a packjit::Error or a result, never a crash.
//
// Input: template text, then optionally "\n#SPEC#" and a KernelSpec line.
#include "packjit/core/error.h"
#include "packjit/core/kernel_contract.h"
#include "packjit/core/template_header.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view input(reinterpret_cast<const char *>(data), size);
  constexpr std::string_view kSeparator = "\n#SPEC#";
  size_t split = input.find(kSeparator);
  std::string_view templateText = input.substr(0, split);
  std::string_view specText = split == std::string_view::npos
                                  ? std::string_view()
                                  : input.substr(split + kSeparator.size());
  std::optional<packjit::KernelContract> contract;
  try {
    contract = packjit::KernelContract::fromText("fuzzed", templateText);
  } catch (const packjit::Error &) {
    return 0;
  }
  const packjit::TemplateHeader &header = contract->header();
  (void)header.describe();
  (void)contract->params().describe();
  for (const packjit::ConstexprParameter &param : header.constexprs)
    if (header.find(param.name) == nullptr)
      std::abort(); // a parsed constexpr that find() does not know
  // A header that parses binds with its defaults and its first dtypes:
  // parse() promised that the defaults meet their constraints.
  try {
    packjit::KernelBinding binding(*contract);
    for (const packjit::DTypeParameter &param : header.dtypes)
      binding.dtype(param.name, param.allowed.front());
    (void)binding.arch("sm_90").spec();
  } catch (const packjit::Error &e) {
    std::fprintf(stderr, "defaults do not bind: %s\n", e.what());
    std::abort();
  }
  try {
    if (!specText.empty())
      header.check(packjit::KernelSpec::parse(specText));
  } catch (const packjit::Error &) {
  }
  return 0;
}
