#include "config/run_config.hpp"

#include <xxhash.h>

#include <fmt/format.h>

namespace lenetlab {

const char* to_string(OptimizerKind kind) { return name_of(kOptimizerKinds, kind).data(); }
const char* to_string(EarlyStoppingMonitor monitor) {
  return name_of(kEarlyStoppingMonitors, monitor).data();
}
const char* to_string(EarlyStoppingMode mode) { return name_of(kEarlyStoppingModes, mode).data(); }

std::string RunConfig::key() const {
  const std::string text = to_json().dump();
  return fmt::format("{:016x}",
                     static_cast<unsigned long long>(XXH3_64bits(text.data(), text.size())));
}

std::string RunConfig::display_name() const {
  return fmt::format("{}/{} lr={:g} bs={} seed={}", architecture, to_string(optimizer.kind),
                     optimizer.learning_rate, batch_size, seed);
}

}  // namespace lenetlab
