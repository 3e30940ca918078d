#include "config/search_space.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "config/sobol.hpp"

namespace lenetlab {

using sweep_detail::ExpandedValue;
using sweep_detail::Field;
using yaml::Names;
using yaml::YamlReader;

namespace {

const Names kSearchKeys = {"method",    "sampler",    "runs",   "seed", "min_epochs",
                           "reduction", "max_epochs", "metric", "per"};
const Names kGroupKeys = {"architecture", "optimizer"};
const Names kMethods = {"random", "sobol", "successive_halving", "hyperband"};
const Names kSamplers = {"grid", "random", "sobol"};
const Names kMetrics = {"val_accuracy", "val_loss"};
const Names kProtocolKeys = {"tune", "replicate"};
const Names kTuneKeys = {"metric", "seeds", "per"};
const Names kReplicateKeys = {"seeds"};
const Names kDistributions = {"uniform", "log_uniform", "int_uniform", "choice"};
const Names kBounds = {"low", "high"};

enum class Kind { uniform, log_uniform, int_uniform, choice };

/// The key and value of a mapping's first entry (copies: the iterator's pair is a temporary).
std::pair<YAML::Node, YAML::Node> first_entry(const YAML::Node& map) {
  for (const auto& kv : map) return {kv.first, kv.second};
  return {};
}

/// The distribution `node` stands for, when it is a mapping of one distribution key.
std::optional<Kind> distribution_of(const YAML::Node& node) {
  if (!node.IsMap() || node.size() != 1) return std::nullopt;
  const YAML::Node key = first_entry(node).first;
  if (!key.IsScalar()) return std::nullopt;
  const auto it = std::find(kDistributions.begin(), kDistributions.end(), key.Scalar());
  if (it == kDistributions.end()) return std::nullopt;
  return static_cast<Kind>(it - kDistributions.begin());
}

/// The {low, high} of a uniform, log_uniform or int_uniform; checked.
std::pair<double, double> bounds(const YamlReader& r, const YAML::Node& node, Kind kind,
                                 std::string_view what) {
  if (!node.IsMap())
    r.fail(node,
           fmt::format("expected {{low, high}} for '{}', found {}", what, yaml::describe(node)));
  std::optional<double> low, high;
  r.for_each_field(node, what, kBounds,
                   [&](const std::string& k, const YAML::Node&, const YAML::Node& v) {
                     const double x = kind == Kind::int_uniform
                                          ? static_cast<double>(r.integer(v, k, -yaml::kMaxInt))
                                          : r.number(v, k, yaml::Range::any);
                     (k == "low" ? low : high) = x;
                   });
  if (!low || !high) r.fail(node, fmt::format("'{}' needs both 'low' and 'high'", what));
  if (kind == Kind::int_uniform ? *low > *high : *low >= *high)
    r.fail(node, fmt::format("'{}' needs low {} high; found low {:g}, high {:g}", what,
                             kind == Kind::int_uniform ? "<=" : "<", *low, *high));
  if (kind == Kind::log_uniform && *low <= 0)
    r.fail(node, fmt::format("'log_uniform' needs low > 0; found {:g}", *low));
  return {*low, *high};
}

/// Checks `node` (a value of the space) and counts its dimensions.
int check_value(const YamlReader& r, const YAML::Node& node, std::string_view what) {
  if (node.IsSequence())
    r.fail(node,
           fmt::format("a list for '{}' in space; write the choices as {{choice: [...]}}", what));
  if (!node.IsMap()) return 0;
  if (const std::optional<Kind> kind = distribution_of(node)) {
    const YAML::Node arg = first_entry(node).second;
    if (*kind != Kind::choice) {
      bounds(r, arg, *kind, kDistributions[static_cast<size_t>(*kind)]);
      return 1;
    }
    if (!arg.IsSequence() || arg.size() == 0)
      r.fail(arg, fmt::format("expected a non-empty list of choices for '{}', found {}", what,
                              yaml::describe(arg)));
    int dims = 1;
    for (const YAML::Node& item : arg) dims += check_value(r, item, what);
    return dims;
  }
  int dims = 0;
  for (const auto& kv : node) {
    const std::string key = r.key(kv.first);
    if (yaml::contains(kDistributions, key))
      r.fail(kv.first, fmt::format("'{}' among other keys; a distribution is a mapping of one key, "
                                   "e.g. {{{}: ...}}",
                                   key, key));
    dims += check_value(r, kv.second, key);
  }
  return dims;
}

/// A real value rounded to kSampleDigits significant digits, as the text the run is parsed from.
std::string rounded(double x) { return fmt::format("{:.{}g}", x, kSampleDigits); }

/// Resolves `node` at `point`: distributions become scalars made for the sampled text, choices
/// their chosen item. `dim` walks the dimensions in check_value's order (every alternative of a
/// choice is walked, the chosen one kept).
class Resolver {
 public:
  explicit Resolver(const std::vector<double>& point) : point_(point) {}

  ExpandedValue resolve(const YAML::Node& node, const std::string& path) {
    if (!node.IsMap()) return ExpandedValue{node, {}};
    if (const std::optional<Kind> kind = distribution_of(node)) return sample(node, *kind, path);
    ExpandedValue value{node, {}};
    for (const auto& kv : node) {
      const std::string name = kv.first.Scalar();
      value.fields.push_back(
          Field{name, kv.first, resolve(kv.second, path.empty() ? name : path + "." + name)});
    }
    return value;
  }
  const std::string& description() const { return description_; }

 private:
  ExpandedValue sample(const YAML::Node& node, Kind kind, const std::string& path) {
    const double u = point_.at(dim_++);
    const YAML::Node arg = first_entry(node).second;
    if (kind == Kind::choice) {
      const size_t k = arg.size();
      const size_t chosen = std::min(k - 1, static_cast<size_t>(u * double(k)));
      std::optional<ExpandedValue> out;
      size_t i = 0;
      for (const YAML::Node& item : arg) {
        if (i++ == chosen) {
          if (item.IsScalar()) note(path, item.Scalar());
          if (item.IsMap() && item["name"] && item["name"].IsScalar())
            note(path, item["name"].Scalar());
          out = resolve(item, path);
        } else {
          const size_t mark = description_.size();
          resolve(item, path);
          description_.resize(mark);
        }
      }
      return *out;
    }
    const double low = arg["low"].as<double>();
    const double high = arg["high"].as<double>();
    std::string text;
    if (kind == Kind::int_uniform) {
      const double span = high - low + 1;
      text =
          fmt::format("{}", static_cast<int64_t>(low + std::min(span - 1, std::floor(u * span))));
    } else if (kind == Kind::uniform) {
      text = rounded(low + u * (high - low));
    } else {
      text = rounded(std::exp(std::log(low) + u * (std::log(high) - std::log(low))));
    }
    note(path, text);
    return ExpandedValue{YAML::Node(text), {}};
  }
  void note(const std::string& path, const std::string& text) {
    description_ += fmt::format("{}{}={}", description_.empty() ? "" : " ", path, text);
  }

  const std::vector<double>& point_;
  size_t dim_ = 0;
  std::string description_;
};

}  // namespace

std::vector<int> HalvingSpec::budgets() const {
  std::vector<int> out;
  for (int64_t b = min_epochs; b < max_epochs; b *= reduction) out.push_back(static_cast<int>(b));
  out.push_back(max_epochs);
  return out;
}

std::vector<HalvingSpec::Bracket> HalvingSpec::brackets() const {
  const int64_t eta = std::max(2, reduction);
  int s_max = 0;
  for (int64_t r = static_cast<int64_t>(min_epochs) * eta; r <= max_epochs; r *= eta) ++s_max;
  std::vector<Bracket> out;
  for (int s = s_max; s >= 0; --s) {
    int64_t power = 1;
    for (int i = 0; i < s; ++i) power *= eta;
    Bracket b;
    b.candidates = static_cast<int>(((s_max + 1) * power + s) / (s + 1));  // the ceiling
    for (int i = 0; i <= s; ++i) {
      int64_t divisor = 1;
      for (int j = i; j < s; ++j) divisor *= eta;
      b.budgets.push_back(std::max<int>(min_epochs, static_cast<int>(max_epochs / divisor)));
    }
    out.push_back(std::move(b));
  }
  return out;
}

const char* to_string(Sampler sampler) { return kSamplers[static_cast<size_t>(sampler)].data(); }

namespace sweep_detail {

namespace {

/// The sampler of `method` (random, sobol) or of successive halving's `sampler` key.
Sampler sampler_named(const std::string& name) {
  return static_cast<Sampler>(std::find(kSamplers.begin(), kSamplers.end(), name) -
                              kSamplers.begin());
}

/// `per: [architecture, optimizer]`: the settings that split candidates into groups.
std::vector<std::string> parse_per(const YamlReader& r, const YAML::Node& v) {
  if (!v.IsSequence())
    r.fail(v, fmt::format("expected a list ({}) for 'per', found {}", yaml::join(kGroupKeys),
                          yaml::describe(v)));
  std::vector<std::string> per;
  for (const YAML::Node& item : v) {
    per.emplace_back(kGroupKeys[r.one_of(item, "per", kGroupKeys)]);
    if (std::count(per.begin(), per.end(), per.back()) > 1)
      r.fail(item, fmt::format("'{}' twice in 'per'", per.back()));
  }
  return per;
}

/// `seeds: [S, ...]`: distinct integers >= 0, at least one.
std::vector<uint64_t> parse_seeds(const YamlReader& r, const YAML::Node& v) {
  if (!v.IsSequence() || v.size() == 0)
    r.fail(v,
           fmt::format("expected a non-empty list of seeds (integers >= 0) for 'seeds', found {}",
                       yaml::describe(v)));
  std::vector<uint64_t> seeds;
  for (const YAML::Node& item : v) {
    seeds.push_back(r.unsigned_integer(item, "seed"));
    if (std::count(seeds.begin(), seeds.end(), seeds.back()) > 1)
      r.fail(item, fmt::format("seed {} twice in 'seeds'", seeds.back()));
  }
  return seeds;
}

}  // namespace

ProtocolSpec parse_protocol(const YamlReader& r, const YAML::Node& node) {
  r.expect_map(node, "protocol");
  ProtocolSpec spec;
  spec.metric.clear();  // not given: the loader takes successive halving's metric, else the default
  std::optional<YAML::Node> tune, replicate;
  r.for_each_field(node, "protocol", kProtocolKeys,
                   [&](const std::string& k, const YAML::Node&, const YAML::Node& v) {
                     r.expect_map(v, k);
                     (k == "tune" ? tune : replicate).emplace(v);
                   });
  if (!tune || !replicate)
    r.fail(node, "'protocol' needs 'tune' ({metric, seeds, per}) and 'replicate' ({seeds})");
  r.for_each_field(*tune, "tune", kTuneKeys,
                   [&](const std::string& k, const YAML::Node&, const YAML::Node& v) {
                     if (k == "metric") spec.metric = kMetrics[r.one_of(v, k, kMetrics)];
                     if (k == "seeds") spec.tune_seeds = parse_seeds(r, v);
                     if (k == "per") spec.per = parse_per(r, v);
                   });
  r.for_each_field(*replicate, "replicate", kReplicateKeys,
                   [&](const std::string&, const YAML::Node&, const YAML::Node& v) {
                     spec.replicate_seeds = parse_seeds(r, v);
                   });
  if (spec.tune_seeds.empty()) r.fail(*tune, "'tune' needs 'seeds' (the tuning seeds, e.g. [1])");
  if (spec.replicate_seeds.empty())
    r.fail(*replicate, "'replicate' needs 'seeds' (the replication seeds, e.g. [11, 12, 13])");
  return spec;
}

SearchSpec parse_search(const YamlReader& r, const YAML::Node& node) {
  r.expect_map(node, "search");
  SearchSpec spec;
  std::optional<std::string> method;
  std::optional<YAML::Node> runs, halving_key;
  HalvingSpec halving;
  std::optional<int> max_epochs;
  r.for_each_field(node, "search", kSearchKeys,
                   [&](const std::string& k, const YAML::Node& key, const YAML::Node& v) {
                     if (k == "method") {
                       method = kMethods[r.one_of(v, k, kMethods)];
                     } else if (k == "runs") {
                       spec.runs = static_cast<int>(r.integer(v, k, 1));
                       runs.emplace(v);
                     } else if (k == "seed") {
                       spec.seed = r.unsigned_integer(v, k);
                     } else {
                       if (!halving_key) halving_key.emplace(key);
                       if (k == "sampler")
                         spec.sampler = sampler_named(kSamplers[r.one_of(v, k, kSamplers)].data());
                       if (k == "min_epochs")
                         halving.min_epochs = static_cast<int>(r.integer(v, k, 1));
                       if (k == "reduction")
                         halving.reduction = static_cast<int>(r.integer(v, k, 2));
                       if (k == "max_epochs") max_epochs = static_cast<int>(r.integer(v, k, 1));
                       if (k == "metric") halving.metric = kMetrics[r.one_of(v, k, kMetrics)];
                       if (k == "per") halving.per = parse_per(r, v);
                     }
                   });
  if (!method) r.fail(node, fmt::format("'search' needs 'method' ({})", yaml::join(kMethods)));
  if (*method != "successive_halving" && *method != "hyperband") {
    if (halving_key)
      r.fail(*halving_key, fmt::format("'{}' belongs to methods successive_halving and hyperband",
                                       r.key(*halving_key)));
    spec.sampler = sampler_named(*method);
  } else {
    if (!max_epochs)
      r.fail(node, fmt::format("{} needs 'max_epochs' (the last rung's epochs)", *method));
    halving.max_epochs = *max_epochs;
    if (halving.max_epochs < halving.min_epochs)
      r.fail(node, fmt::format("max_epochs {} is below min_epochs {}", halving.max_epochs,
                               halving.min_epochs));
    halving.hyperband = *method == "hyperband";
    spec.halving = halving;
  }
  if (spec.halving && spec.halving->hyperband) {
    if (spec.sampler == Sampler::grid)
      r.fail(node,
             "hyperband draws new candidates for every bracket; add 'sampler: random' or "
             "'sampler: sobol' and a 'space'");
    if (runs)
      r.fail(*runs,
             "hyperband sets the number of candidates of each bracket (Li et al. 2018); "
             "remove 'runs'");
    spec.runs = 0;
    for (const HalvingSpec::Bracket& b : spec.halving->brackets()) spec.runs += b.candidates;
    return spec;
  }
  if (spec.sampler == Sampler::grid && runs)
    r.fail(*runs,
           "'runs' draws points of 'space'; it needs method random or sobol (or sampler "
           "random or sobol with successive_halving)");
  if (spec.sampler != Sampler::grid && !runs)
    r.fail(node,
           fmt::format("sampler {} needs 'runs' (the number of points)", to_string(spec.sampler)));
  return spec;
}

int check_space(const YamlReader& r, const YAML::Node& space, const Names& setting_keys) {
  if (!space.IsMap())
    r.fail(space, fmt::format("expected a mapping of settings for 'space', found {}",
                              yaml::describe(space)));
  int dims = 0;
  r.for_each_field(space, "space", setting_keys,
                   [&](const std::string& k, const YAML::Node&, const YAML::Node& v) {
                     dims += check_value(r, v, k);
                   });
  if (dims > kMaxSobolDimensions)
    r.fail(space, fmt::format("space has {} distributions; at most {}", dims, kMaxSobolDimensions));
  return dims;
}

std::vector<SpacePoint> sample_space(const YAML::Node& space, const SearchSpec& spec) {
  int dims = 0;
  {
    const YamlReader quiet("");
    for (const auto& kv : space) dims += check_value(quiet, kv.second, kv.first.Scalar());
  }
  const int d = std::max(dims, 1);
  const std::vector<std::vector<double>> points =
      spec.sampler == Sampler::sobol ? scrambled_sobol_points(d, spec.runs, spec.seed)
                                     : random_points(d, spec.runs, spec.seed);
  std::vector<SpacePoint> out;
  for (const std::vector<double>& point : points) {
    Resolver resolver(point);
    SpacePoint& p = out.emplace_back();
    for (const auto& kv : space) {
      const std::string name = kv.first.Scalar();
      p.fields.push_back(Field{name, kv.first, resolver.resolve(kv.second, name)});
    }
    p.description = resolver.description();
  }
  return out;
}

}  // namespace sweep_detail
}  // namespace lenetlab
