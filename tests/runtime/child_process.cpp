#include "child_process.h"

#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace packjit::runtime::testing {

pid_t startChild(const std::function<int()> &body,
                 std::chrono::seconds lifetime) {
  std::fflush(nullptr); // the child must not write the parent's buffers again
  pid_t pid = fork();
  if (pid < 0)
    throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid > 0)
    return pid;
  alarm(static_cast<unsigned>(lifetime.count())); // never outlives the test
  int code = 2;
  try {
    code = body();
  } catch (const std::exception &e) {
    std::fprintf(stderr, "child %d: %s\n", getpid(), e.what());
  }
  std::fflush(nullptr);
  _exit(code);
}

std::string ChildEnd::describe() const {
  if (timedOut)
    return "still running at the deadline";
  if (exited)
    return "exited with " + std::to_string(code);
  return std::string("killed by ") + strsignal(signal);
}

ChildEnd waitForChild(pid_t pid, std::chrono::milliseconds limit) {
  ChildEnd end;
  auto deadline = std::chrono::steady_clock::now() + limit;
  int status = 0;
  while (true) {
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid)
      break;
    if (done < 0)
      throw std::runtime_error(std::string("waitpid: ") + std::strerror(errno));
    if (std::chrono::steady_clock::now() > deadline) {
      end.timedOut = true;
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return end;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  if (WIFEXITED(status)) {
    end.exited = true;
    end.code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    end.signal = WTERMSIG(status);
  }
  return end;
}

bool waitForFile(const std::string &path, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (access(path.c_str(), F_OK) != 0) {
    if (std::chrono::steady_clock::now() > deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

} // namespace packjit::runtime::testing
