// Prints one line per kernel specialization: its key and the XXH3-128 of the
// PTX the compiler emits for it. ptx_identical.sh compares the output with
// ptx_golden.txt, so a change that should not touch code generation (a
// refactor of the pipeline or of a template's text) proves that it did not.
//
// The matrix: every kernel x dtype x supported arch at the template's
// defaults, and on sm_90 the constexpr combinations the ops launch.
#include "packjit/compiler/compiler.h"
#include "packjit/core/arch.h"
#include "packjit/core/kernel_contract.h"
#include "packjit/core/kernel_templates.h"

#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace {

using Overrides = std::map<std::string, int64_t>;

// The constexpr combinations each op can launch (ops/src/cuda/).
std::vector<Overrides> launchedVariants(std::string_view kernel) {
  std::vector<Overrides> variants;
  if (kernel == "mask_scan") {
    for (int64_t strict : {0, 1})
      for (int64_t padded : {0, 1})
        for (int64_t seq : {0, 4096})
          for (int64_t chunk : {32, 64})
            variants.push_back({{"STRICT", strict},
                                {"PADDED", padded},
                                {"SEQ", seq},
                                {"CHUNK", chunk}});
  } else if (kernel == "gather_rows" || kernel == "scatter_rows") {
    struct Row {
      int64_t row, lanes, wide;
    };
    for (Row r : {Row{1, 1, 0}, Row{3, 2, 0}, Row{64, 32, 0}, Row{4096, 32, 0},
                  Row{8, 8, 1}, Row{256, 32, 1}})
      for (int64_t check : {0, 1}) // PACKJIT_CHECK
        variants.push_back({{"ROW", r.row},
                            {"LANES", r.lanes},
                            {"WIDE", r.wide},
                            {"CHECK", check}});
  } else if (kernel == "position_ids_scan") {
    // cu_seqlens_from_position_ids(_padded) launch BLOCK = 256 and 1 or 4
    // chunks per thread (ops/plan).
    for (int64_t chunks : {1, 4})
      for (int64_t strict : {1, 0})
        for (int64_t padded : {0, 1})
          variants.push_back(
              {{"STRICT", strict}, {"PADDED", padded}, {"CHUNKS", chunks}});
  }
  return variants;
}

// Debug switches that are off name no variant: CHECK=0 is the kernel that
// the golden file recorded before gather_rows and scatter_rows had CHECK.
bool isDebugSwitchOff(const std::string &name, int64_t value) {
  return name == "CHECK" && value == 0;
}

std::string describe(const packjit::KernelSpec &spec) {
  std::string out = spec.kernel + " ";
  for (size_t i = 0; i < spec.dtypes.size(); ++i) {
    if (i)
      out += ',';
    out += packjit::dtypeName(spec.dtypes[i]);
  }
  out += " " + spec.arch + " ";
  bool first = true;
  for (const auto &[name, value] : spec.constexprs) {
    if (isDebugSwitchOff(name, value))
      continue;
    if (!first)
      out += ',';
    out += name + "=" + std::to_string(value);
    first = false;
  }
  return out;
}

void print(const packjit::KernelSpec &spec) {
  // The sm_90 default may also be a launched variant: print each spec once.
  static std::set<std::string> printed;
  if (!printed.insert(spec.canonical()).second)
    return;
  std::string ptx = packjit::compiler::Compiler::shared().compile(spec).ptx;
  std::printf("%s %s\n", describe(spec).c_str(),
              packjit::hash128(ptx).hex().c_str());
}

} // namespace

int main() {
  try {
    for (const packjit::KernelTemplate &tmpl : packjit::kernelTemplates()) {
      const packjit::TemplateHeader &signature =
          packjit::KernelContract::of(tmpl.name).header();
      for (packjit::DType dtype : signature.dtypes.at(0).allowed) {
        for (const packjit::ArchInfo &arch : packjit::supportedArchs())
          print(packjit::bindKernelSpec(tmpl.name, {dtype}, {}, arch.name));
        for (const Overrides &variant : launchedVariants(tmpl.name))
          print(packjit::bindKernelSpec(tmpl.name, {dtype}, variant, "sm_90"));
      }
    }
  } catch (const std::exception &e) {
    std::fprintf(stderr, "ptx_digests: %s\n", e.what());
    return 1;
  }
  return 0;
}
