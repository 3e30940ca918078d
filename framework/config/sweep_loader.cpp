#include "config/sweep_loader.hpp"

#include <fmt/format.h>

#include <iterator>
#include <limits>
#include <optional>
#include <unordered_map>

#include "config/search_space.hpp"
#include "config/sweep_builder.hpp"
#include "config/yaml_reader.hpp"
#include "core/dataset_ref.hpp"

namespace lenetlab {
namespace {

namespace fs = std::filesystem;
using namespace yaml;
using namespace sweep_detail;
using Reader = YamlReader;

const Names kSweepKeys = {"name",       "description", "dataset", "base",    "grid",    "recipes",
                          "references", "search",      "space",   "targets", "protocol"};
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
/// `targets`: a non-empty list of increasing fractions in (0, 1].
std::vector<double> parse_targets(const Reader& r, const YAML::Node& v) {
  if (!v.IsSequence() || v.size() == 0)
    r.fail(v, fmt::format("expected a non-empty list of target validation accuracies in (0, 1] "
                          "for 'targets' (e.g. [0.98, 0.99]), found {}",
                          describe(v)));
  std::vector<double> targets;
  for (const YAML::Node& item : v) {
    const double t = r.number(item, "targets", Range::any);
    if (!(t > 0 && t <= 1))
      r.fail(item, fmt::format("expected a validation accuracy in (0, 1] for 'targets', found {}",
                               describe(item)));
    if (!targets.empty() && !(t > targets.back()))
      r.fail(item, fmt::format("'targets' must increase, each value once: {:g} after {:g}", t,
                               targets.back()));
    targets.push_back(t);
  }
  return targets;
}

/// Checks that `map` is a settings mapping (keys from setting_keys()).
void check_settings(const Reader& r, const YAML::Node& map, std::string_view where) {
  if (!map.IsMap()) {
    r.fail(map,
           fmt::format("expected a mapping of settings for {}, found {}", where, describe(map)));
  }
  r.for_each_field(map, where, setting_keys(), [](auto&&...) {});
}

/// `dataset`: one of the forms core/dataset_ref.hpp parses, checked here so that a name the
/// loader would refuse stops the sweep before any run.
void check_dataset(const Reader& r, const YAML::Node& v, std::string& dataset) {
  dataset = r.string(v, "dataset");
  try {
    parse_dataset_ref(dataset);
  } catch (const DatasetRefError& e) {
    r.fail(v, e.what());
  }
}

/// The top-level nodes of a sweep that hold settings (absent or null: not given).
struct Parts {
  YAML::Node root;
  std::optional<YAML::Node> base, grid, recipes;
  /// `search:`, `space:` and `protocol:` (config/search_space.hpp).
  std::optional<YAML::Node> search, space, protocol;
  /// Where errors about the whole expansion point: the grid, else the recipes, else the file.
  const YAML::Node& expansion() const { return grid ? *grid : recipes ? *recipes : root; }
};

/// Reads the top-level keys into `sweep` (name, dataset, references) and `parts`.
Parts parse_top_level(const Reader& r, const YAML::Node& root, Sweep& sweep) {
  Parts parts{root, {}, {}, {}, {}, {}, {}};
  std::optional<YAML::Node> name;
  r.for_each_field(
      root, "sweep", kSweepKeys, [&](const std::string& k, const YAML::Node&, const YAML::Node& v) {
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
          for (const YAML::Node& item : v) sweep.references.push_back(parse_reference(r, item));
        } else if (k == "search") {
          sweep.search = parse_search(r, v);
          parts.search.emplace(v);
        } else if (k == "space") {
          parts.space.emplace(v);
        } else if (k == "targets") {
          sweep.targets = parse_targets(r, v);
        } else if (k == "protocol") {
          sweep.protocol = parse_protocol(r, v);
          parts.protocol.emplace(v);
        } else if (!v.IsNull()) {
          (k == "base" ? parts.base : k == "grid" ? parts.grid : parts.recipes).emplace(v);
        }
      });
  if (!name) r.fail(root, "missing required key 'name' (the sweep's name, [A-Za-z0-9_.-]+)");
  return parts;
}

/// Refuses `key` in the settings mappings (base, grid, space, recipes) with `why`.
void refuse_setting(const Reader& r, const Parts& parts, const std::string& key,
                    const std::string& why) {
  std::vector<YAML::Node> maps;
  for (const auto& part : {parts.base, parts.grid, parts.space})
    if (part && part->IsMap()) maps.push_back(*part);
  if (parts.recipes && parts.recipes->IsSequence())
    for (const YAML::Node& recipe : *parts.recipes) maps.push_back(recipe);
  for (const YAML::Node& map : maps)
    if (map.IsMap())
      for (const auto& kv : map)
        if (kv.first.IsScalar() && kv.first.Scalar() == key)
          r.fail(kv.first, fmt::format("'{}' in {}", key, why));
}

/// Resolves the protocol's metric and successive halving's groups against each other, and
/// refuses `seed` outside the protocol.
void check_protocol(const Reader& r, const Parts& parts, Sweep& sweep) {
  ProtocolSpec& protocol = *sweep.protocol;
  refuse_setting(r, parts, "seed",
                 "a protocol sweep; its seeds are protocol.tune.seeds and "
                 "protocol.replicate.seeds");
  HalvingSpec* halving = sweep.search && sweep.search->halving ? &*sweep.search->halving : nullptr;
  if (protocol.metric.empty()) protocol.metric = halving ? halving->metric : "val_accuracy";
  if (!halving) return;
  if (halving->metric != protocol.metric)
    r.fail(*parts.protocol,
           fmt::format("protocol.tune.metric {} differs from search.metric {}; use one metric",
                       protocol.metric, halving->metric));
  if (halving->per.empty()) halving->per = protocol.per;
  if (halving->per != protocol.per)
    r.fail(*parts.search,
           "search.per differs from protocol.tune.per; give 'per' once, in "
           "protocol.tune (successive halving then halves each group)");
}

/// The points of a sampled search (1 without one); checks `space` against `search` and the grid.
int64_t count_points(const Reader& r, const Parts& parts, const Sweep& sweep) {
  const Sampler sampler = sweep.search ? sweep.search->sampler : Sampler::grid;
  if (parts.space) {
    if (sampler == Sampler::grid)
      r.fail(*parts.space,
             "'space' needs 'search' with method random or sobol (or "
             "successive_halving or hyperband with sampler random or sobol)");
    check_space(r, *parts.space, setting_keys());
    if (parts.grid && parts.grid->IsMap())
      for (const auto& kv : *parts.space)
        if (parts.grid->operator[](kv.first.Scalar()))
          r.fail(kv.first,
                 fmt::format("'{}' is in both grid and space; keep one", kv.first.Scalar()));
  } else if (sampler != Sampler::grid) {
    r.fail(*parts.search, fmt::format("sampler {} draws points of 'space'; add a 'space' of "
                                      "distributions (sweeps/README.md)",
                                      to_string(sampler)));
  }
  if (sweep.search && sweep.search->halving)
    refuse_setting(r, parts, "epochs",
                   "a successive_halving sweep; every run is planned with search.max_epochs and "
                   "trains to its rung's budget");
  return sampler == Sampler::grid ? 1 : sweep.search->runs;
}

/// Checks the shape of base, recipes and grid and counts the runs before building any; refuses
/// more than options.max_runs unless options.force.
int64_t count_runs(const Reader& r, const Parts& parts, const Sweep& sweep,
                   const SweepOptions& options) {
  if (parts.base) {
    check_settings(r, *parts.base, "base");
    refuse_lists(r, *parts.base, "base");
  }
  int64_t recipe_count = 1;
  if (const auto& recipes = parts.recipes) {
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
  if (parts.grid) {
    check_settings(r, *parts.grid, "grid");
    for (const auto& kv : *parts.grid) {
      grid_count = mul_saturated(grid_count, count_values(r, kv.second, kv.first.Scalar(), false));
    }
  }
  int64_t total =
      mul_saturated(mul_saturated(recipe_count, grid_count), count_points(r, parts, sweep));
  if (sweep.protocol)
    total = mul_saturated(total, static_cast<int64_t>(sweep.protocol->tune_seeds.size()));
  if (total > options.max_runs && !options.force) {
    const std::string count = total == std::numeric_limits<int64_t>::max()
                                  ? fmt::format("more than {}", total)
                                  : fmt::format("{}", total);
    r.fail(parts.expansion(),
           fmt::format("sweep expands to {} runs, more than the limit {}; pass --force to run it "
                       "anyway",
                       count, options.max_runs));
  }
  return total;
}

/// The choices of one grid key.
struct Axis {
  std::string name;
  YAML::Node key;
  std::vector<ExpandedValue> choices;
};

/// A successive-halving run: planned with max_epochs, judged on a validation metric.
void check_halving_run(const Reader& r, const Parts& parts, const HalvingSpec& halving,
                       RunConfig& run) {
  run.epochs = halving.max_epochs;
  if (run.validation_split <= 0.0)
    r.fail(*parts.search, fmt::format("successive_halving ranks runs by {}; set validation_split "
                                      "> 0 (in base)",
                                      halving.metric));
  if (run.early_stopping.enabled)
    r.fail(*parts.search, "successive_halving decides when runs stop; remove early_stopping");
}

/// A stage-1 run of a protocol: judged on a validation split, never evaluated on the test set;
/// its stage-2 copy trains without the split, so early stopping may not watch it.
void check_tuning_run(const Reader& r, const Parts& parts, RunConfig& run) {
  run.evaluate_test = false;
  if (run.validation_split <= 0.0)
    r.fail(*parts.protocol,
           "protocol.tune selects by a validation metric; set validation_split "
           "> 0 (in base)");
  if (run.early_stopping.enabled && run.early_stopping.monitors_validation())
    r.fail(*parts.protocol,
           "early_stopping watches the validation split, which the protocol's "
           "stage 2 trains without; watch train_loss or remove it");
}

/// Builds one run; an error at a sampled value (which has no place in the file) is reported at
/// `space` with the sampled point.
RunConfig build_run(const Reader& r, const Parts& parts, RunBuilder& builder,
                    const Settings& settings, const SpacePoint* point) {
  if (point == nullptr) return builder.build(settings);
  try {
    return builder.build(settings);
  } catch (const ConfigError& e) {
    if (e.mark().line != 0) throw;
    r.fail(*parts.space, fmt::format("sampled point ({}): {}", point->description, e.detail()));
  }
}

/// Builds the runs: recipes (outer, in order) x sampled points x grid (first key slowest),
/// precedence base < recipe < grid < space.
void expand_runs(const Reader& r, const Parts& parts, const std::string& file_name, int64_t total,
                 Sweep& sweep) {
  const ExpandedValue base_value = parts.base ? literal_value(*parts.base) : ExpandedValue{};
  std::vector<ExpandedValue> recipe_values;
  if (parts.recipes) {
    for (const YAML::Node& recipe : *parts.recipes) {
      std::vector<ExpandedValue> part = expand_values(recipe);
      std::move(part.begin(), part.end(), std::back_inserter(recipe_values));
    }
  } else {
    recipe_values.emplace_back();
  }
  std::vector<Axis> axes;
  if (parts.grid) {
    for (const auto& kv : *parts.grid)
      axes.push_back(Axis{kv.first.Scalar(), kv.first, expand_values(kv.second)});
  }
  const std::vector<SpacePoint> points =
      parts.space ? sample_space(*parts.space, *sweep.search) : std::vector<SpacePoint>{};
  std::vector<int> bracket_of_point;
  if (sweep.search && sweep.search->halving && sweep.search->halving->hyperband) {
    const auto brackets = sweep.search->halving->brackets();
    for (size_t b = 0; b < brackets.size(); ++b)
      bracket_of_point.insert(bracket_of_point.end(), brackets[b].candidates, static_cast<int>(b));
  }
  RunBuilder builder(r, parts.root, fs::path(file_name).parent_path(), sweep.dataset);
  sweep.runs.reserve(static_cast<std::size_t>(total));
  for (const ExpandedValue& recipe : recipe_values) {
    for (size_t p = 0; p < std::max<size_t>(points.size(), 1); ++p) {
      const SpacePoint* point = points.empty() ? nullptr : &points[p];
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
        if (point != nullptr)
          for (const Field& f : point->fields)
            settings.insert_or_assign(f.name, Chosen{&f.key, &f.value, 3});
        RunConfig run = build_run(r, parts, builder, settings, point);
        if (sweep.search && sweep.search->halving)
          check_halving_run(r, parts, *sweep.search->halving, run);
        const std::string sampled = point != nullptr ? point->description : std::string();
        const size_t copies = sweep.protocol ? sweep.protocol->tune_seeds.size() : 1;
        if (sweep.protocol) check_tuning_run(r, parts, run);
        for (size_t c = 0; c < copies; ++c) {
          sweep.runs.push_back(run);
          if (sweep.protocol) sweep.runs.back().seed = sweep.protocol->tune_seeds[c];
          sweep.sampled.push_back(sampled);
          if (!bracket_of_point.empty()) sweep.bracket.push_back(bracket_of_point.at(p));
        }
        std::size_t a = axes.size();
        while (a > 0 && ++index[a - 1] == axes[a - 1].choices.size()) index[--a] = 0;
        if (a == 0) break;
      }
    }
  }
}

/// Identical runs would share one key (and one result): refused, except that a sampled point
/// equal to an earlier one after rounding (sweeps/README.md "Sampled search") is dropped.
void refuse_identical_runs(const Reader& r, const Parts& parts, Sweep& sweep) {
  const bool sampled = sweep.search && sweep.search->sampler != Sampler::grid;
  std::unordered_map<std::string, std::size_t> seen;
  std::size_t kept = 0;
  for (std::size_t i = 0; i < sweep.runs.size(); ++i) {
    const auto [it, inserted] = seen.emplace(sweep.runs[i].key(), i);
    if (!inserted && !sampled) {
      r.fail(parts.expansion(),
             fmt::format("runs {} and {} are identical ({}); remove the repeated choice",
                         it->second + 1, i + 1, sweep.runs[i].display_name()));
    }
    if (!inserted) continue;
    if (kept != i) {
      sweep.runs[kept] = std::move(sweep.runs[i]);
      sweep.sampled[kept] = std::move(sweep.sampled[i]);
      if (!sweep.bracket.empty()) sweep.bracket[kept] = sweep.bracket[i];
    }
    ++kept;
  }
  sweep.runs.resize(kept);
  sweep.sampled.resize(kept);
  if (!sweep.bracket.empty()) sweep.bracket.resize(kept);
}

}  // namespace

Sweep load_sweep(const fs::path& file, const SweepOptions& options) {
  return parse_sweep(read_yaml_file(file), file.string(), options);
}

Sweep parse_sweep(const std::string& text, const std::string& file_name,
                  const SweepOptions& options) {
  const YAML::Node root = parse_document(text, file_name);
  const Reader r(file_name);
  Sweep sweep;
  sweep.file = file_name;
  sweep.yaml = text;
  sweep.dataset = "mnist";
  const Parts parts = parse_top_level(r, root, sweep);
  if (sweep.protocol) check_protocol(r, parts, sweep);
  const int64_t total = count_runs(r, parts, sweep, options);
  expand_runs(r, parts, file_name, total, sweep);
  refuse_identical_runs(r, parts, sweep);
  return sweep;
}

std::vector<double> parse_sweep_targets(const std::string& text, const std::string& file_name) {
  const YAML::Node root = parse_document(text, file_name);
  const Reader r(file_name);
  for (const auto& kv : root)
    if (kv.first.IsScalar() && kv.first.Scalar() == "targets") return parse_targets(r, kv.second);
  return {};
}

}  // namespace lenetlab
