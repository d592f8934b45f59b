// Wall-clock timing for the benchmark tables: warm up, then repeat until a
// time budget or a repeat count is reached, and report the median.
#pragma once

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
  using Clock = std::chrono::steady_clock;
  for (int i = 0; i < warmup; ++i)
    fn();
  std::vector<double> samples;
  const auto deadline =
      Clock::now() + std::chrono::duration<double>(budgetSeconds);
  while (static_cast<int>(samples.size()) < maxRepeats &&
         (samples.size() < 5 || Clock::now() < deadline)) {
    const auto start = Clock::now();
    fn();
    samples.push_back(
        std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
  std::sort(samples.begin(), samples.end());
  return {samples[samples.size() / 2], samples.front(),
          static_cast<int>(samples.size())};
}

} // namespace packjit::cli
