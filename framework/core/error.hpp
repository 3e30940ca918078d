// Typed errors of lenetlab. Library code throws these; the CLI catches them once in main(), prints
// one line (what()) and exits non-zero. No library code calls abort/exit for user input.
#pragma once

#include <stdexcept>
#include <string>

namespace lenetlab {

/// Base of every error lenetlab raises on purpose. what() is a complete, user-facing sentence.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

/// Position in a text file. line and column are 1-based; 0 means "unknown".
struct SourceMark {
  std::string file;
  int line = 0;
  int column = 0;
  /// "file:line:column" (or just "file" when the position is unknown).
  std::string str() const;
};

/// Invalid sweep or architecture description (YAML syntax, unknown key/name, bad value).
/// what() is "file:line:column: message".
class ConfigError : public Error {
 public:
  ConfigError(SourceMark mark, const std::string& message);
  const SourceMark& mark() const { return mark_; }
  /// The message without the location prefix.
  const std::string& detail() const { return detail_; }

 private:
  SourceMark mark_;
  std::string detail_;
};

/// Missing, corrupt or inconsistent dataset file. what() names the file and what was wrong.
class DataError : public Error {
 public:
  using Error::Error;
};

/// Results database problem (not a database, read-only, newer schema, locked).
class StoreError : public Error {
 public:
  using Error::Error;
};

/// A failure inside one run (shape mismatch at build time, oneDNN error, ...). The runner records
/// it with the run and goes on with the sweep.
class RunError : public Error {
 public:
  using Error::Error;
};

}  // namespace lenetlab
