#include "packjit/core/kernel_contract.h"

#include "packjit/core/arch.h"
#include "packjit/core/error.h"
#include "packjit/core/kernel_templates.h"
#include "packjit/core/version.h"

#include <memory>
#include <mutex>

namespace packjit {

KernelContract KernelContract::fromText(std::string_view kernel,
                                        std::string_view text) {
  KernelContract contract;
  contract.kernel_ = std::string(kernel);
  contract.templateText_ = std::string(text);
  contract.templateHash_ = hash128(text).hex();
  try {
    contract.header_ = TemplateHeader::parse(text);
    contract.params_ = KernelParams::parse(text);
  } catch (const Error &e) {
    throw Error("kernel '" + contract.kernel_ + "': " + e.what());
  }
  return contract;
}

const KernelContract &KernelContract::of(std::string_view kernel) {
  static std::mutex mutex;
  static std::map<std::string, std::unique_ptr<KernelContract>, std::less<>>
      contracts;
  const KernelTemplate &tmpl = kernelTemplate(kernel); // throws if unknown
  std::lock_guard lock(mutex);
  auto it = contracts.find(kernel);
  if (it == contracts.end())
    it = contracts
             .emplace(std::string(kernel), std::make_unique<KernelContract>(
                                               fromText(kernel, tmpl.text)))
             .first;
  return *it->second;
}

const ConstexprParameter &
KernelContract::constexprParameter(std::string_view name) const {
  if (const ConstexprParameter *param = header_.find(name))
    return *param;
  throw Error("kernel '" + kernel_ + "' has no constexpr '" +
              std::string(name) + "' (parameters: " + header_.describe() + ")");
}

KernelBinding::KernelBinding(const KernelContract &contract)
    : contract_(contract), dtypes_(contract.header().dtypes.size()) {
  for (const ConstexprParameter &param : contract.header().constexprs)
    constexprs_[param.name] = param.defaultValue;
}

KernelBinding &KernelBinding::dtype(std::string_view placeholder, DType dtype) {
  const std::vector<DTypeParameter> &params = contract_.header().dtypes;
  for (size_t i = 0; i < params.size(); ++i)
    if (params[i].name == placeholder) {
      dtypes_.resize(params.size());
      dtypes_[i] = dtype;
      return *this;
    }
  throw Error("kernel '" + contract_.kernel() + "' has no dtype placeholder '" +
              std::string(placeholder) +
              "' (parameters: " + contract_.header().describe() + ")");
}

KernelBinding &KernelBinding::dtypes(std::vector<DType> dtypes) {
  dtypes_.assign(dtypes.begin(), dtypes.end());
  return *this;
}

KernelBinding &KernelBinding::set(std::string_view name, int64_t value) {
  constexprs_[std::string(name)] = value; // unknown names: spec() says so
  return *this;
}

KernelBinding &
KernelBinding::set(const std::map<std::string, int64_t> &values) {
  for (const auto &[name, value] : values)
    set(name, value);
  return *this;
}

KernelBinding &KernelBinding::arch(std::string_view arch,
                                   std::optional<int> driverVersion) {
  ptxVersion_ = choosePtxVersion(arch, driverVersion);
  arch_ = std::string(arch);
  return *this;
}

KernelBinding &KernelBinding::ptxVersion(int ptxVersion) {
  ptxVersion_ = ptxVersion;
  return *this;
}

KernelSpec KernelBinding::spec() const {
  const std::vector<DTypeParameter> &placeholders = contract_.header().dtypes;
  KernelSpec spec;
  spec.kernel = contract_.kernel();
  spec.templateHash = contract_.templateHash();
  for (size_t i = 0; i < dtypes_.size(); ++i) {
    if (!dtypes_[i])
      throw Error("kernel '" + spec.kernel + "': no dtype given for " +
                  placeholders[i].name);
    spec.dtypes.push_back(*dtypes_[i]);
  }
  spec.constexprs = constexprs_;
  if (arch_.empty())
    throw Error("kernel '" + spec.kernel + "': no target arch given");
  spec.arch = arch_;
  spec.ptxVersion = ptxVersion_;
  spec.compilerVersion = std::string(compilerVersion());
  contract_.header().check(spec);
  return spec;
}

KernelSpec bindKernelSpec(std::string_view kernel, std::vector<DType> dtypes,
                          const std::map<std::string, int64_t> &constexprs,
                          std::string_view arch) {
  return KernelBinding(KernelContract::of(kernel))
      .dtypes(std::move(dtypes))
      .set(constexprs)
      .arch(arch)
      .spec();
}

} // namespace packjit
