// What packjit's benchmark programs share: a wall clock, medians, and running
// the program itself again as a fresh child process (first-result and
// fresh-compile timings).
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace packjit {

using BenchClock = std::chrono::steady_clock;

double microsecondsSince(BenchClock::time_point start);

// The median (upper middle for an even count); 0 for no values.
double median(std::vector<double> values);

struct ChildRun {
  int status = 0;              // as waitpid reports it
  double wallMicroseconds = 0; // spawn to exit
  bool succeeded() const;      // exited with 0
};

// Runs /proc/self/exe with `args` (argv[1] on), its file descriptor
// `redirectFd` (1 or 2) written to `outputPath` (-1: inherited), in this
// process's environment with `environment` ("NAME=value" entries) added or
// replacing the same names. Throws packjit::Error when the spawn fails.
ChildRun runSelf(const std::vector<std::string> &args, int redirectFd = -1,
                 const std::string &outputPath = {},
                 const std::vector<std::string> &environment = {});

} // namespace packjit
