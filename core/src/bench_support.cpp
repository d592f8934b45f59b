#include "packjit/core/bench_support.h"

#include "packjit/core/error.h"

#include <algorithm>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

extern char **environ;

namespace packjit {

double microsecondsSince(BenchClock::time_point start) {
  return std::chrono::duration<double, std::micro>(BenchClock::now() - start)
      .count();
}

double median(std::vector<double> values) {
  if (values.empty())
    return 0;
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

bool ChildRun::succeeded() const {
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

ChildRun runSelf(const std::vector<std::string> &args, int redirectFd,
                 const std::string &outputPath,
                 const std::vector<std::string> &environment) {
  const std::string self = "/proc/self/exe";
  std::vector<std::string> argvText{self};
  argvText.insert(argvText.end(), args.begin(), args.end());
  std::vector<std::string> envText = environment;
  for (char **e = environ; *e; ++e) {
    const std::string entry = *e;
    const std::string name = entry.substr(0, entry.find('=') + 1);
    const bool replaced = std::any_of(
        environment.begin(), environment.end(),
        [&](const std::string &own) { return own.rfind(name, 0) == 0; });
    if (!replaced)
      envText.push_back(entry);
  }
  auto pointers = [](std::vector<std::string> &texts) {
    std::vector<char *> out;
    for (std::string &text : texts)
      out.push_back(text.data());
    out.push_back(nullptr);
    return out;
  };
  std::vector<char *> argv = pointers(argvText), envp = pointers(envText);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (redirectFd >= 0)
    posix_spawn_file_actions_addopen(&actions, redirectFd, outputPath.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
  const auto start = BenchClock::now();
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, self.c_str(), &actions, nullptr,
                                  argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0)
    throw Error("cannot spawn " + self + " again");
  ChildRun run;
  waitpid(pid, &run.status, 0);
  run.wallMicroseconds = microsecondsSince(start);
  return run;
}

} // namespace packjit
