#include "report/model.hpp"

#include <algorithm>
#include <iterator>
#include <map>
#include <stdexcept>
#include <string_view>
#include <tuple>
#include <utility>

#include "core/text.hpp"

namespace lenetlab::report {

namespace {

std::vector<const RunRow*> pointers(const std::vector<RunRow>& runs) {
  std::vector<const RunRow*> out;
  for (const RunRow& r : runs) out.push_back(&r);
  return out;
}

std::optional<std::string> threads_text(const RunRow& r) {
  return r.threads ? std::optional<std::string>(std::to_string(*r.threads)) : std::nullopt;
}

/// Conditions that make results not bit-comparable, when they differ between runs. The thread
/// count does not for engine-2 runs (their results are the same for any count), so theirs is left
/// out of it.
std::vector<ConditionDifference> condition_differences(const std::vector<RunRow>& runs) {
  struct Field {
    std::string_view name;
    std::optional<std::string> (*get)(const RunRow&);
  };
  static const Field kFields[] = {
      {"isa", [](const RunRow& r) { return r.isa; }},
      {"threads", [](const RunRow& r) { return r.engine() == 2 ? std::nullopt : threads_text(r); }},
      {"onednn_version", [](const RunRow& r) { return r.onednn_version; }},
      {"compiler", [](const RunRow& r) { return r.compiler; }},
      {"git_commit", [](const RunRow& r) { return r.git_commit; }},
  };
  const auto listed = [](const std::map<std::string, int64_t>& counts) {
    std::vector<ConditionDifference::Value> values;
    for (const auto& [value, n] : counts) values.push_back({value, n});
    return values;
  };
  std::vector<ConditionDifference> differences;
  for (const Field& field : kFields) {
    std::map<std::string, int64_t> values;
    for (const RunRow& r : runs)
      if (auto v = field.get(r)) ++values[*v];
    if (values.size() >= 2) differences.push_back({std::string(field.name), "", listed(values)});
  }
  // The same dataset read from files with different contents.
  std::map<std::string, std::map<std::string, int64_t>> dataset_sums;
  for (const RunRow& r : runs)
    if (r.dataset_sha256) ++dataset_sums[r.dataset][*r.dataset_sha256];
  for (const auto& [dataset, sums] : dataset_sums)
    if (sums.size() >= 2) differences.push_back({"dataset_sha256", dataset, listed(sums)});
  return differences;
}

/// Distinct environments of the runs that started, in the order of their fields as text.
std::vector<EnvironmentRow> environments(const std::vector<RunRow>& runs, int64_t& unrecorded) {
  using Key = std::tuple<std::string, std::string, std::string, std::string, std::string,
                         std::string, std::string>;
  std::map<Key, std::pair<EnvironmentRow, int64_t>> envs;
  unrecorded = 0;
  for (const RunRow& r : runs) {
    if (!r.host) {
      ++unrecorded;
      continue;
    }
    EnvironmentRow e{*r.host,
                     r.cpu_model.value_or(""),
                     r.isa.value_or(""),
                     r.onednn_version.value_or(""),
                     r.threads,
                     r.compiler.value_or(""),
                     r.git_commit.value_or("")};
    // A run without a thread count sorts as the report shows it (an em dash, after digits).
    const Key key{
        e.host,     e.cpu_model, e.isa, e.onednn_version, threads_text(r).value_or("\u2014"),
        e.compiler, e.git_commit};
    auto& entry = envs.try_emplace(key, std::move(e), 0).first->second;
    ++entry.second;
  }
  std::vector<EnvironmentRow> rows;
  for (auto& [key, entry] : envs) {
    entry.first.runs = entry.second;
    rows.push_back(std::move(entry.first));
  }
  return rows;
}

/// Each published row beside the test accuracies of the runs of its sweep and architecture.
std::vector<PublishedComparison> compare_published(const std::vector<PublishedRow>& published,
                                                   const std::vector<RunRow>& runs) {
  std::vector<PublishedComparison> out;
  for (const PublishedRow& p : published) {
    PublishedComparison c{p, {}, {}, {}, {}};
    std::vector<double> values;
    for (const RunRow& r : runs)
      if (r.sweep == p.sweep && r.architecture == p.architecture && r.test_accuracy) {
        values.push_back(*r.test_accuracy);
        c.seeds.push_back({r.seed, *r.test_accuracy});
      }
    if (!values.empty()) {
      const stats::Summary m = stats::summarize(values);
      c.measured = m;
      c.interval = accuracy_interval(values);
      if (p.required_test_accuracy > 0) c.reached = m.mean >= p.required_test_accuracy;
    }
    out.push_back(std::move(c));
  }
  return out;
}

/// The first run (by id) with the highest test accuracy.
std::optional<BestRun> best_run(const std::vector<RunRow>& runs,
                                const std::vector<std::string>& config_of_run) {
  std::optional<size_t> best;
  for (size_t i = 0; i < runs.size(); ++i)
    if (runs[i].test_accuracy && (!best || *runs[i].test_accuracy > *runs[*best].test_accuracy))
      best = i;
  if (!best) return std::nullopt;
  BestRun b;
  b.run = *best;
  b.config_id = config_of_run[*best];
  return b;
}

std::string sweep_names(const std::vector<SweepRow>& sweeps) {
  std::string names;
  for (const SweepRow& s : sweeps) names += (names.empty() ? "" : ", ") + s.name;
  return names;
}

}  // namespace

std::vector<StatusCount> count_statuses(const std::vector<const RunRow*>& runs) {
  std::map<int, StatusCount> counts;  // by display rank
  for (const RunRow* r : runs) {
    StatusCount& c =
        counts.try_emplace(display_rank(r->status), StatusCount{r->status, 0}).first->second;
    ++c.runs;
  }
  std::vector<StatusCount> out;
  for (const auto& [rank, c] : counts) out.push_back(c);
  return out;
}

ReportModel build_report_model(ReportRows rows, const std::string& title) {
  if (rows.epochs.size() != rows.runs.size())
    throw std::invalid_argument("build_report_model: one list of epoch rows per run expected");
  ReportModel m;
  m.title = title.empty() ? "lenetlab report: " + sweep_names(rows.sweeps) : title;
  m.generated = display_utc_now();
  m.sweeps = std::move(rows.sweeps);
  m.runs = std::move(rows.runs);
  m.epochs = std::move(rows.epochs);
  m.statuses = count_statuses(pointers(m.runs));
  m.differences = condition_differences(m.runs);
  m.environments = environments(m.runs, m.runs_without_environment);
  m.published = compare_published(rows.published, m.runs);
  m.groups = group_runs(m.runs);
  m.config_of_run.resize(m.runs.size());
  for (const ConfigGroup& g : m.groups)
    for (const size_t i : g.runs) m.config_of_run[i] = g.id;
  m.best = best_run(m.runs, m.config_of_run);
  for (size_t i = 0; i < m.runs.size(); ++i)
    if (is_problem(m.runs[i].status)) m.problems.push_back(i);
  for (BenchRun& b : rows.bench)
    if (!b.results.empty() || !b.profile.empty()) m.bench.push_back(std::move(b));
  m.comparisons = compare_configurations(m, rows.comparison);
  m.search = std::move(rows.search);
  return m;
}

void set_best_run_details(ReportModel& model, std::vector<ClassMetrics> classes,
                          const std::vector<ConfusionCell>& cells) {
  if (!model.best) return;
  BestRun& b = *model.best;
  b.classes = std::move(classes);
  b.labels = 0;
  b.max_count = 0;
  b.confusion.clear();
  if (!cells.empty()) {
    for (const ConfusionCell& c : cells) {
      b.labels = std::max({b.labels, c.true_label + 1, c.predicted_label + 1});
      b.max_count = std::max(b.max_count, c.count);
    }
    for (const ClassMetrics& c : b.classes) b.labels = std::max<int64_t>(b.labels, c.label + 1);
    b.confusion.assign(static_cast<size_t>(b.labels * b.labels), 0);
    for (const ConfusionCell& c : cells)
      if (c.true_label >= 0 && c.predicted_label >= 0)
        b.confusion[static_cast<size_t>(c.true_label * b.labels + c.predicted_label)] = c.count;
  }
  b.macro.reset();
  if (!b.classes.empty()) {
    BestRun::Macro macro;
    for (const ClassMetrics& c : b.classes) {
      macro.precision += c.precision;
      macro.recall += c.recall;
      macro.f1 += c.f1;
      macro.support += c.support;
    }
    const double k = static_cast<double>(b.classes.size());
    macro.precision /= k;
    macro.recall /= k;
    macro.f1 /= k;
    b.macro = macro;
  }
}

}  // namespace lenetlab::report
