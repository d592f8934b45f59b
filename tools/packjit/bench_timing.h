// Wall-clock timing for the benchmark tables: warm up, then repeat until a
// time budget or a repeat count is reached, and report the median.
#pragma once

#include "packjit/core/bench_support.h"

#include <algorithm>
#include <chrono>
#include <vector>

namespace packjit::cli {

struct Timing {
  double medianMicros = 0;
  double minMicros = 0;
  int repeats = 0;
};

// Calls fn() `warmup` times, then at least 5 and at most maxRepeats times,
// stopping early once budgetSeconds of timed calls have passed.
template <typename Fn>
Timing timeCalls(Fn &&fn, int maxRepeats = 200, double budgetSeconds = 0.3,
                 int warmup = 2) {
  for (int i = 0; i < warmup; ++i)
    fn();
  std::vector<double> samples;
  const auto deadline =
      BenchClock::now() + std::chrono::duration<double>(budgetSeconds);
  while (static_cast<int>(samples.size()) < maxRepeats &&
         (samples.size() < 5 || BenchClock::now() < deadline)) {
    const auto start = BenchClock::now();
    fn();
    samples.push_back(microsecondsSince(start));
  }
  return {median(samples), *std::min_element(samples.begin(), samples.end()),
          static_cast<int>(samples.size())};
}

} // namespace packjit::cli
