// YAML loading of architectures and sweeps (format: yaml_loader.hpp,
// experiments/architectures/README.md, sweeps/README.md).
//
// How a file is read:
//  1. The whole text is read (files above 1 MiB are refused before parsing).
//  2. One pass of yaml-cpp's event parser catches what the node API hides: duplicate keys (yaml-cpp
//  keeps
//     one silently), aliases (refused: they make exponential expansion cheap to write) and extra
//     documents. Syntax errors surface here too, with their position.
//  3. The text is loaded as nodes; every value is checked with the node's mark for error messages.
//
// A sweep is counted before it is expanded. Counting is linear in the file size and saturates at
// INT64_MAX, so a grid of 10^9 runs is refused without allocating anything; expansion is linear in
// the number of runs.
#include "config/yaml_loader.hpp"

#include <fmt/format.h>
#include <yaml-cpp/eventhandler.h>
#include <utf8.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <sstream>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace lenetlab {
namespace {

namespace fs = std::filesystem;

using Names = std::vector<std::string_view>;

constexpr std::uintmax_t kMaxFileBytes = 1u << 20;  // 1 MiB
constexpr int64_t kMaxInt = std::numeric_limits<int>::max();

// ---------------------------------------------------------------------------------------------
// Small text helpers

std::string join(const Names& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ", ";
    out += names[i];
  }
  return out;
}

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

/// "; did you mean 'x'?" when a name within edit distance 2 exists, else "".
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

/// [A-Za-z0-9_.-]+
bool is_simple_name(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

/// A value naming an architecture is a path when it has a '/' or a YAML extension.
bool looks_like_path(std::string_view s) {
  return s.find('/') != std::string_view::npos || ends_with(s, ".yaml") || ends_with(s, ".yml");
}

int64_t add_saturated(int64_t a, int64_t b) {
  return a > std::numeric_limits<int64_t>::max() - b ? std::numeric_limits<int64_t>::max() : a + b;
}

int64_t mul_saturated(int64_t a, int64_t b) {
  if (a == 0 || b == 0) return 0;
  return a > std::numeric_limits<int64_t>::max() / b ? std::numeric_limits<int64_t>::max() : a * b;
}

std::optional<int64_t> parse_int(std::string_view s) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  int64_t value = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return value;
}

std::optional<uint64_t> parse_uint(std::string_view s) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  uint64_t value = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return value;
}

/// Decimal or scientific notation ("0.01", "1e-3", ".5", "-2"); no inf/nan.
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

/// How a value is shown in "found ..." messages.
std::string describe(const YAML::Node& node) {
  if (node.IsNull()) return "nothing";
  if (node.IsSequence()) return node.size() == 0 ? "an empty list" : "a list";
  if (node.IsMap()) return node.size() == 0 ? "an empty mapping" : "a mapping";
  std::string text = node.Scalar();
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  return "'" + text + "'";
}

// ---------------------------------------------------------------------------------------------
// Reader: typed access to node values, every failure a ConfigError at the node's position.

enum class Range { any, positive, non_negative, unit_interval };

class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  const std::string& file() const { return file_; }

  SourceMark at(const YAML::Node& node) const {
    const YAML::Mark mark = node.Mark();
    if (mark.is_null()) return SourceMark{file_, 0, 0};
    return SourceMark{file_, mark.line + 1, mark.column + 1};
  }

  [[noreturn]] void fail(const YAML::Node& node, const std::string& message) const {
    throw ConfigError(at(node), message);
  }

  /// The name of a mapping key (must be a scalar).
  std::string key(const YAML::Node& key) const {
    if (!key.IsScalar()) fail(key, fmt::format("expected a key name, found {}", describe(key)));
    return key.Scalar();
  }

  [[noreturn]] void unknown_key(const YAML::Node& key, std::string_view where,
                                const Names& valid) const {
    const std::string& name = key.Scalar();
    fail(key, fmt::format("unknown key '{}' in {}; valid keys: {}{}", name, where, join(valid),
                          suggestion(name, valid)));
  }

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

  void expect_map(const YAML::Node& node, std::string_view what) const {
    if (!node.IsMap()) {
      fail(node, fmt::format("expected a mapping for '{}', found {}", what, describe(node)));
    }
  }

  std::string string(const YAML::Node& v, std::string_view what) const {
    if (!v.IsScalar())
      fail(v, fmt::format("expected a string for '{}', found {}", what, describe(v)));
    return v.Scalar();
  }

  int64_t integer(const YAML::Node& v, std::string_view what, int64_t min,
                  int64_t max = kMaxInt) const {
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

  uint64_t unsigned_integer(const YAML::Node& v, std::string_view what) const {
    std::optional<uint64_t> value;
    if (v.IsScalar()) value = parse_uint(v.Scalar());
    if (!value) {
      fail(v, fmt::format("expected a non-negative integer for '{}', found {}", what, describe(v)));
    }
    return *value;
  }

  double number(const YAML::Node& v, std::string_view what, Range range) const {
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

  bool boolean(const YAML::Node& v, std::string_view what) const {
    std::optional<bool> value;
    if (v.IsScalar()) value = parse_bool(v.Scalar());
    if (!value)
      fail(v, fmt::format("expected true or false for '{}', found {}", what, describe(v)));
    return *value;
  }

  /// Index of the value in `valid`; "unknown <what> 'x'; valid choices: ..." otherwise.
  std::size_t one_of(const YAML::Node& v, std::string_view what, const Names& valid) const {
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

 private:
  std::string file_;
};

// ---------------------------------------------------------------------------------------------
// Reading and parsing files

std::string read_text(const fs::path& file) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) {
    throw ConfigError(SourceMark{file.string()}, "file not found (or not a regular file)");
  }
  const std::uintmax_t size = fs::file_size(file, ec);
  if (ec) throw ConfigError(SourceMark{file.string()}, "cannot read file: " + ec.message());
  if (size > kMaxFileBytes) {
    throw ConfigError(
        SourceMark{file.string()},
        fmt::format("file too large ({} bytes; the limit is {} bytes)", size, kMaxFileBytes));
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ConfigError(SourceMark{file.string()}, "cannot open file");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/// First pass over the event stream: refuses aliases and duplicate keys, remembers where each
/// document starts (to refuse a second one).
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
    check_utf8(mark, value);
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

  /// Every scalar (key or value) must be UTF-8 text: YAML streams are Unicode (YAML 1.2 sec. 5.2;
  /// yaml-cpp decodes UTF-16/32 files to UTF-8 but passes other bytes through), and names and
  /// values end up in JSON (the run config, its key), which holds only valid UTF-8 (RFC 8259
  /// sec. 8.1).
  void check_utf8(const YAML::Mark& mark, const std::string& value) const {
    const auto bad = utf8::find_invalid(value.begin(), value.end());
    if (bad == value.end()) return;
    throw ConfigError(at(mark),
                      fmt::format("not UTF-8 text: byte 0x{:02X} at offset {} of this value; save "
                                  "the file as UTF-8",
                                  static_cast<unsigned char>(*bad), bad - value.begin()));
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

/// Parses one YAML document whose top level must be a mapping.
YAML::Node parse_document(const std::string& text, const std::string& file) {
  if (text.size() > kMaxFileBytes) {
    throw ConfigError(SourceMark{file},
                      fmt::format("file too large ({} bytes; the limit is {} bytes)", text.size(),
                                  kMaxFileBytes));
  }
  const SourceMark start{file, 1, 1};
  try {
    std::istringstream in(text);
    YAML::Parser parser(in);
    Prescan scan(file);
    if (!parser.HandleNextDocument(scan)) {
      throw ConfigError(start, "empty file; expected a mapping of keys");
    }
    if (parser.HandleNextDocument(scan)) {
      throw ConfigError(scan.at(scan.document_mark),
                        "a second YAML document ('---'); a file holds one document");
    }
    YAML::Node root = YAML::Load(text);
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

// ---------------------------------------------------------------------------------------------
// Architectures

const Names kArchKeys = {"name", "description", "source", "input", "init", "num_classes", "layers"};
const Names kInputKeys = {"channels", "height", "width"};
const Names kInitNames = {"glorot_uniform", "he_uniform", "lecun_uniform_1998",
                          "kaiming_uniform_torch"};
const InitKind kInitKinds[] = {InitKind::glorot_uniform, InitKind::he_uniform,
                               InitKind::lecun_uniform_1998, InitKind::kaiming_uniform_torch};
const Names kLayerKinds = {"conv",    "pool",    "activation", "batch_norm",
                           "dropout", "flatten", "dense",      "softmax"};
const LayerKind kLayerKindValues[] = {
    LayerKind::conv,    LayerKind::pool,    LayerKind::activation, LayerKind::batch_norm,
    LayerKind::dropout, LayerKind::flatten, LayerKind::dense,      LayerKind::softmax};
const Names kConvKeys = {"filters", "kernel", "stride", "padding", "connection_map", "init"};
const Names kPoolKeys = {"type", "size", "stride", "trainable"};
const Names kPoolTypes = {"max", "avg"};
const Names kActivations = {"relu", "tanh", "sigmoid", "scaled_tanh"};
const Names kBatchNormKeys = {"momentum", "epsilon"};
const Names kDropoutKeys = {"rate"};
const Names kDenseKeys = {"units", "init"};

InitKind parse_init(const Reader& r, const YAML::Node& v) {
  return kInitKinds[r.one_of(v, "initializer", kInitNames)];
}

void parse_connection_map(const Reader& r, const YAML::Node& v, LayerSpec& layer) {
  if (!v.IsSequence() || v.size() == 0) {
    r.fail(v, fmt::format("expected a list (one list of input channels per filter) for "
                          "'connection_map', found {}",
                          describe(v)));
  }
  for (const YAML::Node& entry : v) {
    if (!entry.IsSequence() || entry.size() == 0) {
      r.fail(entry, fmt::format("expected a non-empty list of input channel indices in "
                                "'connection_map', found {}",
                                describe(entry)));
    }
    std::vector<int> channels;
    for (const YAML::Node& index : entry) {
      const int c = static_cast<int>(r.integer(index, "connection_map", 0));
      if (std::find(channels.begin(), channels.end(), c) != channels.end()) {
        r.fail(index, fmt::format("input channel {} listed twice in this connection_map entry", c));
      }
      channels.push_back(c);
    }
    layer.connection_map.push_back(std::move(channels));
  }
}

void parse_conv(const Reader& r, const YAML::Node& params, LayerSpec& layer) {
  r.expect_map(params, "conv");
  std::optional<YAML::Node> filters, kernel, padding, map;
  r.for_each_field(params, "conv", kConvKeys,
                   [&](const std::string& k, const YAML::Node&, const YAML::Node& v) {
                     if (k == "filters") {
                       layer.filters = static_cast<int>(r.integer(v, k, 1));
                       filters.emplace(v);
                     } else if (k == "kernel") {
                       layer.kernel = static_cast<int>(r.integer(v, k, 1));
                       kernel.emplace(v);
                     } else if (k == "stride") {
                       layer.stride = static_cast<int>(r.integer(v, k, 1));
                     } else if (k == "padding") {
                       padding.emplace(v);
                     } else if (k == "connection_map") {
                       map.emplace(v);
                     } else if (k == "init") {
                       layer.init = parse_init(r, v);
                       layer.has_init = true;
                     }
                   });
  if (!filters) r.fail(params, "conv needs 'filters' (number of output channels)");
  if (!kernel) r.fail(params, "conv needs 'kernel' (square kernel size)");
  if (padding) {
    const YAML::Node& v = *padding;
    const std::string text = v.IsScalar() ? v.Scalar() : std::string();
    if (text == "same") {
      if (layer.kernel % 2 == 0) {
        r.fail(v, fmt::format("padding 'same' needs an odd kernel, found kernel {}; give the "
                              "padding as a number",
                              layer.kernel));
      }
      layer.padding = layer.kernel / 2;
    } else if (text == "valid") {
      layer.padding = 0;
    } else {
      const std::optional<int64_t> p = v.IsScalar() ? parse_int(text) : std::nullopt;
      if (!p || *p < 0 || *p > kMaxInt) {
        r.fail(v, fmt::format("expected 'same', 'valid' or a non-negative integer for 'padding', "
                              "found {}",
                              describe(v)));
      }
      layer.padding = static_cast<int>(*p);
    }
  }
  if (map) {
    parse_connection_map(r, *map, layer);
    if (static_cast<int>(layer.connection_map.size()) != layer.filters) {
      r.fail(*map, fmt::format("connection_map has {} entries but the layer has {} filters; give "
                               "one list of input channels per filter",
                               layer.connection_map.size(), layer.filters));
    }
  }
}

void parse_pool(const Reader& r, const YAML::Node& params, LayerSpec& layer) {
  r.expect_map(params, "pool");
  std::optional<YAML::Node> type, size, stride, trainable;
  r.for_each_field(params, "pool", kPoolKeys,
                   [&](const std::string& k, const YAML::Node&, const YAML::Node& v) {
                     if (k == "type") {
                       layer.pool_max = r.one_of(v, "pool type", kPoolTypes) == 0;
                       type.emplace(v);
                     } else if (k == "size") {
                       layer.kernel = static_cast<int>(r.integer(v, k, 1));
                       size.emplace(v);
                     } else if (k == "stride") {
                       layer.stride = static_cast<int>(r.integer(v, k, 1));
                       stride.emplace(v);
                     } else if (k == "trainable") {
                       layer.pool_trainable = r.boolean(v, k);
                       trainable.emplace(v);
                     }
                   });
  if (!type) r.fail(params, "pool needs 'type' (max or avg)");
  if (!size) r.fail(params, "pool needs 'size' (square window size)");
  if (!stride) layer.stride = layer.kernel;
  if (layer.pool_trainable && layer.pool_max) {
    r.fail(*trainable,
           "'trainable' applies to average pooling only (LeNet-5 subsampling); use "
           "type: avg");
  }
}

void parse_batch_norm(const Reader& r, const YAML::Node& params, LayerSpec& layer) {
  if (params.IsNull()) return;
  r.expect_map(params, "batch_norm");
  r.for_each_field(params, "batch_norm", kBatchNormKeys,
                   [&](const std::string& k, const YAML::Node&, const YAML::Node& v) {
                     if (k == "momentum") layer.bn_momentum = r.number(v, k, Range::unit_interval);
                     if (k == "epsilon") layer.bn_epsilon = r.number(v, k, Range::positive);
                   });
}

void parse_dropout(const Reader& r, const YAML::Node& params, LayerSpec& layer) {
  if (params.IsScalar()) {
    layer.rate = r.number(params, "dropout", Range::unit_interval);
    return;
  }
  if (!params.IsMap()) {
    r.fail(params,
           fmt::format("expected a rate in [0, 1) or {{rate: RATE}} for 'dropout', found {}",
                       describe(params)));
  }
  bool has_rate = false;
  r.for_each_field(params, "dropout", kDropoutKeys,
                   [&](const std::string& k, const YAML::Node&, const YAML::Node& v) {
                     layer.rate = r.number(v, k, Range::unit_interval);
                     has_rate = true;
                   });
  if (!has_rate) r.fail(params, "dropout needs 'rate' (fraction dropped, in [0, 1))");
}

/// Returns the node of 'units' (for the output-layer check).
YAML::Node parse_dense(const Reader& r, const YAML::Node& params, LayerSpec& layer) {
  r.expect_map(params, "dense");
  std::optional<YAML::Node> units;
  r.for_each_field(params, "dense", kDenseKeys,
                   [&](const std::string& k, const YAML::Node&, const YAML::Node& v) {
                     if (k == "units") {
                       layer.units = static_cast<int>(r.integer(v, k, 1));
                       units.emplace(v);
                     } else if (k == "init") {
                       layer.init = parse_init(r, v);
                       layer.has_init = true;
                     }
                   });
  if (!units) r.fail(params, "dense needs 'units' (number of outputs)");
  return *units;
}

/// One item of `layers`: a plain kind name or a single-key mapping `kind: params`.
/// A dense layer's `units` node is stored in `units_node` (for the output-layer check).
LayerSpec parse_layer(const Reader& r, const YAML::Node& item,
                      std::optional<YAML::Node>& units_node) {
  LayerSpec layer;
  layer.mark = r.at(item);
  if (!item.IsScalar() && !(item.IsMap() && item.size() >= 1)) {
    r.fail(item, fmt::format("expected a layer ('kind: parameters' or a plain kind such as "
                             "flatten), found {}",
                             describe(item)));
  }
  if (item.IsMap() && item.size() > 1) {
    const YAML::Node second = std::next(item.begin())->first;
    r.fail(second, fmt::format("a layer is one 'kind: parameters' pair; found a second key {} "
                               "(check the indentation)",
                               describe(second)));
  }
  // Note: YAML::Node's operator= rebinds shared node data, so nodes are only ever copy-constructed.
  const YAML::Node kind_node = item.IsScalar() ? item : item.begin()->first;
  const YAML::Node params = item.IsScalar() ? YAML::Node() : item.begin()->second;  // Null: plain
  if (!kind_node.IsScalar()) {
    r.fail(kind_node, fmt::format("expected a layer kind, found {}", describe(kind_node)));
  }
  const std::string& kind = kind_node.Scalar();
  const auto found = std::find(kLayerKinds.begin(), kLayerKinds.end(), kind);
  if (found == kLayerKinds.end()) {
    r.fail(kind_node, fmt::format("unknown layer kind '{}'; valid kinds: {}{}", kind,
                                  join(kLayerKinds), suggestion(kind, kLayerKinds)));
  }
  layer.kind = kLayerKindValues[found - kLayerKinds.begin()];
  const bool plain = params.IsNull();
  const auto needs_params = [&](const char* example) {
    if (plain) {
      r.fail(item, fmt::format("layer '{}' needs parameters, e.g. '- {}'", kind, example));
    }
  };
  switch (layer.kind) {
    case LayerKind::conv:
      needs_params("conv: {filters: 6, kernel: 5}");
      parse_conv(r, params, layer);
      break;
    case LayerKind::pool:
      needs_params("pool: {type: max, size: 2}");
      parse_pool(r, params, layer);
      break;
    case LayerKind::activation:
      needs_params("activation: relu");
      layer.activation = kActivations[r.one_of(params, "activation", kActivations)];
      break;
    case LayerKind::batch_norm:
      parse_batch_norm(r, params, layer);
      break;
    case LayerKind::dropout:
      needs_params("dropout: 0.5");
      parse_dropout(r, params, layer);
      break;
    case LayerKind::dense:
      needs_params("dense: {units: 10}");
      units_node.emplace(parse_dense(r, params, layer));
      break;
    case LayerKind::flatten:
    case LayerKind::softmax:
      if (!plain) {
        r.fail(params, fmt::format("'{}' takes no parameters; write '- {}'", kind, kind));
      }
      break;
  }
  return layer;
}

/// The output must be: ..., dense(num_classes), softmax -- softmax exactly once, last.
void check_output(const Reader& r, const YAML::Node& layers_node, const ArchSpec& arch,
                  const std::vector<YAML::Node>& nodes, const std::vector<YAML::Node>& blame) {
  const std::size_t n = arch.layers.size();
  for (std::size_t i = 0; i + 1 < n; ++i) {
    if (arch.layers[i].kind == LayerKind::softmax) {
      r.fail(nodes[i],
             fmt::format("softmax must be the last layer (it is layer {} of {})", i + 1, n));
    }
  }
  if (n == 0) r.fail(layers_node, "'layers' is empty");
  if (arch.layers[n - 1].kind != LayerKind::softmax) {
    r.fail(nodes[n - 1], fmt::format("the last layer must be softmax (the network's output), found "
                                     "'{}'",
                                     to_string(arch.layers[n - 1].kind)));
  }
  if (n < 2 || arch.layers[n - 2].kind != LayerKind::dense) {
    r.fail(nodes[n - 1],
           fmt::format("softmax must directly follow a dense layer with num_classes ({}) units, "
                       "found {} before it",
                       arch.num_classes,
                       n < 2 ? std::string("nothing")
                             : fmt::format("'{}'", to_string(arch.layers[n - 2].kind))));
  }
  if (arch.layers[n - 2].units != arch.num_classes) {
    r.fail(blame[n - 2], fmt::format("the output dense layer has {} units but num_classes is {}",
                                     arch.layers[n - 2].units, arch.num_classes));
  }
}

/// Walks the layers with their output shapes in 64-bit arithmetic, so that an architecture the
/// engine cannot build is refused here, before any run, at the offending layer's file:line:column
/// (the engine re-checks when it builds a network; see nn/layers.hpp).
void check_shapes(const Reader& r, const ArchSpec& arch, const YAML::Node& input_node,
                  const std::vector<YAML::Node>& nodes) {
  // 128-bit: every value is below 2^31, but products of three (c * h * w, filters * c * k * k)
  // overflow 64 bits before the limits below catch them.
  __extension__ typedef __int128 Wide;  // GCC and Clang; __extension__: no -Wpedantic note
  Wide c = arch.input_channels, h = arch.input_height, w = arch.input_width;
  bool flat = false;
  auto shape = [&] { return flat ? fmt::format("({})", c) : fmt::format("({}, {}, {})", c, h, w); };
  if (c * h * w > kMaxElementsPerImage) {
    r.fail(input_node,
           fmt::format("the input has {} values per image, more than lenetlab's limit of "
                       "{}",
                       c * h * w, kMaxElementsPerImage));
  }
  Wide parameters = 0;
  for (std::size_t i = 0; i < arch.layers.size(); ++i) {
    const LayerSpec& l = arch.layers[i];
    const YAML::Node& node = nodes[i];
    const char* kind = to_string(l.kind);
    auto needs_image = [&] {
      if (flat) {
        r.fail(node, fmt::format("{} needs a (C, H, W) input, but its input is flat {} (after "
                                 "flatten or dense)",
                                 kind, shape()));
      }
    };
    switch (l.kind) {
      case LayerKind::conv: {
        needs_image();
        const Wide oh = conv_output_size(static_cast<int64_t>(h), l.kernel, l.stride, l.padding);
        const Wide ow = conv_output_size(static_cast<int64_t>(w), l.kernel, l.stride, l.padding);
        if (oh < 1 || ow < 1) {
          r.fail(node, fmt::format("kernel {} with padding {} does not fit the input {}", l.kernel,
                                   l.padding, shape()));
        }
        for (std::size_t o = 0; o < l.connection_map.size(); ++o) {
          for (const int channel : l.connection_map[o]) {
            if (channel >= c) {
              r.fail(node,
                     fmt::format("connection_map[{}] names input channel {}, the input has {} "
                                 "channels",
                                 o, channel, c));
            }
          }
        }
        parameters += Wide{l.filters} * (c * l.kernel * l.kernel + 1);
        c = l.filters, h = oh, w = ow;
        break;
      }
      case LayerKind::pool: {
        needs_image();
        const Wide oh = conv_output_size(static_cast<int64_t>(h), l.kernel, l.stride, 0);
        const Wide ow = conv_output_size(static_cast<int64_t>(w), l.kernel, l.stride, 0);
        if (oh < 1 || ow < 1) {
          r.fail(node, fmt::format("pool size {} does not fit the input {}: a dimension would be "
                                   "zero",
                                   l.kernel, shape()));
        }
        if (l.pool_trainable) parameters += 2 * c;
        h = oh, w = ow;
        break;
      }
      case LayerKind::batch_norm:
        parameters += 4 * c;  // gamma, beta, moving mean, moving variance
        break;
      case LayerKind::flatten:
        c = c * h * w, h = 1, w = 1, flat = true;
        break;
      case LayerKind::dense:
        if (!flat) {
          r.fail(node, fmt::format("dense needs a flat input; add `- flatten` before it (its input "
                                   "is {})",
                                   shape()));
        }
        parameters += (c + 1) * l.units;
        c = l.units;
        break;
      case LayerKind::activation:
      case LayerKind::dropout:
      case LayerKind::softmax:
        break;
    }
    if (c * h * w > kMaxElementsPerImage) {
      r.fail(node,
             fmt::format("{} outputs {} = {} values per image, more than lenetlab's limit of {}",
                         kind, shape(), c * h * w, kMaxElementsPerImage));
    }
    if (parameters > kMaxParameters) {
      r.fail(node, fmt::format("the network has {} parameters up to this {} layer, more than "
                               "lenetlab's limit of {} ({} MB of float32 weights)",
                               parameters, kind, kMaxParameters, kMaxParameters * 4 / 1000000));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Sweeps

const Names kSweepKeys = {"name", "description", "dataset",   "base",
                          "grid", "recipes",     "references"};
const Names kReferenceKeys = {"architecture", "test_accuracy", "test_error",
                              "required_test_accuracy", "source"};

/// One entry of the sweep's `references` list.
PublishedResult parse_reference(const Reader& r, const YAML::Node& node) {
  PublishedResult p;
  bool has_figure = false;
  r.for_each_field(node, "reference", kReferenceKeys,
                   [&](const std::string& k, const YAML::Node&, const YAML::Node& v) {
                     if (k == "architecture") {
                       p.architecture = r.string(v, k);
                     } else if (k == "test_accuracy") {
                       p.test_accuracy = r.number(v, k, Range::unit_interval);
                       has_figure = true;
                     } else if (k == "test_error") {
                       p.test_accuracy = 1.0 - r.number(v, k, Range::unit_interval);
                       has_figure = true;
                     } else if (k == "required_test_accuracy") {
                       p.required_test_accuracy = r.number(v, k, Range::unit_interval);
                     } else {
                       p.source = r.string(v, k);
                     }
                   });
  if (p.architecture.empty()) r.fail(node, "a reference needs 'architecture'");
  if (!has_figure && p.required_test_accuracy == 0)
    r.fail(node, "a reference needs 'test_accuracy', 'test_error' or 'required_test_accuracy'");
  return p;
}
const Names kSettingKeys = {"architecture",     "epochs",
                            "batch_size",       "seed",
                            "validation_split", "shuffle",
                            "drop_last",        "normalize",
                            "optimizer",        "learning_rate",
                            "early_stopping",   "train_limit",
                            "test_limit",       "learning_rate_schedule"};
const Names kNormalizeKeys = {"mean", "std"};
const Names kEarlyStoppingKeys = {"monitor", "patience", "min_delta", "mode",
                                  "restore_best_weights"};
const Names kMonitors = {"val_loss", "val_accuracy", "train_loss", "train_accuracy"};
const Names kModes = {"min", "max", "auto"};
const Names kOptimizers = {"sgd", "adam", "rmsprop"};
/// Keys valid in an optimizer mapping, per optimizer (index as kOptimizers).
const Names kOptimizerKeys[] = {
    {"name", "learning_rate", "momentum", "nesterov", "weight_decay"},
    {"name", "learning_rate", "beta_1", "beta_2", "epsilon", "weight_decay"},
    {"name", "learning_rate", "rho", "momentum", "epsilon", "weight_decay"},
};
/// Keras defaults (keras.io/api/optimizers): SGD 0.01, Adam 0.001, RMSprop 0.001.
const double kDefaultLearningRate[] = {0.01, 0.001, 0.001};
const Names kAllOptimizerKeys = {"name",   "learning_rate", "momentum", "nesterov",    "beta_1",
                                 "beta_2", "epsilon",       "rho",      "weight_decay"};

/// One value of a setting after list expansion: a scalar (node), or a mapping whose fields are
/// themselves expanded values. `node` keeps the source position for error messages.
struct Field;
struct Value {
  YAML::Node node;
  std::vector<Field> fields;  // when node is a mapping
};
struct Field {
  std::string name;
  YAML::Node key;
  Value value;
};

/// Number of concrete values `node` stands for: a list is the sum of its items, a mapping the
/// product of its values (a sub-grid), a scalar 1. Saturates at INT64_MAX.
int64_t count_values(const Reader& r, const YAML::Node& node, std::string_view what, bool in_list) {
  if (node.IsSequence()) {
    if (in_list) {
      r.fail(node,
             fmt::format("a list inside a list of choices for '{}'; write one flat list", what));
    }
    if (node.size() == 0) {
      r.fail(node, fmt::format("empty list of choices for '{}'; give at least one value", what));
    }
    int64_t total = 0;
    for (const YAML::Node& item : node) {
      total = add_saturated(total, count_values(r, item, what, true));
    }
    return total;
  }
  if (node.IsMap()) {
    int64_t product = 1;
    for (const auto& kv : node) {
      product = mul_saturated(product, count_values(r, kv.second, r.key(kv.first), false));
    }
    return product;
  }
  return 1;
}

/// The concrete values of `node`, in count_values' order: list items in order; for a mapping the
/// cartesian product of its values with the first key varying slowest.
std::vector<Value> expand_values(const YAML::Node& node) {
  if (node.IsSequence()) {
    std::vector<Value> out;
    for (const YAML::Node& item : node) {
      std::vector<Value> part = expand_values(item);
      std::move(part.begin(), part.end(), std::back_inserter(out));
    }
    return out;
  }
  if (!node.IsMap()) return {Value{node, {}}};
  std::vector<Value> out = {Value{node, {}}};
  for (const auto& kv : node) {
    const std::vector<Value> choices = expand_values(kv.second);
    std::vector<Value> next;
    next.reserve(out.size() * choices.size());
    for (const Value& partial : out) {
      for (const Value& choice : choices) {
        Value v = partial;
        v.fields.push_back(Field{kv.first.Scalar(), kv.first, choice});
        next.push_back(std::move(v));
      }
    }
    out = std::move(next);
  }
  return out;
}

/// The value of `node` taken literally (base: lists are not expanded, refused earlier).
Value literal_value(const YAML::Node& node) {
  Value v{node, {}};
  if (node.IsMap()) {
    for (const auto& kv : node) {
      v.fields.push_back(Field{kv.first.Scalar(), kv.first, literal_value(kv.second)});
    }
  }
  return v;
}

/// Refuses lists anywhere in base (choices belong in grid or recipes).
void refuse_lists(const Reader& r, const YAML::Node& node, std::string_view what) {
  if (node.IsSequence()) {
    r.fail(node, fmt::format("a list for '{}' in base; base holds one value per setting, lists of "
                             "choices belong in 'grid' or 'recipes'",
                             what));
  }
  if (node.IsMap()) {
    for (const auto& kv : node) refuse_lists(r, kv.second, r.key(kv.first));
  }
}

/// Checks that `map` is a settings mapping (keys from kSettingKeys).
void check_settings(const Reader& r, const YAML::Node& map, std::string_view where) {
  if (!map.IsMap()) {
    r.fail(map,
           fmt::format("expected a mapping of settings for {}, found {}", where, describe(map)));
  }
  r.for_each_field(map, where, kSettingKeys, [](auto&&...) {});
}

/// A setting chosen for one run, with its precedence layer (0 base, 1 recipe, 2 grid).
/// Holds pointers: YAML::Node's operator= would rebind the document's nodes.
struct Chosen {
  const YAML::Node* key;
  const Value* value;
  int layer;
};
using Settings = std::map<std::string, Chosen, std::less<>>;

class SweepBuilder {
 public:
  SweepBuilder(const Reader& reader, const YAML::Node& root, fs::path sweep_dir,
               std::string dataset)
      : r_(reader), root_(root), sweep_dir_(std::move(sweep_dir)), dataset_(std::move(dataset)) {}

  RunConfig build(const Settings& settings) {
    RunConfig run;
    run.dataset = dataset_;
    std::optional<YAML::Node> monitor_node, early_node;
    for (const auto& [name, chosen] : settings) {
      const YAML::Node& v = chosen.value->node;
      if (name == "architecture") {
        run.architecture = r_.string(v, name);
        run.arch = architecture(v);
      } else if (name == "epochs") {
        run.epochs = static_cast<int>(r_.integer(v, name, 1));
      } else if (name == "batch_size") {
        run.batch_size = static_cast<int>(r_.integer(v, name, 1));
      } else if (name == "seed") {
        run.seed = r_.unsigned_integer(v, name);
      } else if (name == "validation_split") {
        run.validation_split = r_.number(v, name, Range::unit_interval);
      } else if (name == "shuffle") {
        run.shuffle = r_.boolean(v, name);
      } else if (name == "drop_last") {
        run.drop_last = r_.boolean(v, name);
      } else if (name == "train_limit") {
        run.train_limit = static_cast<int>(r_.integer(v, name, 0));
      } else if (name == "test_limit") {
        run.test_limit = static_cast<int>(r_.integer(v, name, 0));
      } else if (name == "normalize") {
        parse_normalize(*chosen.value, run);
      } else if (name == "learning_rate_schedule") {
        parse_schedule(*chosen.value, run);
      } else if (name == "early_stopping") {
        early_node.emplace(v);
        parse_early_stopping(*chosen.value, run.early_stopping, monitor_node);
      }
    }
    if (run.architecture.empty()) {
      r_.fail(root_,
              "no architecture for this run; set 'architecture' in base, a recipe or the grid");
    }
    resolve_optimizer(settings, run.optimizer);
    if (run.early_stopping.enabled && run.early_stopping.monitor.rfind("val_", 0) == 0 &&
        run.validation_split <= 0.0) {
      r_.fail(
          monitor_node ? *monitor_node : *early_node,
          fmt::format("early_stopping monitors '{}' but validation_split is 0 for this run; set "
                      "validation_split > 0 or monitor train_loss/train_accuracy",
                      run.early_stopping.monitor));
    }
    return run;
  }

 private:
  const ArchSpec& architecture(const YAML::Node& v) {
    const std::string& name = v.Scalar();
    const auto cached = cache_.find(name);
    if (cached != cache_.end()) return cached->second;
    if (name.empty()) r_.fail(v, "empty architecture name");
    std::string target = name;
    if (looks_like_path(name)) {
      const fs::path path(name);
      if (path.is_relative()) target = (sweep_dir_ / path).string();
    }
    ArchSpec arch = load_architecture(find_architecture(target, r_.at(v)));
    return cache_.emplace(name, std::move(arch)).first->second;
  }

  void parse_normalize(const Value& value, RunConfig& run) const {
    r_.expect_map(value.node, "normalize");
    run.normalize_mean = 0.0;
    run.normalize_std = 1.0;
    for (const Field& f : value.fields) {
      if (!contains(kNormalizeKeys, f.name)) r_.unknown_key(f.key, "normalize", kNormalizeKeys);
      if (f.name == "mean") run.normalize_mean = r_.number(f.value.node, f.name, Range::any);
      if (f.name == "std") run.normalize_std = r_.number(f.value.node, f.name, Range::positive);
    }
  }

  /// `{FIRST_EPOCH: FACTOR, ...}`, e.g. {3: 0.4, 6: 0.2}: epochs increasing, factors > 0.
  void parse_schedule(const Value& value, RunConfig& run) const {
    r_.expect_map(value.node, "learning_rate_schedule");
    auto& steps = run.learning_rate_schedule.steps;
    steps.clear();
    for (const Field& f : value.fields) {
      const int epoch = static_cast<int>(r_.integer(f.key, "learning_rate_schedule epoch", 1));
      if (!steps.empty() && epoch <= steps.back().first) {
        r_.fail(f.key, fmt::format("learning_rate_schedule epochs must increase: {} comes after {}",
                                   epoch, steps.back().first));
      }
      steps.emplace_back(epoch,
                         r_.number(f.value.node, "learning_rate_schedule factor", Range::positive));
    }
    if (steps.empty())
      r_.fail(value.node, "learning_rate_schedule is empty; write {EPOCH: FACTOR}");
  }

  void parse_early_stopping(const Value& value, EarlyStoppingConfig& es,
                            std::optional<YAML::Node>& monitor_node) const {
    es = EarlyStoppingConfig{};
    if (value.node.IsScalar() && parse_bool(value.node.Scalar())) {
      es.enabled = *parse_bool(value.node.Scalar());
      return;
    }
    if (!value.node.IsMap()) {
      r_.fail(value.node, fmt::format("expected a mapping ({}) or true/false for 'early_stopping', "
                                      "found {}",
                                      join(kEarlyStoppingKeys), describe(value.node)));
    }
    es.enabled = true;
    for (const Field& f : value.fields) {
      const YAML::Node& v = f.value.node;
      if (!contains(kEarlyStoppingKeys, f.name)) {
        r_.unknown_key(f.key, "early_stopping", kEarlyStoppingKeys);
      }
      if (f.name == "monitor") {
        es.monitor = kMonitors[r_.one_of(v, "monitor", kMonitors)];
        monitor_node.emplace(v);
      } else if (f.name == "patience") {
        es.patience = static_cast<int>(r_.integer(v, f.name, 0));
      } else if (f.name == "min_delta") {
        es.min_delta = r_.number(v, f.name, Range::non_negative);
      } else if (f.name == "mode") {
        es.mode = kModes[r_.one_of(v, "mode", kModes)];
      } else if (f.name == "restore_best_weights") {
        es.restore_best_weights = r_.boolean(v, f.name);
      }
    }
  }

  /// optimizer (name or mapping; a later layer replaces it wholesale) + learning_rate (applies to
  /// whichever optimizer is chosen, unless the optimizer mapping of a higher layer sets its own).
  void resolve_optimizer(const Settings& settings, OptimizerConfig& opt) const {
    opt = OptimizerConfig{};
    const auto o = settings.find("optimizer");
    const auto lr = settings.find("learning_rate");
    std::size_t index = 0;  // sgd
    std::optional<YAML::Node> own_lr, nesterov;
    if (o != settings.end()) {
      const Value& value = *o->second.value;
      if (value.node.IsMap()) {
        const Field* name = nullptr;
        for (const Field& f : value.fields) {
          if (f.name == "name") name = &f;
        }
        if (name == nullptr) {
          r_.fail(value.node,
                  fmt::format("an optimizer mapping needs 'name' ({})", join(kOptimizers)));
        }
        index = r_.one_of(name->value.node, "optimizer", kOptimizers);
        opt.name = kOptimizers[index];
        const Names& valid = kOptimizerKeys[index];
        for (const Field& f : value.fields) {
          const YAML::Node& v = f.value.node;
          if (!contains(valid, f.name)) {
            if (contains(kAllOptimizerKeys, f.name)) {
              r_.fail(f.key, fmt::format("'{}' does not apply to {}; valid keys for {}: {}", f.name,
                                         opt.name, opt.name, join(valid)));
            }
            r_.unknown_key(f.key, "optimizer", valid);
          }
          if (f.name == "learning_rate") {
            opt.learning_rate = r_.number(v, f.name, Range::positive);
            own_lr.emplace(v);
          } else if (f.name == "momentum") {
            opt.momentum = r_.number(v, f.name, Range::unit_interval);
          } else if (f.name == "nesterov") {
            opt.nesterov = r_.boolean(v, f.name);
            nesterov.emplace(v);
          } else if (f.name == "beta_1") {
            opt.beta_1 = r_.number(v, f.name, Range::unit_interval);
          } else if (f.name == "beta_2") {
            opt.beta_2 = r_.number(v, f.name, Range::unit_interval);
          } else if (f.name == "epsilon") {
            opt.epsilon = r_.number(v, f.name, Range::positive);
          } else if (f.name == "rho") {
            opt.rho = r_.number(v, f.name, Range::unit_interval);
          } else if (f.name == "weight_decay") {
            opt.weight_decay = r_.number(v, f.name, Range::non_negative);
          }
        }
      } else {
        index = r_.one_of(value.node, "optimizer", kOptimizers);
        opt.name = kOptimizers[index];
      }
    }
    if (!own_lr) opt.learning_rate = kDefaultLearningRate[index];
    if (lr != settings.end()) {
      const YAML::Node& v = lr->second.value->node;
      const double value = r_.number(v, "learning_rate", Range::positive);
      if (own_lr && lr->second.layer == o->second.layer) {
        r_.fail(*lr->second.key,
                "'learning_rate' is given both here and inside 'optimizer' at the "
                "same level; keep one");
      }
      if (!own_lr || lr->second.layer > o->second.layer) opt.learning_rate = value;
    }
    if (opt.nesterov && opt.momentum <= 0.0) {
      r_.fail(*nesterov, "nesterov needs momentum > 0");
    }
  }

  const Reader& r_;
  YAML::Node root_;
  fs::path sweep_dir_;
  std::string dataset_;
  std::unordered_map<std::string, ArchSpec> cache_;  // by the name as written
};

void check_dataset(const Reader& r, const YAML::Node& v, std::string& dataset) {
  dataset = r.string(v, "dataset");
  if (dataset == "mnist" || dataset == "fashion-mnist") return;
  if (dataset.rfind("csv:", 0) == 0) {
    const std::string files = dataset.substr(4);
    const std::size_t comma = files.find(',');
    if (comma != std::string::npos && comma > 0 && comma + 1 < files.size()) return;
    r.fail(v,
           fmt::format("expected 'csv:TRAIN.csv,TEST.csv' for 'dataset', found {}", describe(v)));
  }
  r.fail(v, fmt::format("unknown dataset {}; valid choices: mnist, fashion-mnist, "
                        "csv:TRAIN.csv,TEST.csv",
                        describe(v)));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Public API

std::vector<fs::path> architecture_search_path() {
  std::vector<fs::path> dirs;
  if (const char* env = std::getenv("LENETLAB_ARCH_PATH")) {
    std::string_view rest(env);
    while (!rest.empty()) {
      const std::size_t colon = rest.find(':');
      const std::string_view entry = rest.substr(0, colon);
      if (!entry.empty()) dirs.emplace_back(std::string(entry));
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  }
  dirs.emplace_back("experiments/architectures");
#ifdef LENETLAB_SOURCE_DIR
  dirs.emplace_back(fs::path(LENETLAB_SOURCE_DIR) / "experiments" / "architectures");
#endif
  return dirs;
}

std::vector<std::string> available_architectures() {
  std::vector<std::string> names;
  for (const fs::path& dir : architecture_search_path()) {
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->path().extension() == ".yaml" && it->is_regular_file(ec)) {
        names.push_back(it->path().stem().string());
      }
    }
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

fs::path find_architecture(const std::string& name_or_path, const SourceMark& where) {
  std::error_code ec;
  if (looks_like_path(name_or_path)) {
    if (fs::is_regular_file(name_or_path, ec)) return name_or_path;
    throw ConfigError(where, fmt::format("architecture file '{}' not found", name_or_path));
  }
  const std::vector<fs::path> dirs = architecture_search_path();
  for (const fs::path& dir : dirs) {
    fs::path candidate = dir / (name_or_path + ".yaml");
    if (fs::is_regular_file(candidate, ec)) return candidate;
  }
  const std::vector<std::string> names = available_architectures();
  const Names views(names.begin(), names.end());
  std::string searched;
  for (const fs::path& dir : dirs) searched += (searched.empty() ? "" : ":") + dir.string();
  throw ConfigError(
      where,
      fmt::format("unknown architecture '{}'; available: {}{} (search path: {})", name_or_path,
                  names.empty() ? "none" : join(views), suggestion(name_or_path, views), searched));
}

ArchSpec load_architecture(const fs::path& file) {
  return parse_architecture(read_text(file), file.string());
}

ArchSpec parse_architecture(const std::string& text, const std::string& file_name) {
  const YAML::Node root = parse_document(text, file_name);
  const Reader r(file_name);
  ArchSpec arch;
  arch.file = file_name;
  arch.yaml = text;
  std::optional<YAML::Node> name, layers, input_node;
  r.for_each_field(
      root, "architecture", kArchKeys,
      [&](const std::string& k, const YAML::Node&, const YAML::Node& v) {
        if (k == "name") {
          arch.name = r.string(v, k);
          if (!is_simple_name(arch.name)) {
            r.fail(v, fmt::format("invalid architecture name '{}'; use letters, digits, '_', '.' "
                                  "and '-'",
                                  arch.name));
          }
          name.emplace(v);
        } else if (k == "description") {
          arch.description = r.string(v, k);
        } else if (k == "source") {
          arch.source = r.string(v, k);
        } else if (k == "input") {
          input_node.emplace(v);
          r.expect_map(v, "input");
          int seen = 0;
          r.for_each_field(v, "input", kInputKeys,
                           [&](const std::string& ik, const YAML::Node&, const YAML::Node& iv) {
                             const int value = static_cast<int>(r.integer(iv, ik, 1));
                             if (ik == "channels") arch.input_channels = value;
                             if (ik == "height") arch.input_height = value;
                             if (ik == "width") arch.input_width = value;
                             ++seen;
                           });
          if (seen != 3) r.fail(v, "input needs channels, height and width");
        } else if (k == "init") {
          arch.init = parse_init(r, v);
        } else if (k == "num_classes") {
          arch.num_classes = static_cast<int>(r.integer(v, k, 2));
        } else if (k == "layers") {
          layers.emplace(v);
        }
      });
  if (!name) r.fail(root, "missing required key 'name' in architecture");
  if (!layers) r.fail(root, "missing required key 'layers' in architecture");
  if (!layers->IsSequence()) {
    r.fail(*layers,
           fmt::format("expected a list of layers for 'layers', found {}", describe(*layers)));
  }
  std::vector<YAML::Node> nodes, blame;
  for (const YAML::Node& item : *layers) {
    std::optional<YAML::Node> units;
    arch.layers.push_back(parse_layer(r, item, units));
    nodes.push_back(item);
    blame.push_back(units ? *units : item);
  }
  check_output(r, *layers, arch, nodes, blame);
  check_shapes(r, arch, input_node ? *input_node : root, nodes);
  return arch;
}

Sweep load_sweep(const fs::path& file, const SweepOptions& options) {
  return parse_sweep(read_text(file), file.string(), options);
}

Sweep parse_sweep(const std::string& text, const std::string& file_name,
                  const SweepOptions& options) {
  const YAML::Node root = parse_document(text, file_name);
  const Reader r(file_name);
  Sweep sweep;
  sweep.file = file_name;
  sweep.yaml = text;
  sweep.dataset = "mnist";

  // Top level.
  std::optional<YAML::Node> name, base, grid, recipes;
  r.for_each_field(root, "sweep", kSweepKeys,
                   [&](const std::string& k, const YAML::Node&, const YAML::Node& v) {
                     if (k == "name") {
                       sweep.name = r.string(v, k);
                       if (!is_simple_name(sweep.name)) {
                         r.fail(v, fmt::format("invalid sweep name '{}'; use letters, digits, "
                                               "'_', '.' and '-'",
                                               sweep.name));
                       }
                       name.emplace(v);
                     } else if (k == "description") {
                       r.string(v, k);
                     } else if (k == "dataset") {
                       check_dataset(r, v, sweep.dataset);
                     } else if (k == "references") {
                       if (!v.IsSequence())
                         r.fail(v, fmt::format("expected a list of references for 'references', "
                                               "found {}",
                                               describe(v)));
                       for (const YAML::Node& item : v)
                         sweep.references.push_back(parse_reference(r, item));
                     } else if (!v.IsNull()) {
                       (k == "base" ? base : k == "grid" ? grid : recipes).emplace(v);
                     }
                   });
  if (!name) r.fail(root, "missing required key 'name' (the sweep's name, [A-Za-z0-9_.-]+)");

  // Shape of base, recipes and grid; count the runs before building any.
  if (base) {
    check_settings(r, *base, "base");
    refuse_lists(r, *base, "base");
  }
  int64_t recipe_count = 1;
  if (recipes) {
    if (!recipes->IsSequence()) {
      r.fail(*recipes, fmt::format("expected a list of recipes (settings mappings) for 'recipes', "
                                   "found {}",
                                   describe(*recipes)));
    }
    if (recipes->size() == 0)
      r.fail(*recipes, "empty list for 'recipes'; give at least one recipe");
    recipe_count = 0;
    for (const YAML::Node& recipe : *recipes) {
      check_settings(r, recipe, "recipe");
      recipe_count = add_saturated(recipe_count, count_values(r, recipe, "recipe", false));
    }
  }
  int64_t grid_count = 1;
  if (grid) {
    check_settings(r, *grid, "grid");
    for (const auto& kv : *grid) {
      grid_count = mul_saturated(grid_count, count_values(r, kv.second, kv.first.Scalar(), false));
    }
  }
  const int64_t total = mul_saturated(recipe_count, grid_count);
  if (total > options.max_runs && !options.force) {
    const std::string count = total == std::numeric_limits<int64_t>::max()
                                  ? fmt::format("more than {}", total)
                                  : fmt::format("{}", total);
    r.fail(grid      ? *grid
           : recipes ? *recipes
                     : root,
           fmt::format("sweep expands to {} runs, more than the limit {}; pass --force to run it "
                       "anyway",
                       count, options.max_runs));
  }

  // Expand: recipes (outer, in order) x grid (first key slowest).
  const Value base_value = base ? literal_value(*base) : Value{};
  std::vector<Value> recipe_values;
  if (recipes) {
    for (const YAML::Node& recipe : *recipes) {
      std::vector<Value> part = expand_values(recipe);
      std::move(part.begin(), part.end(), std::back_inserter(recipe_values));
    }
  } else {
    recipe_values.emplace_back();
  }
  struct Axis {
    std::string name;
    YAML::Node key;
    std::vector<Value> choices;
  };
  std::vector<Axis> axes;
  if (grid) {
    for (const auto& kv : *grid)
      axes.push_back(Axis{kv.first.Scalar(), kv.first, expand_values(kv.second)});
  }

  const fs::path sweep_dir = fs::path(file_name).parent_path();
  SweepBuilder builder(r, root, sweep_dir, sweep.dataset);
  sweep.runs.reserve(static_cast<std::size_t>(total));
  for (const Value& recipe : recipe_values) {
    std::vector<std::size_t> index(axes.size(), 0);
    while (true) {
      Settings settings;
      for (const Field& f : base_value.fields)
        settings.insert_or_assign(f.name, Chosen{&f.key, &f.value, 0});
      for (const Field& f : recipe.fields)
        settings.insert_or_assign(f.name, Chosen{&f.key, &f.value, 1});
      for (std::size_t a = 0; a < axes.size(); ++a) {
        settings.insert_or_assign(axes[a].name,
                                  Chosen{&axes[a].key, &axes[a].choices[index[a]], 2});
      }
      sweep.runs.push_back(builder.build(settings));
      std::size_t a = axes.size();
      while (a > 0 && ++index[a - 1] == axes[a - 1].choices.size()) index[--a] = 0;
      if (a == 0) break;
    }
  }

  // Identical runs would share one key (and one result); refuse them.
  std::unordered_map<std::string, std::size_t> seen;
  for (std::size_t i = 0; i < sweep.runs.size(); ++i) {
    const auto [it, inserted] = seen.emplace(sweep.runs[i].key(), i);
    if (!inserted) {
      r.fail(grid      ? *grid
             : recipes ? *recipes
                       : root,
             fmt::format("runs {} and {} are identical ({}); remove the repeated choice",
                         it->second + 1, i + 1, sweep.runs[i].display_name()));
    }
  }
  return sweep;
}

}  // namespace lenetlab
