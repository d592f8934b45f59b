// Environment switches read by settings.cpp that the other runtime tests do
// not cover.
#include "packjit/runtime/settings.h"

#include <catch2/catch.hpp>

#include <cstdlib>

using packjit::runtime::deviceChecksFromEnvironment;

TEST_CASE("PACKJIT_CHECK: on only for 1, on or true", "[runtime][settings]") {
  unsetenv("PACKJIT_CHECK");
  CHECK_FALSE(deviceChecksFromEnvironment());
  for (const char *on : {"1", "on", "true"}) {
    setenv("PACKJIT_CHECK", on, 1);
    CHECK(deviceChecksFromEnvironment());
  }
  for (const char *off : {"", "0", "off", "false", "yes", "2"}) {
    setenv("PACKJIT_CHECK", off, 1);
    CHECK_FALSE(deviceChecksFromEnvironment());
  }
  unsetenv("PACKJIT_CHECK");
}
