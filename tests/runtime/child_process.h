// Child processes for the fault-injection tests: a body run in a forked
// child, waited for with a deadline so that a hang fails the test instead
// of stalling it.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <sys/types.h>

namespace packjit::runtime::testing {

// Forks; the child runs `body` and _exits with its return value (2 when it
// throws). It dies by SIGALRM after `lifetime` if nothing ended it before.
pid_t startChild(const std::function<int()> &body,
                 std::chrono::seconds lifetime = std::chrono::seconds(30));

struct ChildEnd {
  bool exited = false; // returned: `code` is its exit code
  int code = -1;
  int signal = 0;        // killed by this signal
  bool timedOut = false; // still running at the deadline (then SIGKILLed)
  std::string describe() const;
};

// Waits for `pid` until `limit`; kills it with SIGKILL when it is still
// running then.
ChildEnd waitForChild(pid_t pid, std::chrono::milliseconds limit);

inline ChildEnd runInChild(const std::function<int()> &body,
                           std::chrono::milliseconds limit) {
  return waitForChild(startChild(body), limit);
}

// Polls until `path` exists or `limit` passes; true when it exists.
bool waitForFile(const std::string &path, std::chrono::milliseconds limit);

} // namespace packjit::runtime::testing
