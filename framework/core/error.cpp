#include "core/error.hpp"

namespace lenetlab {

std::string SourceMark::str() const {
  if (line <= 0) return file;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

ConfigError::ConfigError(SourceMark mark, const std::string& message)
    : Error(mark.str() + ": " + message), mark_(std::move(mark)), detail_(message) {}

}  // namespace lenetlab
