// Helpers shared by the config tests: running a loader and catching its error, paths of the
// shipped files, a scoped environment variable.
#pragma once

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "config/yaml_loader.hpp"

namespace lenetlab::config_test {

namespace fs = std::filesystem;

inline const fs::path kSource = LENETLAB_SOURCE_DIR;
inline const fs::path kArchitectures = kSource / "experiments" / "architectures";
inline const fs::path kSweeps = kSource / "sweeps";
inline const fs::path kFixtures = kSource / "tests" / "config" / "fixtures";

/// What a failed load reported (line/column 0 when nothing was thrown).
struct Caught {
  std::string message;  // what(), "file:line:column: detail"
  std::string detail;
  int line = 0;
  int column = 0;
};

inline Caught caught(const ConfigError& e) {
  return Caught{e.what(), e.detail(), e.mark().line, e.mark().column};
}

inline Caught sweep_error(const std::string& text, const SweepOptions& options = {}) {
  try {
    parse_sweep(text, "test.yaml", options);
  } catch (const ConfigError& e) {
    return caught(e);
  }
  return Caught{"<no error>", "<no error>", 0, 0};
}

inline Caught arch_error(const std::string& text) {
  try {
    parse_architecture(text, "arch.yaml");
  } catch (const ConfigError& e) {
    return caught(e);
  }
  return Caught{"<no error>", "<no error>", 0, 0};
}

inline bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

inline std::vector<LayerKind> kinds(const ArchSpec& arch) {
  std::vector<LayerKind> out;
  for (const LayerSpec& layer : arch.layers) out.push_back(layer.kind);
  return out;
}

inline std::string read(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/// A valid architecture body: `extra` layers go before the classifier head.
inline std::string arch_with(const std::string& layers) {
  return "name: t\n"
         "input: {channels: 1, height: 28, width: 28}\n"
         "layers:\n" +
         layers;
}

/// Sets an environment variable for the lifetime of the object.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

using K = LayerKind;

}  // namespace lenetlab::config_test
