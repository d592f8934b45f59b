// The benchmarks' shared helpers: medians and running this program again.
#include "packjit/core/bench_support.h"

#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>

using packjit::median;

TEST_CASE("median takes the middle value, 0 for none",
          "[core][bench][median]") {
  CHECK(median({}) == 0);
  CHECK(median({5}) == 5);
  CHECK(median({9, 1, 5}) == 5);
  CHECK(median({4, 1, 3, 2}) == 3); // the upper middle
}

TEST_CASE("runSelf runs this program again with its output redirected",
          "[core][bench]") {
  const std::string out =
      "/tmp/packjit-core-run-self-" + std::to_string(getpid());
  const packjit::ChildRun passed = packjit::runSelf({"[median]"}, 1, out);
  CHECK(passed.succeeded());
  CHECK(passed.wallMicroseconds > 0);
  std::stringstream text;
  text << std::ifstream(out).rdbuf();
  CHECK_THAT(text.str(), Catch::Contains("All tests passed"));

  // An option Catch does not know makes it exit non-zero.
  const packjit::ChildRun failed =
      packjit::runSelf({"--no-such-option"}, 1, out);
  CHECK_FALSE(failed.succeeded());
  std::remove(out.c_str());
}
