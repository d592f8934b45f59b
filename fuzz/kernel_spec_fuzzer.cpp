// KernelSpec::parse on arbitrary text: a packjit::Error or a spec whose
// canonical text parses back to the same spec, with the integers it was
// given (no value silently narrowed).
#include "packjit/core/error.h"
#include "packjit/core/kernel_spec.h"

#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

// The text after "ptx=" (the sixth field), as the parser saw it.
std::string_view ptxField(std::string_view text) {
  size_t at = text.find(";ptx=");
  if (at == std::string_view::npos)
    return {};
  std::string_view rest = text.substr(at + 5);
  return rest.substr(0, rest.find(';'));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view text(reinterpret_cast<const char *>(data), size);
  packjit::KernelSpec spec;
  try {
    spec = packjit::KernelSpec::parse(text);
  } catch (const packjit::Error &) {
    return 0;
  }
  const std::string canonical = spec.canonical();
  if (!(packjit::KernelSpec::parse(canonical) == spec))
    std::abort(); // canonical() and parse() disagree
  int64_t ptx = 0;
  std::string_view field = ptxField(text);
  std::from_chars(field.data(), field.data() + field.size(), ptx);
  if (ptx != spec.ptxVersion)
    std::abort(); // the PTX version was narrowed, not rejected
  (void)spec.fileStem();
  return 0;
}
