#include "packjit/core/kernel_templates.h"

#include "packjit/core/error.h"
#include "packjit/core/kernel_spec.h"

#include <string>

namespace packjit {

// Defined in the generated embedded_templates.cpp (cmake/EmbedTemplates.cmake).
const std::vector<KernelTemplate> &embeddedKernelTemplates();

const std::vector<KernelTemplate> &kernelTemplates() {
  return embeddedKernelTemplates();
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

} // namespace packjit
