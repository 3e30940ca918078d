// libFuzzer target: lenetlab::parse_architecture on arbitrary bytes (ci/fuzz.sh runs it).
// A ConfigError is the expected answer to bad input; anything else escaping, a crash, a sanitizer
// report or a hang is a bug. Parsing only: shapes are the engine's business (tests/hostile).
#include <cstddef>
#include <cstdint>
#include <string>

#include "config/yaml_loader.hpp"
#include "core/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const lenetlab::ArchSpec arch = lenetlab::parse_architecture(text, "fuzz/arch.yaml");
    // The loader promises: at least dense + softmax, softmax last, num_classes output units.
    if (arch.layers.size() < 2 || arch.layers.back().kind != lenetlab::LayerKind::softmax ||
        arch.layers[arch.layers.size() - 2].units != arch.num_classes) {
      __builtin_trap();
    }
  } catch (const lenetlab::ConfigError&) {
  }
  return 0;
}
