// Reporting a test case as skipped, not passed, when its input is missing (real MNIST, a CPU
// feature). doctest 2.4 has no run-time skip, so the test prints a marker that ctest turns into
// "Skipped": lenetlab_add_test (tests/CMakeLists.txt) sets SKIP_REGULAR_EXPRESSION to it. Run
// directly, the executable shows the marker line with the reason.
#pragma once

#include <doctest/doctest.h>

/// Ends the current test case, reported by ctest as skipped; the arguments (streamed as in
/// MESSAGE) say what is missing and how to provide it.
#define LENETLAB_SKIP_TEST(...)                      \
  do {                                               \
    MESSAGE("lenetlab-test-skipped: ", __VA_ARGS__); \
    return;                                          \
  } while (false)
