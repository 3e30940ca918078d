#include "report/report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <utility>
#include <yaml-cpp/yaml.h>

#include "core/error.hpp"
#include "config/sweep_loader.hpp"
#include "core/files.hpp"
#include "report/assets.hpp"
#include "report/html_view.hpp"
#include "report/model.hpp"
#include "store/reader.hpp"

namespace lenetlab {

namespace fs = std::filesystem;
using report::ReportModel;
using report::ReportRows;

namespace {

/// Every sweep of the database, by name.
std::vector<SweepRow> sweeps_by_name(const ResultsReader& reader) {
  std::vector<SweepRow> sweeps = reader.sweeps();
  std::sort(sweeps.begin(), sweeps.end(),
            [](const SweepRow& a, const SweepRow& b) { return a.name < b.name; });
  return sweeps;
}

std::string joined_names(const std::vector<SweepRow>& sweeps) {
  std::string names;
  for (const auto& s : sweeps) names += (names.empty() ? "" : ", ") + s.name;
  return names.empty() ? "none" : names;
}

/// The keys of `node` (a sweep's `space:`) whose value is a log_uniform distribution.
void add_log_uniform(const YAML::Node& node, std::set<std::string>& keys) {
  if (node.IsSequence()) {
    for (const YAML::Node& item : node) add_log_uniform(item, keys);
  } else if (node.IsMap()) {
    for (const auto& entry : node) {
      if (entry.second.IsMap() && entry.second["log_uniform"])
        keys.insert(entry.first.as<std::string>());
      add_log_uniform(entry.second, keys);
    }
  }
}

/// The log_uniform settings of the stored sweep `name` (none when its text is not YAML: the
/// chart then decides the scale from the values alone).
std::vector<std::string> log_uniform_settings(const std::vector<SweepRow>& all,
                                              const std::string& name) {
  std::set<std::string> keys;
  for (const SweepRow& s : all)
    if (s.name == name) try {
        const YAML::Node root = YAML::Load(s.yaml);
        if (root.IsMap() && root["space"]) add_log_uniform(root["space"], keys);
      } catch (const YAML::Exception&) {
      }
  return {keys.begin(), keys.end()};
}

/// The stage-1 runs of protocol `sweep` with `metric` at their last epoch.
std::vector<report::TuningRun> read_tuning_runs(const ResultsReader& reader,
                                                const std::string& sweep,
                                                const std::string& metric) {
  RunFilter filter;
  filter.sweep = sweep + ".tune";
  std::vector<report::TuningRun> out;
  for (RunRow& run : reader.runs(filter)) {
    report::TuningRun t{std::move(run), 0, std::nullopt};
    for (const EpochRecord& e : reader.epochs(t.run.id)) {
      if (e.epoch < t.last_epoch) continue;
      t.last_epoch = e.epoch;
      t.metric = metric == "val_loss" ? e.val_loss : e.val_accuracy;
    }
    out.push_back(std::move(t));
  }
  return out;
}

/// The rungs and selections of `sweeps` and of their stage 1 (NAME.tune), each sweep once; a
/// protocol's with its stage-1 runs.
std::vector<report::SearchRecord> read_search(const ResultsReader& reader,
                                              const std::vector<SweepRow>& sweeps) {
  std::vector<report::SearchRecord> out;
  std::set<std::string> seen;
  const std::vector<SweepRow> all = reader.sweeps();
  for (const SweepRow& s : sweeps)
    for (const std::string& name : {s.name + ".tune", s.name}) {
      if (!seen.insert(name).second) continue;
      report::SearchRecord r{name, reader.rungs(name), reader.selections(name), {}, {}};
      if (r.rungs.empty() && r.selections.empty()) continue;
      if (!r.selections.empty()) {
        r.tuning = read_tuning_runs(reader, name, r.selections.front().metric);
        r.log_uniform = log_uniform_settings(all, name);
      }
      out.push_back(std::move(r));
    }
  return out;
}

/// The rows of `sweep` (every sweep when empty). Throws Error when the sweep does not exist or has
/// no runs, naming the sweeps present.
ReportRows read_rows(const ResultsReader& reader, const std::string& sweep) {
  ReportRows rows;
  rows.sweeps = sweeps_by_name(reader);
  const std::string present = joined_names(rows.sweeps);
  const std::string db = reader.path().string();
  if (!sweep.empty()) {
    const auto it = std::find_if(rows.sweeps.begin(), rows.sweeps.end(),
                                 [&](const SweepRow& s) { return s.name == sweep; });
    if (it == rows.sweeps.end())
      throw Error(
          fmt::format("sweep '{}' not found in {}; sweeps present: {}", sweep, db, present));
    rows.sweeps = {*it};
  }
  RunFilter filter;
  filter.sweep = sweep;
  rows.runs = reader.runs(filter);
  if (rows.runs.empty())
    throw Error(sweep.empty() ? fmt::format("{} holds no runs (sweeps present: {}); run `lenetlab "
                                            "run SWEEP.yaml` first",
                                            db, present)
                              : fmt::format("sweep '{}' has no runs in {}; sweeps present: {}",
                                            sweep, db, present));
  // Only sweeps that contribute runs (a database may hold sweeps whose runs were never queued).
  std::set<std::string> used;
  for (const RunRow& r : rows.runs) used.insert(r.sweep);
  std::erase_if(rows.sweeps, [&](const SweepRow& s) { return !used.count(s.name); });
  for (const RunRow& r : rows.runs) rows.epochs.push_back(reader.epochs(r.id));
  rows.published = reader.published_results(sweep);
  rows.search = read_search(reader, rows.sweeps);
  for (BenchRunRow& b : reader.bench_runs()) {
    const int64_t id = b.id;
    rows.bench.push_back({std::move(b), reader.bench_results(id), reader.bench_profile(id)});
  }
  return rows;
}

/// The targets of time to target: every reported sweep's `targets` key (kDefaultTargets for a
/// sweep without one), merged, increasing. Throws ConfigError at the stored text's line and column
/// for a value the sweep loader refuses.
std::vector<double> sweep_targets(const std::vector<SweepRow>& sweeps, const fs::path& db) {
  std::set<double> merged;
  for (const SweepRow& s : sweeps) {
    std::vector<double> t =
        parse_sweep_targets(s.yaml, fmt::format("sweep '{}' as stored in {}", s.name, db.string()));
    if (t.empty()) t = report::kDefaultTargets;
    merged.insert(t.begin(), t.end());
  }
  if (merged.empty()) return report::kDefaultTargets;
  return {merged.begin(), merged.end()};
}

struct Rendered {
  std::string html;
  int64_t runs = 0;
};

Rendered render(const fs::path& db, const ReportOptions& options) {
  const ResultsReader reader(db);
  ReportRows rows = read_rows(reader, options.sweep);
  rows.comparison.targets = sweep_targets(rows.sweeps, db);
  const ReportAssets assets = load_report_assets(
      options.assets_dir.empty() ? report_assets_dir() : options.assets_dir, options.verify_assets);
  ReportModel model = report::build_report_model(std::move(rows), options.title);
  if (model.best) {
    const int64_t id = model.runs[model.best->run].id;
    report::set_best_run_details(model, reader.class_metrics(id), reader.confusion(id));
  }
  return Rendered{report::render_html(model, assets), static_cast<int64_t>(model.runs.size())};
}

}  // namespace

std::vector<std::string> list_sweeps(const fs::path& db) {
  std::vector<std::string> names;
  for (SweepRow& s : sweeps_by_name(ResultsReader(db))) names.push_back(std::move(s.name));
  return names;
}

std::string render_report(const fs::path& db, const ReportOptions& options) {
  return render(db, options).html;
}

ReportSummary write_report(const fs::path& db, const ReportOptions& options) {
  if (options.output.empty()) throw Error("report: no output file given");
  const Rendered rendered = render(db, options);
  write_file_atomic(options.output, rendered.html, Durability::kSurvivePowerLoss);
  return ReportSummary{options.output, rendered.runs, rendered.html.size()};
}

report::ReportModel read_report_model(const fs::path& db, const std::string& sweep,
                                      const report::ComparisonOptions& comparison) {
  ReportRows rows = read_rows(ResultsReader(db), sweep);
  rows.comparison = comparison;
  if (comparison.targets.empty()) rows.comparison.targets = sweep_targets(rows.sweeps, db);
  return report::build_report_model(std::move(rows), "");
}

}  // namespace lenetlab
