#include "config/yaml_reader.hpp"

#include <fmt/format.h>
#include <utf8.h>
#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <sstream>
#include <unordered_map>
#include <utility>

#include "core/files.hpp"

namespace lenetlab::yaml {

// ---- text helpers ------------------------------------------------------------------------------

std::string join(const Names& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ", ";
    out += names[i];
  }
  return out;
}

namespace {

/// Optimal string alignment distance (Levenshtein plus adjacent transpositions).
std::size_t edit_distance(std::string_view a, std::string_view b) {
  const std::size_t n = a.size(), m = b.size();
  std::vector<std::vector<std::size_t>> d(n + 1, std::vector<std::size_t>(m + 1));
  for (std::size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= n; ++i) {
    for (std::size_t j = 1; j <= m; ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[n][m];
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

std::string suggestion(std::string_view word, const Names& valid) {
  std::size_t best = 3;
  std::string_view best_name;
  for (const std::string_view name : valid) {
    const std::size_t d = edit_distance(word, name);
    if (d < best) {
      best = d;
      best_name = name;
    }
  }
  if (best_name.empty()) return "";
  return fmt::format("; did you mean '{}'?", best_name);
}

bool contains(const Names& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

bool is_simple_name(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
}

bool looks_like_path(std::string_view s) {
  return s.find('/') != std::string_view::npos || ends_with(s, ".yaml") || ends_with(s, ".yml");
}

namespace {

template <typename T>
std::optional<T> parse_integer(std::string_view s) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  T value = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return value;
}

}  // namespace

std::optional<int64_t> parse_int(std::string_view s) { return parse_integer<int64_t>(s); }

std::optional<uint64_t> parse_uint(std::string_view s) { return parse_integer<uint64_t>(s); }

std::optional<double> parse_double(std::string_view s) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return std::nullopt;
  const std::string_view digits = s.front() == '-' ? s.substr(1) : s;
  if (digits.empty() ||
      !(std::isdigit(static_cast<unsigned char>(digits.front())) || digits.front() == '.')) {
    return std::nullopt;
  }
  double value = 0.0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(value)) return std::nullopt;
  return value;
}

std::optional<bool> parse_bool(std::string_view s) {
  std::string lower(s);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "true" || lower == "yes" || lower == "on") return true;
  if (lower == "false" || lower == "no" || lower == "off") return false;
  return std::nullopt;
}

std::string describe(const YAML::Node& node) {
  if (node.IsNull()) return "nothing";
  if (node.IsSequence()) return node.size() == 0 ? "an empty list" : "a list";
  if (node.IsMap()) return node.size() == 0 ? "an empty mapping" : "a mapping";
  std::string text = node.Scalar();
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  return "'" + text + "'";
}

// ---- reading a document ------------------------------------------------------------------------

std::string read_yaml_file(const std::filesystem::path& file) {
  try {
    return read_file(file, kMaxYamlBytes);
  } catch (const FileError& e) {
    throw ConfigError(SourceMark{file.string()}, e.reason());
  }
}

namespace {

/// YAML 1.2 sec. 5.1, c-printable: tab, LF, CR, 0x20-0x7E, NEL, 0xA0-0xD7FF, 0xE000-0xFFFD and
/// 0x10000-0x10FFFF.
bool is_printable(char32_t c) {
  return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0x7E) || c == 0x85 ||
         (c >= 0xA0 && c <= 0xD7FF) || (c >= 0xE000 && c <= 0xFFFD) ||
         (c >= 0x10000 && c <= 0x10FFFF);
}

std::string forbidden_message(char32_t c) {
  const char* what = c < 0x20 || c == 0x7F        ? "control character"
                     : c >= 0x80 && c < 0xA0      ? "C1 control character"
                     : c >= 0xD800 && c <= 0xDFFF ? "surrogate code point"
                                                  : "non-character";
  return fmt::format(
      "{} U+{:04X} is not allowed in YAML (YAML 1.2 sec. 5.1 allows tab, line "
      "breaks and printable characters); remove it or write it out as text",
      what, static_cast<uint32_t>(c));
}

std::string not_utf8_message(unsigned char byte) {
  return fmt::format("not UTF-8 text: byte 0x{:02X}; save the file as UTF-8", byte);
}

/// Files whose first bytes announce UTF-16 or UTF-32 (a BOM or a zero byte, YAML 1.2 sec. 5.2),
/// which yaml-cpp decodes itself.
bool is_wide_encoding(std::string_view text) {
  if (text.size() < 2) return false;
  const auto b0 = static_cast<unsigned char>(text[0]), b1 = static_cast<unsigned char>(text[1]);
  return b0 == 0 || b1 == 0 || (b0 == 0xFE && b1 == 0xFF) || (b0 == 0xFF && b1 == 0xFE);
}

/// The code point of a well-formed 3- or 4-byte sequence that utfcpp refuses as a code point
/// (it does not say which).
char32_t decode_unchecked(std::string_view::iterator it, std::string_view::iterator end) {
  const auto byte = [&](int i) { return static_cast<char32_t>(static_cast<unsigned char>(it[i])); };
  if (end - it >= 3 && (byte(0) & 0xF0) == 0xE0)
    return (byte(0) & 0x0F) << 12 | (byte(1) & 0x3F) << 6 | (byte(2) & 0x3F);
  if (end - it >= 4)
    return (byte(0) & 0x07) << 18 | (byte(1) & 0x3F) << 12 | (byte(2) & 0x3F) << 6 |
           (byte(3) & 0x3F);
  return 0xFFFD;
}

}  // namespace

std::optional<BadCharacter> find_bad_character(std::string_view text) {
  int line = 1, column = 1;
  auto it = text.begin();
  while (it != text.end()) {
    const auto start = it;
    char32_t c = 0;
    try {
      c = utf8::next(it, text.end());
    } catch (const utf8::invalid_code_point&) {  // a surrogate, or above U+10FFFF
      return BadCharacter{line, column, forbidden_message(decode_unchecked(start, text.end()))};
    } catch (const utf8::exception&) {
      return BadCharacter{line, column, not_utf8_message(static_cast<unsigned char>(*start))};
    }
    if (!is_printable(c)) return BadCharacter{line, column, forbidden_message(c)};
    if (c == '\n' || (c == '\r' && (it == text.end() || *it != '\n'))) {
      ++line;
      column = 1;
    } else if (c != '\r') {
      ++column;
    }
  }
  return std::nullopt;
}

namespace {

/// First pass over the event stream: refuses aliases and duplicate keys, checks each decoded
/// value's characters, remembers where each document starts (to refuse a second one).
class Prescan : public YAML::EventHandler {
 public:
  explicit Prescan(const std::string& file) : file_(file) {}

  YAML::Mark document_mark;

  void OnDocumentStart(const YAML::Mark& mark) override { document_mark = mark; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { item(mark, nullptr); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override {
    throw ConfigError(at(mark), "YAML aliases ('*name') are not supported; write the value out");
  }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                const std::string& value) override {
    check_characters(mark, value);
    item(mark, &value);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    item(mark, nullptr);
    stack_.push_back(Frame{false, true, {}});
  }
  void OnSequenceEnd() override { stack_.pop_back(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    item(mark, nullptr);
    stack_.push_back(Frame{true, true, {}});
  }
  void OnMapEnd() override { stack_.pop_back(); }

  SourceMark at(const YAML::Mark& mark) const {
    return SourceMark{file_, mark.line + 1, mark.column + 1};
  }

 private:
  struct Frame {
    bool is_map;
    bool expect_key;
    std::unordered_map<std::string, int> key_lines;  // scalar key -> 1-based line of first use
  };

  /// Every value must be UTF-8 text of printable characters after decoding (escapes such as
  /// "\0" included): names and values end up in JSON (the run config, its key), which holds only
  /// valid UTF-8 (RFC 8259 sec. 8.1), and in the terminal.
  void check_characters(const YAML::Mark& mark, const std::string& value) const {
    const std::optional<BadCharacter> bad = find_bad_character(value);
    if (!bad) return;
    throw ConfigError(at(mark), fmt::format("in this value (line {}, character {} of it): {}",
                                            bad->line, bad->column, bad->message));
  }

  /// A node starts: inside a mapping it is alternately a key and a value.
  void item(const YAML::Mark& mark, const std::string* scalar) {
    if (stack_.empty() || !stack_.back().is_map) return;
    Frame& frame = stack_.back();
    if (frame.expect_key && scalar != nullptr) {
      const auto [it, inserted] = frame.key_lines.emplace(*scalar, mark.line + 1);
      if (!inserted) {
        throw ConfigError(at(mark), fmt::format("duplicate key '{}' (first given at line {})",
                                                *scalar, it->second));
      }
    }
    frame.expect_key = !frame.expect_key;
  }

  const std::string& file_;
  std::vector<Frame> stack_;
};

}  // namespace

YAML::Node parse_document(const std::string& text, const std::string& file, bool allow_empty) {
  if (text.size() > kMaxYamlBytes) {
    throw ConfigError(SourceMark{file},
                      fmt::format("file too large ({} bytes; the limit is {} bytes)", text.size(),
                                  kMaxYamlBytes));
  }
  if (!is_wide_encoding(text)) {
    if (const std::optional<BadCharacter> bad = find_bad_character(text)) {
      throw ConfigError(SourceMark{file, bad->line, bad->column}, bad->message);
    }
  }
  const SourceMark start{file, 1, 1};
  try {
    std::istringstream in(text);
    YAML::Parser parser(in);
    Prescan scan(file);
    if (!parser.HandleNextDocument(scan)) {
      if (allow_empty) return YAML::Node();
      throw ConfigError(start, "empty file; expected a mapping of keys");
    }
    if (parser.HandleNextDocument(scan)) {
      throw ConfigError(scan.at(scan.document_mark),
                        "a second YAML document ('---'); a file holds one document");
    }
    YAML::Node root = YAML::Load(text);
    if (allow_empty && root.IsNull()) return root;
    if (!root.IsMap()) {
      throw ConfigError(start, fmt::format("expected a mapping of keys at the top level, found {}",
                                           describe(root)));
    }
    return root;
  } catch (const YAML::Exception& e) {
    const SourceMark mark =
        e.mark.is_null() ? start : SourceMark{file, e.mark.line + 1, e.mark.column + 1};
    throw ConfigError(mark, "YAML syntax error: " + e.msg);
  }
}

// ---- typed access to values --------------------------------------------------------------------

SourceMark YamlReader::at(const YAML::Node& node) const {
  const YAML::Mark mark = node.Mark();
  if (mark.is_null()) return SourceMark{file_, 0, 0};
  return SourceMark{file_, mark.line + 1, mark.column + 1};
}

void YamlReader::fail(const YAML::Node& node, const std::string& message) const {
  throw ConfigError(at(node), message);
}

std::string YamlReader::key(const YAML::Node& key) const {
  if (!key.IsScalar()) fail(key, fmt::format("expected a key name, found {}", describe(key)));
  return key.Scalar();
}

void YamlReader::unknown_key(const YAML::Node& key, std::string_view where,
                             const Names& valid) const {
  const std::string& name = key.Scalar();
  fail(key, fmt::format("unknown key '{}' in {}; valid keys: {}{}", name, where, join(valid),
                        suggestion(name, valid)));
}

void YamlReader::expect_map(const YAML::Node& node, std::string_view what) const {
  if (!node.IsMap()) {
    fail(node, fmt::format("expected a mapping for '{}', found {}", what, describe(node)));
  }
}

std::string YamlReader::string(const YAML::Node& v, std::string_view what) const {
  if (!v.IsScalar())
    fail(v, fmt::format("expected a string for '{}', found {}", what, describe(v)));
  return v.Scalar();
}

std::string YamlReader::text(const YAML::Node& v, std::string_view what) const {
  if (!v.IsScalar() || v.Scalar().empty()) {
    fail(v, fmt::format("expected a non-empty string for '{}', found {}", what, describe(v)));
  }
  return v.Scalar();
}

int64_t YamlReader::integer(const YAML::Node& v, std::string_view what, int64_t min,
                            int64_t max) const {
  std::optional<int64_t> value;
  if (v.IsScalar()) value = parse_int(v.Scalar());
  if (!value || *value < min || *value > max) {
    std::string kind = min == 1   ? "a positive integer"
                       : min == 0 ? "a non-negative integer"
                                  : fmt::format("an integer >= {}", min);
    if (value && *value > max) kind += fmt::format(" no larger than {}", max);
    fail(v, fmt::format("expected {} for '{}', found {}", kind, what, describe(v)));
  }
  return *value;
}

uint64_t YamlReader::unsigned_integer(const YAML::Node& v, std::string_view what) const {
  std::optional<uint64_t> value;
  if (v.IsScalar()) value = parse_uint(v.Scalar());
  if (!value) {
    fail(v, fmt::format("expected a non-negative integer for '{}', found {}", what, describe(v)));
  }
  return *value;
}

double YamlReader::number(const YAML::Node& v, std::string_view what, Range range) const {
  std::optional<double> value;
  if (v.IsScalar()) value = parse_double(v.Scalar());
  bool ok = value.has_value();
  const char* kind = "a number";
  switch (range) {
    case Range::any:
      break;
    case Range::positive:
      kind = "a positive number";
      ok = ok && *value > 0.0;
      break;
    case Range::non_negative:
      kind = "a non-negative number";
      ok = ok && *value >= 0.0;
      break;
    case Range::unit_interval:
      kind = "a number in [0, 1)";
      ok = ok && *value >= 0.0 && *value < 1.0;
      break;
  }
  if (!ok) fail(v, fmt::format("expected {} for '{}', found {}", kind, what, describe(v)));
  return *value;
}

bool YamlReader::boolean(const YAML::Node& v, std::string_view what) const {
  std::optional<bool> value;
  if (v.IsScalar()) value = parse_bool(v.Scalar());
  if (!value) fail(v, fmt::format("expected true or false for '{}', found {}", what, describe(v)));
  return *value;
}

std::size_t YamlReader::one_of(const YAML::Node& v, std::string_view what,
                               const Names& valid) const {
  if (!v.IsScalar()) {
    fail(v, fmt::format("expected one of {} for '{}', found {}", join(valid), what, describe(v)));
  }
  const std::string& text = v.Scalar();
  const auto it = std::find(valid.begin(), valid.end(), text);
  if (it == valid.end()) {
    fail(v, fmt::format("unknown {} '{}'; valid choices: {}{}", what, text, join(valid),
                        suggestion(text, valid)));
  }
  return static_cast<std::size_t>(it - valid.begin());
}

}  // namespace lenetlab::yaml
