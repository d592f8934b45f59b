// `packjit aot`: compiles specializations into one AOT bundle, either those
// the ops launch for given inputs (--ops, aot_ops.cpp) or a matrix of
// kernels x dtypes x archs x shapes (--kernels). The compiler is loaded the
// way the runtime loads it (dlopen), so this works in builds that do not
// link it. Each entry carries the CUDA toolkit's ptxas cubin for its arch
// beside the PTX (unless --no-cubin), so that hosts skip the driver's JIT.
#include "aot_ops.h"
#include "commands.h"

#include "packjit/core/error.h"
#include "packjit/core/kernel_contract.h"
#include "packjit/core/split_list.h"
#include "packjit/plan/op_kernels.h"
#include "packjit/runtime/bundle.h"
#include "packjit/runtime/compiler_library.h"
#include "packjit/runtime/ptxas.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <set>
#include <thread>
#include <unistd.h>

namespace packjit::cli {
namespace {

struct AotOptions {
  // --ops form
  AotOpsRequest ops;
  bool strictOnly = false;
  bool nonStrictOnly = false;
  // --kernels form
  std::vector<std::string> kernels;
  std::vector<std::string> dtypes; // "i64", or "i64+f32" for several
  std::vector<std::string> shapes; // "S=4096,BLOCK=256"
  std::vector<std::string> sets;   // "BLOCK=256", applied to every shape
  std::vector<std::string> archs;
  std::string output;
  std::string compilerLibrary;
  std::string ptxas; // --ptxas, else as findPtxas looks
  bool noCubin = false;
  bool dryRun = false;
  std::string checkBundle;
  std::string listBundle;
};

std::map<std::string, int64_t> parseAssignments(const std::string &text) {
  std::map<std::string, int64_t> values;
  for (const std::string &item : splitList(text, ',')) {
    size_t eq = item.find('=');
    char *end = nullptr;
    long long value = eq == std::string::npos
                          ? 0
                          : std::strtoll(item.c_str() + eq + 1, &end, 10);
    if (eq == std::string::npos || eq == 0 || !end || *end != '\0')
      throw Error("'" + item + "' should be NAME=INTEGER");
    values[item.substr(0, eq)] = value;
  }
  return values;
}

std::vector<DType> parseDTypeGroup(const std::string &text) {
  std::vector<DType> group;
  for (const std::string &name : splitList(text, '+')) {
    std::optional<DType> dtype = parseDType(name);
    if (!dtype)
      throw Error("unknown dtype '" + name + "'");
    group.push_back(*dtype);
  }
  return group;
}

SpecGroup specMatrix(const AotOptions &options) {
  std::map<std::string, int64_t> common;
  for (const std::string &set : options.sets)
    for (const auto &[name, value] : parseAssignments(set))
      common[name] = value;
  std::vector<std::map<std::string, int64_t>> shapes;
  for (const std::string &shape : options.shapes)
    shapes.push_back(parseAssignments(shape));
  if (shapes.empty())
    shapes.emplace_back();
  SpecGroup matrix{"kernels x dtypes x archs x shapes", {}};
  for (const std::string &kernel : options.kernels)
    for (const std::string &dtypes : options.dtypes)
      for (const std::string &arch : options.archs)
        for (const auto &shape : shapes) {
          // Checked as every spec is: a specialization the template's
          // header forbids never reaches the bundle.
          matrix.specs.push_back(KernelBinding(KernelContract::of(kernel))
                                     .dtypes(parseDTypeGroup(dtypes))
                                     .set(common)
                                     .set(shape)
                                     .arch(arch)
                                     .spec());
        }
  return matrix;
}

std::vector<SpecGroup> specGroups(const AotOptions &options) {
  if (options.ops.ops.empty() == options.kernels.empty())
    throw Error("give either --ops (the kernels the ops launch) or --kernels "
                "(a matrix of templates)");
  if (!options.kernels.empty()) {
    if (options.dtypes.empty())
      throw Error("--kernels needs --dtypes");
    return {specMatrix(options)};
  }
  AotOpsRequest request = options.ops;
  request.archs = options.archs;
  if (options.strictOnly)
    request.strictModes = {true};
  if (options.nonStrictOnly)
    request.strictModes = {false};
  return opsSpecGroups(request);
}

// Each spec once, in the order first met.
std::vector<KernelSpec> uniqueSpecs(const std::vector<SpecGroup> &groups) {
  std::vector<KernelSpec> specs;
  std::set<std::string> seen;
  for (const SpecGroup &group : groups)
    for (const KernelSpec &spec : group.specs)
      if (seen.insert(spec.canonical()).second)
        specs.push_back(spec);
  return specs;
}

// --dry-run: a '#' line per launch, then the canonical text of each spec it
// adds (the keys the bundle would hold, as the runtime looks them up).
void printSpecs(const AotOptions &options,
                const std::vector<SpecGroup> &groups) {
  if (!options.ops.ops.empty())
    std::cout << "# " << describeSettings(options.ops) << "\n";
  std::set<std::string> seen;
  size_t count = 0;
  for (const SpecGroup &group : groups) {
    std::vector<std::string> added;
    for (const KernelSpec &spec : group.specs)
      if (seen.insert(spec.canonical()).second)
        added.push_back(spec.canonical());
    const bool repeated = !group.specs.empty() && added.empty();
    std::cout << "# " << group.what << (repeated ? ": listed above" : "")
              << "\n";
    for (const std::string &key : added)
      std::cout << key << "\n";
    count += added.size();
  }
  std::cout << "# " << count << " kernels\n";
}

// A progress bar on a terminal. Its line is ended however the compiles end,
// so that an error message starts a line of its own.
class Progress {
public:
  explicit Progress(size_t total)
      : total_(total), shown_(::isatty(STDERR_FILENO)) {}
  ~Progress() {
    if (shown_ && drawn_) {
      std::fputc('\n', stderr);
      std::fflush(stderr);
    }
  }
  void draw(size_t done, const std::string &label) {
    if (!shown_)
      return;
    constexpr int kWidth = 30;
    int filled = total_ ? static_cast<int>(kWidth * done / total_) : kWidth;
    std::fprintf(stderr, "\r[%.*s%*s] %zu/%zu %-40.40s", filled,
                 "##############################", kWidth - filled, "", done,
                 total_, label.c_str());
    std::fflush(stderr);
    drawn_ = true;
  }

private:
  size_t total_;
  bool shown_;
  bool drawn_ = false;
};

// --check: whether the bundle holds every planned spec; names the missing.
void checkBundle(const std::string &path,
                 const std::vector<KernelSpec> &specs) {
  const runtime::Bundle bundle = runtime::Bundle::load(path);
  size_t missing = 0;
  for (const KernelSpec &spec : specs)
    if (!bundle.find(spec.canonical())) {
      std::cout << "missing: " << spec.canonical() << "\n";
      ++missing;
    }
  if (missing)
    throw Error(path + " lacks " + std::to_string(missing) + " of the " +
                std::to_string(specs.size()) +
                " kernels planned: a host using it would compile them");
  size_t withoutCubin = 0;
  for (const KernelSpec &spec : specs)
    withoutCubin += bundle.find(spec.canonical())->cubin.empty();
  std::cout << path << " holds all " << specs.size() << " kernels planned";
  if (withoutCubin)
    std::cout << ", " << withoutCubin
              << " of them without a cubin (each host's driver JIT-compiles "
                 "those on their first load)";
  std::cout << "\n";
}

// --list: what a bundle holds, a key and a line of sizes per entry.
void listBundle(const std::string &path) {
  const runtime::Bundle bundle = runtime::Bundle::load(path);
  size_t withCubin = 0;
  for (const runtime::CacheEntry &entry : bundle.entries())
    withCubin += !entry.image.cubin.empty();
  std::cout << "# " << path << ": " << bundle.entries().size() << " kernels, "
            << withCubin << " with a cubin, written by " << bundle.writtenBy()
            << "\n";
  for (const runtime::CacheEntry &entry : bundle.entries()) {
    std::cout << entry.key << "\n  ptx " << entry.image.ptx.size()
              << " bytes, ";
    if (entry.image.cubin.empty())
      std::cout << "no cubin\n";
    else
      std::cout << "cubin " << entry.image.cubin.size() << " bytes for "
                << entry.image.cubinTarget << "\n";
  }
}

// The PTX of each entry through ptxas for its spec's arch, several at once.
// The first failure stops the rest and is thrown.
void addCubins(const runtime::Ptxas &ptxas,
               const std::vector<KernelSpec> &specs,
               std::vector<runtime::CacheEntry> &entries) {
  Progress progress(specs.size());
  std::mutex mutex; // guards progress, done and failure
  size_t done = 0;
  std::string failure;
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  auto work = [&] {
    while (!failed) {
      const size_t i = next++;
      if (i >= specs.size())
        return;
      runtime::KernelImage &image = entries[i].image;
      try {
        image.cubin =
            ptxas.assemble(image.ptx, specs[i].arch, specs[i].fileStem());
        image.cubinTarget = ptxas.cubinTarget(specs[i].arch);
      } catch (const std::exception &e) {
        std::lock_guard lock(mutex);
        if (!failed.exchange(true))
          failure = e.what();
        return;
      }
      std::lock_guard lock(mutex);
      progress.draw(++done, "ptxas " + specs[i].fileStem());
    }
  };
  const size_t workers =
      std::clamp<size_t>(std::thread::hardware_concurrency(), 1,
                         std::max<size_t>(specs.size(), 1));
  std::vector<std::thread> threads;
  for (size_t i = 1; i < workers; ++i)
    threads.emplace_back(work);
  work();
  for (std::thread &thread : threads)
    thread.join();
  if (failed)
    throw Error(failure);
}

void runAot(const AotOptions &options) {
  if (!options.listBundle.empty()) {
    listBundle(options.listBundle);
    return;
  }
  if (options.archs.empty())
    throw Error("--archs is required (e.g. --archs sm_90)");
  if (!options.compilerLibrary.empty())
    setenv("PACKJIT_COMPILER_LIBRARY", options.compilerLibrary.c_str(), 1);
  // Every spec is planned, bound and checked before anything is compiled:
  // a bad item stops the command with nothing written.
  const std::vector<SpecGroup> groups = specGroups(options);
  if (options.dryRun) {
    printSpecs(options, groups);
    return;
  }
  const std::vector<KernelSpec> specs = uniqueSpecs(groups);
  if (!options.checkBundle.empty()) {
    checkBundle(options.checkBundle, specs);
    return;
  }
  if (options.output.empty())
    throw Error("--output (-o) is required, unless --dry-run or --check");
  std::string why;
  if (!runtime::compilerAvailable(&why))
    throw Error("'packjit aot' needs the compiler: " + why);
  std::optional<runtime::Ptxas> ptxas;
  if (!options.noCubin && !(ptxas = runtime::findPtxas(options.ptxas, &why)))
    throw Error("'packjit aot' puts a cubin for each arch in the bundle and "
                "needs the CUDA toolkit's ptxas for it: " +
                why +
                ". Give --ptxas PATH, or --no-cubin for a bundle of PTX only "
                "(each host's driver then JIT-compiles every kernel on its "
                "first load, about 250 ms for mask_scan on an H200)");
  auto start = std::chrono::steady_clock::now();
  std::vector<runtime::CacheEntry> entries;
  {
    Progress progress(specs.size());
    for (size_t i = 0; i < specs.size(); ++i) {
      progress.draw(i, specs[i].fileStem());
      entries.push_back(
          {specs[i].canonical(),
           runtime::compileWithCompilerLibrary(
               specs[i], KernelContract::of(specs[i].kernel).templateText())});
    }
    progress.draw(specs.size(), "done");
  }
  if (ptxas)
    addCubins(*ptxas, specs, entries);
  runtime::writeBundle(options.output, entries);
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  std::cout << "wrote " << entries.size() << " kernels to " << options.output
            << " in " << seconds << " s, "
            << (ptxas ? "each with a cubin from " + ptxas->path + " " +
                            ptxas->version
                      : std::string("PTX only (--no-cubin)"))
            << "\n";
}

} // namespace

void addAotCommand(CLI::App &app) {
  auto options = std::make_shared<AotOptions>();
  CLI::App *cmd = app.add_subcommand(
      "aot", "Compile the kernels the ops will launch (--ops) or a matrix of "
             "kernel specializations (--kernels) into one AOT bundle");
  cmd->footer(
      "Examples:\n"
      "  packjit aot --ops get_unpad_data,unpad_input --masks 8x4096:int64 \\\n"
      "      --rows 4096:bfloat16 --archs sm_90 -o bundle.pjb\n"
      "  packjit aot --ops get_unpad_data --masks 1x131072:bool --archs sm_90 "
      "--dry-run\n"
      "  packjit aot --kernels gather_rows --dtypes f32 bf16 --archs sm_80 "
      "--shapes ROW=64 -o rows.pjb\n"
      "  packjit aot --list bundle.pjb\n"
      "Then PACKJIT_AOT=bundle.pjb on every host: a kernel found there is "
      "never compiled, and its cubin (made by the CUDA toolkit's ptxas for "
      "its arch) loads without the driver's PTX JIT. A driver older than "
      "that toolkit refuses the cubins: the host then JIT-compiles the PTX "
      "(one warning).\n"
      "--ops plans what the ops launch under the environment the trainer "
      "will have: PACKJIT_SCAN_CHUNK, PACKJIT_POSITION_IDS_CHUNKS and "
      "PACKJIT_PAD_INPUT are read as the ops read them, PACKJIT_SHAPES "
      "unless --shape-policy is given.\n");
  // The --ops form.
  std::string opList;
  for (std::string_view op : plan::opNames())
    opList += (opList.empty() ? "" : ", ") + std::string(op);
  CLI::Option *ops =
      cmd->add_option("--ops", options->ops.ops,
                      "Ops whose kernels to compile (comma-separated): " +
                          opList)
          ->delimiter(',');
  cmd->add_option("--masks", options->ops.masks,
                  "Attention masks the scan ops will get, BxS:DTYPE "
                  "(8x4096:int64; dtypes int64 int32 int16 int8 uint8 bool)")
      ->delimiter(',')
      ->needs(ops);
  cmd->add_option("--rows", options->ops.rows,
                  "Rows unpad_input / pad_input / unpad_inputs will move, "
                  "WIDTH:DTYPE (4096:bfloat16; 32x128:float16 for heads x "
                  "head_dim; dtypes float32 float16 bfloat16 float64 int64 "
                  "int32)")
      ->delimiter(',')
      ->needs(ops);
  cmd->add_option("--positions", options->ops.positions,
                  "position_ids of cu_seqlens_from_position_ids, DTYPE or "
                  "BxS:DTYPE (default int64)")
      ->delimiter(',')
      ->needs(ops);
  CLI::Option *strict =
      cmd->add_flag("--strict", options->strictOnly,
                    "Only strict=True (default: both strict modes)")
          ->needs(ops);
  cmd->add_flag("--no-strict", options->nonStrictOnly,
                "Only strict=False (default: both strict modes)")
      ->needs(ops)
      ->excludes(strict);
  options->ops.shapePolicy =
      std::getenv("PACKJIT_SHAPES") ? std::getenv("PACKJIT_SHAPES") : "";
  cmd->add_option("--shape-policy", options->ops.shapePolicy,
                  "Row lengths the mask scan is specialized for, as "
                  "PACKJIT_SHAPES: bucket (default), exact or dynamic")
      ->check(CLI::IsMember({"bucket", "exact", "dynamic"}))
      ->needs(ops);
  // The --kernels form.
  CLI::Option *kernels =
      cmd->add_option("--kernels", options->kernels, "Kernel template names")
          ->excludes(ops);
  cmd->add_option(
         "--dtypes", options->dtypes,
         "Dtypes, one per specialization ('i64'; 'i64+f32' for several)")
      ->needs(kernels);
  cmd->add_option("--shapes", options->shapes,
                  "Constexpr sets, one per specialization: S=4096,BLOCK=256")
      ->needs(kernels);
  cmd->add_option("--set", options->sets,
                  "Constexprs for every specialization: NAME=V")
      ->needs(kernels);
  // Both.
  cmd->add_option("--archs", options->archs,
                  "Targets, e.g. sm_80,sm_90 (required)")
      ->delimiter(',');
  cmd->add_option("-o,--output", options->output, "The bundle file to write");
  cmd->add_flag("--dry-run", options->dryRun,
                "Print the specializations (canonical keys) instead of "
                "compiling; needs no compiler");
  cmd->add_option("--check", options->checkBundle,
                  "Instead of compiling, check that this bundle holds every "
                  "specialization; exits 1 naming those it lacks");
  CLI::Option *noCubin = cmd->add_flag(
      "--no-cubin", options->noCubin,
      "Write PTX only, without ptxas: each host's driver JIT-compiles every "
      "kernel on its first load");
  cmd->add_option("--ptxas", options->ptxas,
                  "The ptxas to make the cubins with (else $PACKJIT_PTXAS, "
                  "else ptxas on PATH, in $CUDA_HOME/bin, $CUDA_PATH/bin or "
                  "/usr/local/cuda/bin); without one the command fails "
                  "unless --no-cubin")
      ->excludes(noCubin);
  cmd->add_option("--list", options->listBundle,
                  "Print what this bundle holds (each key, its PTX and cubin "
                  "sizes and cubin target) and exit")
      ->excludes(ops)
      ->excludes(kernels);
  cmd->add_option(
      "--compiler", options->compilerLibrary,
      "libpackjit_compiler.so to use (else as the runtime finds it)");
  cmd->callback([options] { runAot(*options); });
}

} // namespace packjit::cli
