// libFuzzer target: lenetlab::parse_sweep on arbitrary bytes (ci/fuzz.sh runs it).
// A ConfigError is the expected answer to bad input; any other exception escaping, a crash, a
// sanitizer report or a hang is a bug. Architecture names are resolved on the search path
// (architecture_search_path()): the shipped ones load from the source tree when it is present,
// any other name or path is a ConfigError, so the target needs no file on disk.
// The run limit is lowered to 100 (SweepOptions::max_runs): expanding 10,000 legitimate runs takes
// seconds under ASan, which the fuzzer would report as a hang; the limit check itself is the same
// code whatever the limit, and tests/config and tests/hostile cover large sweeps.
#include <cstddef>
#include <cstdint>
#include <string>

#include "config/yaml_loader.hpp"
#include "core/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const lenetlab::Sweep sweep =
        lenetlab::parse_sweep(text, "fuzz/sweep.yaml", lenetlab::SweepOptions{100, false});
    // What a successful parse promises: 1..max_runs runs, each with a resolved architecture.
    if (sweep.runs.empty() || sweep.runs.size() > 100) __builtin_trap();
    for (const lenetlab::RunConfig& run : sweep.runs) {
      if (run.architecture.empty() || run.arch.layers.empty()) __builtin_trap();
    }
  } catch (const lenetlab::ConfigError&) {
  }
  return 0;
}
