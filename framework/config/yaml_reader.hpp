// The one YAML reader of lenetlab, shared by sweeps, architectures (config/) and bench matrices
// (bench/matrix.cpp). Internal to those loaders: nothing else touches YAML nodes.
//
// How a file is read (read_yaml_document):
//  1. The whole text is read; files above kMaxYamlBytes (1 MiB) are refused before parsing.
//  2. The characters are checked against YAML 1.2 sec. 5.1 (c-printable) before any parsing: the
//     text must be UTF-8, with no C0 control character other than tab, LF and CR, no DEL, no C1
//     control other than NEL (U+0085), no surrogate and no U+FFFE/U+FFFF; the error names the
//     line and column of the character. (Files in UTF-16/32, which yaml-cpp decodes, are checked
//     value by value instead, as is every value produced by an escape such as "\0".)
//  3. One pass of yaml-cpp's event parser catches what the node API hides: duplicate keys at any
//     level (yaml-cpp keeps one silently), aliases (refused: they make exponential expansion cheap
//     to write) and a second document. Syntax errors surface here too, with their position.
//  4. The text is loaded as nodes; the loaders check each value through YamlReader, which reports
//     every failure as ConfigError("file:line:column: what was wrong; expected ...").
//
// Thread-safety: no state is shared between calls.
#pragma once

#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "core/error.hpp"

namespace lenetlab::yaml {

using Names = std::vector<std::string_view>;

/// Size limit of every YAML file lenetlab reads (sweeps, architectures, bench matrices).
inline constexpr std::uintmax_t kMaxYamlBytes = 1u << 20;  // 1 MiB
inline constexpr int64_t kMaxInt = std::numeric_limits<int>::max();

// ---- text helpers ------------------------------------------------------------------------------

/// "a, b, c".
std::string join(const Names& names);
/// "; did you mean 'x'?" when a name within edit distance 2 (optimal string alignment) exists.
std::string suggestion(std::string_view word, const Names& valid);
bool contains(const Names& names, std::string_view name);
/// [A-Za-z0-9_.-]+
bool is_simple_name(std::string_view s);
/// A value naming an architecture is a path when it has a '/' or a .yaml/.yml extension.
bool looks_like_path(std::string_view s);

/// Scalar parsers: the whole text must be the value (an optional leading '+'), else nullopt.
std::optional<int64_t> parse_int(std::string_view s);
std::optional<uint64_t> parse_uint(std::string_view s);
/// Decimal or scientific notation ("0.01", "1e-3", ".5", "-2"); no inf/nan.
std::optional<double> parse_double(std::string_view s);
/// true/yes/on, false/no/off, any case.
std::optional<bool> parse_bool(std::string_view s);

/// How a value is shown in "found ..." messages: 'text' (cut at 40 characters), a list, ...
std::string describe(const YAML::Node& node);

// ---- reading a document ------------------------------------------------------------------------

/// The text of `file`; ConfigError naming the file when it is missing, unreadable or larger than
/// kMaxYamlBytes.
std::string read_yaml_file(const std::filesystem::path& file);

/// The position of the first character YAML 1.2 sec. 5.1 does not allow in a UTF-8 stream (or of
/// the first byte that is not UTF-8), with the message for it; nullopt when the text is clean.
/// Lines and columns are 1-based; a column counts characters (code points).
struct BadCharacter {
  int line = 0;
  int column = 0;
  std::string message;
};
std::optional<BadCharacter> find_bad_character(std::string_view text);

/// Parses one YAML document (steps 1-3 above) whose top level is a mapping; with
/// `allow_empty`, an empty document (nothing, or only comments) is a Null node instead of an
/// error. Throws ConfigError at file:line:column.
YAML::Node parse_document(const std::string& text, const std::string& file,
                          bool allow_empty = false);

// ---- typed access to values --------------------------------------------------------------------

enum class Range { any, positive, non_negative, unit_interval };

/// Typed access to node values; every failure is a ConfigError at the node's position, worded
/// "expected <kind> for '<what>', found <describe(node)>".
class YamlReader {
 public:
  explicit YamlReader(std::string file) : file_(std::move(file)) {}

  const std::string& file() const { return file_; }
  SourceMark at(const YAML::Node& node) const;
  [[noreturn]] void fail(const YAML::Node& node, const std::string& message) const;

  /// The name of a mapping key (must be a scalar).
  std::string key(const YAML::Node& key) const;
  [[noreturn]] void unknown_key(const YAML::Node& key, std::string_view where,
                                const Names& valid) const;

  /// Calls f(name, key_node, value_node) for each entry of `map`, refusing keys not in `valid`.
  template <typename F>
  void for_each_field(const YAML::Node& map, std::string_view where, const Names& valid,
                      F&& f) const {
    for (const auto& kv : map) {
      const std::string name = key(kv.first);
      if (!contains(valid, name)) unknown_key(kv.first, where, valid);
      f(name, kv.first, kv.second);
    }
  }

  void expect_map(const YAML::Node& node, std::string_view what) const;
  std::string string(const YAML::Node& v, std::string_view what) const;
  /// A non-empty string.
  std::string text(const YAML::Node& v, std::string_view what) const;
  /// An integer in [min, max].
  int64_t integer(const YAML::Node& v, std::string_view what, int64_t min,
                  int64_t max = kMaxInt) const;
  uint64_t unsigned_integer(const YAML::Node& v, std::string_view what) const;
  double number(const YAML::Node& v, std::string_view what, Range range) const;
  bool boolean(const YAML::Node& v, std::string_view what) const;
  /// Index of the value in `valid`; "unknown <what> 'x'; valid choices: ..." otherwise.
  std::size_t one_of(const YAML::Node& v, std::string_view what, const Names& valid) const;

 private:
  std::string file_;
};

}  // namespace lenetlab::yaml
