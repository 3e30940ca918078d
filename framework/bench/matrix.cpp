// Loader of bench matrix files (format: bench.hpp BenchMatrix), on config's YAML reader: the same
// checks (size, characters, duplicate keys, aliases) and the same messages as sweeps.
#include <fmt/format.h>

#include <limits>
#include <set>

#include "bench/bench.hpp"
#include "config/architecture_loader.hpp"
#include "config/search_path.hpp"
#include "config/yaml_reader.hpp"
#include "core/dataset_ref.hpp"
#include "core/error.hpp"

namespace lenetlab {

namespace {

using yaml::YamlReader;

const yaml::Names kMatrixKeys = {"architectures", "batch_sizes", "threads", "warmup_steps",
                                 "steps",         "repetitions", "dataset", "seed",
                                 "engine",        "micro_batch"};

/// A list (or one scalar, taken as a one-element list) of distinct scalars.
std::vector<YAML::Node> items(const YamlReader& r, const YAML::Node& node, const std::string& key) {
  std::vector<YAML::Node> out;
  if (node.IsScalar()) {
    out.push_back(node);
  } else if (node.IsSequence()) {
    for (const YAML::Node& item : node) out.push_back(item);
  } else {
    r.fail(node, fmt::format("expected a list (e.g. [1, 2]) for '{}', found {}", key,
                             yaml::describe(node)));
  }
  if (out.empty()) r.fail(node, fmt::format("empty list for '{}'; give at least one value", key));
  std::set<std::string> seen;
  for (const YAML::Node& item : out) {
    if (!item.IsScalar()) {
      r.fail(item, fmt::format("expected a single value in the list '{}', found {}", key,
                               yaml::describe(item)));
    }
    if (!seen.insert(item.Scalar()).second)
      r.fail(item, fmt::format("'{}' is listed twice in '{}'", item.Scalar(), key));
  }
  return out;
}

std::vector<int> integers(const YamlReader& r, const YAML::Node& node, const std::string& key,
                          int lo, int hi) {
  std::vector<int> out;
  for (const YAML::Node& item : items(r, node, key))
    out.push_back(static_cast<int>(r.integer(item, key, lo, hi)));
  return out;
}

/// A name on the architecture search path, or a path (relative to the matrix file's directory).
ArchSpec architecture(const YamlReader& r, const YAML::Node& item) {
  const std::string name = r.text(item, "architectures");
  std::string where = name;
  const std::filesystem::path as_path(name);
  if (yaml::looks_like_path(name) && as_path.is_relative())
    where = (std::filesystem::path(r.file()).parent_path() / as_path).string();
  return load_architecture(find_architecture(where, r.at(item)));
}

void parse_key(const YamlReader& r, const std::string& key, const YAML::Node& value,
               BenchMatrix& m) {
  if (key == "architectures") {
    for (const YAML::Node& item : items(r, value, key))
      m.architectures.push_back(architecture(r, item));
  } else if (key == "batch_sizes") {
    m.batch_sizes = integers(r, value, key, 1, 65536);
  } else if (key == "threads") {
    m.threads = integers(r, value, key, 1, 1024);
  } else if (key == "warmup_steps") {
    m.warmup_steps = static_cast<int>(r.integer(value, key, 0, 1000000));
  } else if (key == "steps") {
    m.steps = static_cast<int>(r.integer(value, key, 1, 1000000));
  } else if (key == "repetitions") {
    m.repetitions = static_cast<int>(r.integer(value, key, 1, 10000));
  } else if (key == "dataset") {
    m.dataset = r.text(value, key);
    try {
      parse_dataset_ref(m.dataset);
    } catch (const DatasetRefError& e) {
      r.fail(value, e.what());
    }
  } else if (key == "engine") {
    m.engine = static_cast<int>(r.integer(value, key, 1, 2));
  } else if (key == "micro_batch") {
    m.micro_batch = static_cast<int>(r.integer(value, key, 1, 65536));
  } else if (key == "seed") {
    m.seed = static_cast<uint64_t>(r.integer(value, key, 0, std::numeric_limits<int64_t>::max()));
  }
}

}  // namespace

BenchMatrix parse_bench_matrix(const std::string& text, const std::string& file_name) {
  const YAML::Node root = yaml::parse_document(text, file_name, /*allow_empty=*/true);
  const YamlReader r(file_name);
  BenchMatrix m;
  m.file = file_name;
  m.yaml = text;
  bool has_architectures = false;
  if (root.IsMap()) {  // else empty: the default matrix
    r.for_each_field(root, "bench matrix", kMatrixKeys,
                     [&](const std::string& key, const YAML::Node&, const YAML::Node& value) {
                       has_architectures = has_architectures || key == "architectures";
                       parse_key(r, key, value, m);
                     });
  }
  if (!has_architectures) {
    const SourceMark where{file_name, 0, 0};
    for (const std::string& name : available_architectures())
      m.architectures.push_back(load_architecture(find_architecture(name, where)));
  }
  return m;
}

BenchMatrix load_bench_matrix(const std::filesystem::path& file) {
  return parse_bench_matrix(yaml::read_yaml_file(file), file.string());
}

std::filesystem::path default_bench_matrix() {
  return shipped_file(std::filesystem::path("experiments") / "bench" / "default.yaml");
}

}  // namespace lenetlab
