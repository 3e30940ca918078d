// Loader of bench matrix files (format: bench.hpp BenchMatrix). The only code of the bench module
// that touches YAML nodes.
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <string_view>

#include "bench/bench.hpp"
#include "config/yaml_loader.hpp"
#include "core/error.hpp"

#ifndef LENETLAB_SOURCE_DIR
#define LENETLAB_SOURCE_DIR "."
#endif

namespace lenetlab {

namespace {

constexpr std::uintmax_t kMaxFileBytes = 1u << 20;  // 1 MiB, as for sweeps
constexpr const char* kKeys =
    "architectures, batch_sizes, threads, warmup_steps, steps, repetitions, dataset, seed";

/// A name is a path when it has a '/' or a YAML extension (as in sweeps).
bool looks_like_path(std::string_view s) {
  auto ends_with = [&](std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
  };
  return s.find('/') != std::string_view::npos || ends_with(".yaml") || ends_with(".yml");
}

/// yaml-cpp marks are 0-based; ours are 1-based.
SourceMark mark_of(const std::string& file, const YAML::Mark& m) {
  return SourceMark{file, m.line + 1, m.column + 1};
}

struct Reader {
  std::string file;

  [[noreturn]] void fail(const YAML::Node& node, const std::string& message) const {
    throw ConfigError(mark_of(file, node.Mark()), message);
  }

  /// A plain integer scalar in [lo, hi] (no sign tricks, no fraction, no trailing text).
  int64_t integer(const YAML::Node& node, const std::string& key, int64_t lo, int64_t hi) const {
    if (!node.IsScalar()) fail(node, fmt::format("{}: expected an integer in {}..{}", key, lo, hi));
    const std::string& s = node.Scalar();
    int64_t value = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc() || end != s.data() + s.size() || s.empty())
      fail(node, fmt::format("{}: '{}' is not an integer; expected an integer in {}..{}", key, s,
                             lo, hi));
    if (value < lo || value > hi)
      fail(node, fmt::format("{}: {} is out of range; expected an integer in {}..{}", key, value,
                             lo, hi));
    return value;
  }

  std::string text(const YAML::Node& node, const std::string& key) const {
    if (!node.IsScalar() || node.Scalar().empty())
      fail(node, key + ": expected a non-empty string");
    return node.Scalar();
  }

  /// A list (or one scalar, taken as a one-element list) of unique elements.
  std::vector<YAML::Node> items(const YAML::Node& node, const std::string& key) const {
    std::vector<YAML::Node> out;
    if (node.IsScalar()) {
      out.push_back(node);
    } else if (node.IsSequence()) {
      for (const YAML::Node& item : node) out.push_back(item);
    } else {
      fail(node, key + ": expected a list, e.g. [1, 2]");
    }
    if (out.empty()) fail(node, key + ": the list is empty; give at least one value");
    std::set<std::string> seen;
    for (const YAML::Node& item : out) {
      if (!item.IsScalar())
        fail(item, key + ": expected a single value in the list, not a list or mapping");
      if (!seen.insert(item.Scalar()).second)
        fail(item, fmt::format("{}: '{}' is listed twice", key, item.Scalar()));
    }
    return out;
  }

  std::vector<int> integers(const YAML::Node& node, const std::string& key, int lo, int hi) const {
    std::vector<int> out;
    for (const YAML::Node& item : items(node, key))
      out.push_back(static_cast<int>(integer(item, key, lo, hi)));
    return out;
  }
};

}  // namespace

BenchMatrix parse_bench_matrix(const std::string& text, const std::string& file_name) {
  const Reader r{file_name};
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    throw ConfigError(mark_of(file_name, e.mark), "YAML syntax error: " + e.msg);
  }
  BenchMatrix m;
  m.file = file_name;
  m.yaml = text;
  if (root.IsNull()) {
    // An empty file is the default matrix.
  } else if (!root.IsMap()) {
    r.fail(root, std::string("a bench matrix must be a mapping with the keys ") + kKeys);
  }
  std::set<std::string> seen;
  bool has_architectures = false;
  if (root.IsMap()) {
    for (const auto& kv : root) {
      const YAML::Node& key_node = kv.first;
      const YAML::Node& value = kv.second;
      if (!key_node.IsScalar()) r.fail(key_node, std::string("keys must be plain names: ") + kKeys);
      const std::string key = key_node.Scalar();
      if (!seen.insert(key).second) r.fail(key_node, "duplicate key '" + key + "'");
      if (key == "architectures") {
        has_architectures = true;
        for (const YAML::Node& item : r.items(value, key)) {
          const std::string name = r.text(item, key);
          // Resolved relative to the matrix file's directory when it is a relative path.
          std::string where = name;
          const std::filesystem::path as_path(name);
          if (looks_like_path(name) && as_path.is_relative())
            where = (std::filesystem::path(file_name).parent_path() / as_path).string();
          m.architectures.push_back(
              load_architecture(find_architecture(where, mark_of(file_name, item.Mark()))));
        }
      } else if (key == "batch_sizes") {
        m.batch_sizes = r.integers(value, key, 1, 65536);
      } else if (key == "threads") {
        m.threads = r.integers(value, key, 1, 1024);
      } else if (key == "warmup_steps") {
        m.warmup_steps = static_cast<int>(r.integer(value, key, 0, 1000000));
      } else if (key == "steps") {
        m.steps = static_cast<int>(r.integer(value, key, 1, 1000000));
      } else if (key == "repetitions") {
        m.repetitions = static_cast<int>(r.integer(value, key, 1, 10000));
      } else if (key == "dataset") {
        m.dataset = r.text(value, key);
      } else if (key == "seed") {
        m.seed =
            static_cast<uint64_t>(r.integer(value, key, 0, std::numeric_limits<int64_t>::max()));
      } else {
        r.fail(key_node, fmt::format("unknown key '{}'; valid keys: {}", key, kKeys));
      }
    }
  }
  if (!has_architectures) {
    const SourceMark where{file_name, 0, 0};
    for (const std::string& name : available_architectures())
      m.architectures.push_back(load_architecture(find_architecture(name, where)));
  }
  return m;
}

BenchMatrix load_bench_matrix(const std::filesystem::path& file) {
  const SourceMark where{file.string(), 0, 0};
  std::error_code ec;
  const auto size = std::filesystem::file_size(file, ec);
  if (ec) throw ConfigError(where, "cannot read the bench matrix: " + ec.message());
  if (size > kMaxFileBytes)
    throw ConfigError(where, fmt::format("bench matrix is {} bytes; at most {} are accepted", size,
                                         kMaxFileBytes));
  std::ifstream in(file, std::ios::binary);
  if (!in.is_open()) throw ConfigError(where, "cannot open the bench matrix for reading");
  std::ostringstream text;
  if (size > 0) text << in.rdbuf();
  if (in.bad()) throw ConfigError(where, "cannot read the bench matrix");
  return parse_bench_matrix(text.str(), file.string());
}

std::filesystem::path default_bench_matrix() {
  const std::filesystem::path local = "experiments/bench/default.yaml";
  std::error_code ec;
  if (std::filesystem::exists(local, ec)) return local;
  return std::filesystem::path(LENETLAB_SOURCE_DIR) / local;
}

}  // namespace lenetlab
