#include "packjit/runtime/ptxas.h"

#include "framed_file.h"
#include "packjit/core/error.h"
#include "packjit/core/split_list.h"
#include "packjit/runtime/kernel_image.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

extern char **environ;

namespace packjit::runtime {
namespace {

// A fresh directory under $TMPDIR for one run's files, removed afterwards.
class ScratchDirectory {
public:
  ScratchDirectory() {
    const char *base = std::getenv("TMPDIR");
    std::string pattern =
        std::string(base && *base ? base : "/tmp") + "/packjit-ptxas-XXXXXX";
    if (!::mkdtemp(pattern.data()))
      throw Error("cannot make a scratch directory for ptxas (" + pattern +
                  "): " + std::strerror(errno));
    path_ = pattern;
  }
  // Its files, then itself. POSIX calls, not std::filesystem: in a process
  // that loaded PyTorch's wheel, std::filesystem::remove_all bound to the
  // wheel's own copy (another compiler's build) and crashed.
  ~ScratchDirectory() {
    if (DIR *dir = ::opendir(path_.c_str())) {
      while (const dirent *entry = ::readdir(dir)) {
        const std::string name = entry->d_name;
        if (name != "." && name != "..")
          ::unlink(file(name).c_str());
      }
      ::closedir(dir);
    }
    ::rmdir(path_.c_str());
  }
  std::string file(const std::string &name) const { return path_ + "/" + name; }

private:
  std::string path_;
};

struct ProcessResult {
  bool ran = false;
  int exitCode = -1;
  std::string output; // stdout and stderr, or why it did not run
};

// Runs argv[0] with stdin from /dev/null, its stdout and stderr to `logPath`.
ProcessResult runProcess(const std::vector<std::string> &argv,
                         const std::string &logPath) {
  std::vector<char *> args;
  for (const std::string &arg : argv)
    args.push_back(const_cast<char *>(arg.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, logPath.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = 0;
  int error =
      ::posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ProcessResult result;
  if (error != 0) {
    result.output = std::string("cannot run it: ") + std::strerror(error);
    return result;
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) {
      result.output = std::string("waitpid failed: ") + std::strerror(errno);
      return result;
    }
  result.ran = true;
  if (WIFEXITED(status))
    result.exitCode = WEXITSTATUS(status);
  else
    result.output = "killed by signal " + std::to_string(WTERMSIG(status));
  if (std::optional<std::string> output = readWholeFile(logPath))
    result.output = *output + result.output;
  return result;
}

// Its non-empty lines joined with "; ": packjit's errors are one line each.
std::string oneLine(const std::string &text) {
  std::string line;
  for (const std::string &part : splitList(text, '\n'))
    line += (line.empty() ? "" : "; ") + part;
  return line;
}

// "13.0.88" out of "... release 13.0, V13.0.88": the first word V<n>.<n>
// or V<n>.<n>.<n>. By hand, not std::regex, for the reason above.
std::optional<std::string> versionIn(const std::string &text) {
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  auto alnum = [&](char c) {
    return digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           c == '_';
  };
  for (size_t at = text.find('V'); at != std::string::npos;
       at = text.find('V', at + 1)) {
    if (at > 0 && alnum(text[at - 1]))
      continue;
    size_t end = at + 1;
    int numbers = 0;
    while (numbers < 3 && end < text.size() && digit(text[end])) {
      while (end < text.size() && digit(text[end]))
        ++end;
      ++numbers;
      if (numbers < 3 && end + 1 < text.size() && text[end] == '.' &&
          digit(text[end + 1]))
        ++end;
      else
        break;
    }
    if (numbers >= 2)
      return text.substr(at + 1, end - at - 1);
  }
  return std::nullopt;
}

// The version `ptxas --version` prints ("... release 13.0, V13.0.88").
std::optional<std::string> ptxasVersion(const std::string &path,
                                        std::string *why) {
  ScratchDirectory scratch;
  ProcessResult run = runProcess({path, "--version"}, scratch.file("log"));
  if (run.ran && run.exitCode == 0)
    if (std::optional<std::string> version = versionIn(run.output))
      return version;
  std::string firstLine = oneLine(run.output.substr(0, run.output.find('\n')));
  *why = run.ran && run.exitCode == 0
             ? "its --version printed no version ('" + firstLine + "')"
         : firstLine.empty()
             ? "--version: exit code " + std::to_string(run.exitCode)
             : "--version: " + firstLine;
  return std::nullopt;
}

std::vector<std::string> defaultCandidates() {
  std::vector<std::string> candidates;
  if (const char *path = std::getenv("PATH"))
    for (const std::string &dir : splitList(path, ':'))
      if (!dir.empty())
        candidates.push_back(dir + "/ptxas");
  for (const char *variable : {"CUDA_HOME", "CUDA_PATH"})
    if (const char *home = std::getenv(variable); home && *home)
      candidates.push_back(std::string(home) + "/bin/ptxas");
  candidates.push_back("/usr/local/cuda/bin/ptxas");
  return candidates;
}

} // namespace

std::string Ptxas::assemble(const std::string &ptx, const std::string &arch,
                            const std::string &what) const {
  ScratchDirectory scratch;
  const std::string input = scratch.file("kernel.ptx");
  const std::string output = scratch.file("kernel.cubin");
  if (int error = writeFileAtomically(input, ptx))
    throw Error("cannot write the PTX of " + what +
                " for ptxas: " + std::strerror(error));
  ProcessResult run = runProcess({path, "-arch=" + arch, "-o", output, input},
                                 scratch.file("log"));
  std::optional<std::string> cubin;
  if (run.ran && run.exitCode == 0)
    cubin = readWholeFile(output);
  if (!cubin || cubin->empty())
    throw Error(
        path + " -arch=" + arch + " failed on the PTX of " + what +
        (run.ran ? " (exit code " + std::to_string(run.exitCode) + ")" : "") +
        (run.output.empty() ? "" : ": " + oneLine(run.output)));
  return std::move(*cubin);
}

std::string Ptxas::cubinTarget(const std::string &arch) const {
  return ptxasCubinTarget(arch, version);
}

std::optional<Ptxas> findPtxas(const std::string &explicitPath,
                               std::string *why) {
  const char *fromEnvironment = std::getenv("PACKJIT_PTXAS");
  const bool named =
      !explicitPath.empty() || (fromEnvironment && *fromEnvironment);
  std::vector<std::string> candidates =
      !explicitPath.empty() ? std::vector<std::string>{explicitPath}
      : named               ? std::vector<std::string>{fromEnvironment}
                            : defaultCandidates();
  std::string failures;
  for (const std::string &candidate : candidates) {
    std::string failure;
    if (::access(candidate.c_str(), X_OK) != 0) {
      if (errno == ENOENT && !named)
        continue; // the usual case along $PATH
      failure = std::strerror(errno);
    } else if (struct stat info;
               ::stat(candidate.c_str(), &info) == 0 && S_ISDIR(info.st_mode)) {
      failure = "a directory";
    } else if (std::optional<std::string> version =
                   ptxasVersion(candidate, &failure)) {
      return Ptxas{candidate, *version};
    }
    failures += (failures.empty() ? " (" : "; ") + candidate + ": " + failure;
  }
  if (!failures.empty())
    failures += ")";
  if (why)
    *why = (!explicitPath.empty() ? "--ptxas names no usable ptxas"
            : named               ? "PACKJIT_PTXAS names no usable ptxas"
                    : "no usable ptxas on PATH, in $CUDA_HOME/bin, "
                      "$CUDA_PATH/bin or /usr/local/cuda/bin") +
           failures;
  return std::nullopt;
}

} // namespace packjit::runtime
