#include "report/regression.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>

#include "stats/hypothesis.hpp"
#include "stats/summary.hpp"

namespace lenetlab::report {

namespace {

/// (seed, test accuracy) of a group's runs that have one, by seed.
std::vector<std::pair<int64_t, double>> seed_accuracies(const ReportModel& m,
                                                        const ConfigGroup& g) {
  std::vector<std::pair<int64_t, double>> out;
  for (const std::size_t i : g.runs)
    if (m.runs[i].test_accuracy) out.emplace_back(m.runs[i].seed, *m.runs[i].test_accuracy);
  std::sort(out.begin(), out.end());
  return out;
}

/// Every recorded epoch's training images/s of a group's runs.
std::vector<double> epoch_speeds(const ReportModel& m, const ConfigGroup& g) {
  std::vector<double> out;
  for (const std::size_t i : g.runs)
    for (const EpochRecord& e : m.epochs[i])
      if (e.images_per_second > 0) out.push_back(e.images_per_second);
  return out;
}

std::optional<double> finite(double p) {
  return std::isfinite(p) ? std::optional<double>(p) : std::nullopt;
}

RegressionCheck accuracy_check(const ReportModel& base, const ConfigGroup& gb,
                               const ReportModel& cand, const ConfigGroup& gc) {
  RegressionCheck c;
  c.metric = "test_accuracy";
  const auto b = seed_accuracies(base, gb), a = seed_accuracies(cand, gc);
  std::vector<double> bv, av;
  for (const auto& [seed, v] : b) bv.push_back(v);
  for (const auto& [seed, v] : a) av.push_back(v);
  c.n_baseline = bv.size();
  c.n_candidate = av.size();
  c.baseline = bv.empty() ? 0 : stats::mean(bv);
  c.candidate = av.empty() ? 0 : stats::mean(av);
  const bool same_seeds =
      a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                         [](auto& x, auto& y) { return x.first == y.first; });
  if (av.size() < 2 || bv.size() < 2) {
    c.note = "fewer than 2 runs with a test accuracy on a side: not tested";
    return c;
  }
  const stats::MeanDifference d = same_seeds
                                      ? stats::paired_t_test(av, bv, stats::Alternative::less)
                                      : stats::welch_t_test(av, bv, stats::Alternative::less);
  c.test = same_seeds ? "paired t" : "Welch t";
  c.p_value = finite(d.p_value);
  if (!c.p_value)
    c.note = d.difference == 0 ? "identical per seed" : "constant differences: t undefined";
  return c;
}

RegressionCheck speed_check(const ReportModel& base, const ConfigGroup& gb, const ReportModel& cand,
                            const ConfigGroup& gc, double margin) {
  RegressionCheck c;
  c.metric = "images_per_second";
  std::vector<double> bv = epoch_speeds(base, gb);
  const std::vector<double> av = epoch_speeds(cand, gc);
  c.n_baseline = bv.size();
  c.n_candidate = av.size();
  c.baseline = bv.empty() ? 0 : stats::median(bv);
  c.candidate = av.empty() ? 0 : stats::median(av);
  if (av.empty() || bv.empty()) {
    c.note = "no epoch with a speed on a side: not tested";
    return c;
  }
  for (double& v : bv) v *= 1 - margin;
  c.test = "Mann-Whitney U";
  c.p_value = finite(stats::mann_whitney_u(av, bv, stats::Alternative::less).p_value);
  return c;
}

/// A group's label without its leaderboard id ("C3 lenet5/sgd ..." -> "lenet5/sgd ...").
std::string bare_label(const ConfigGroup& g) {
  const std::size_t space = g.label.find(' ');
  return space == std::string::npos ? g.label : g.label.substr(space + 1);
}

std::map<std::string, const ConfigGroup*> groups_by_identity(const ReportModel& m) {
  std::map<std::string, const ConfigGroup*> out;
  for (const ConfigGroup& g : m.groups)
    if (!g.runs.empty()) out[configuration_identity(m.runs[g.runs.front()].config_json).key] = &g;
  return out;
}

}  // namespace

std::size_t RegressionReport::worse_count() const {
  return static_cast<std::size_t>(std::count_if(checks.begin(), checks.end(),
                                                [](const RegressionCheck& c) { return c.worse; }));
}

RegressionReport regression_checks(const ReportModel& baseline, const ReportModel& candidate,
                                   const RegressionOptions& options) {
  RegressionReport report;
  const auto cand_groups = groups_by_identity(candidate);
  const auto base_groups = groups_by_identity(baseline);
  for (const ConfigGroup& gb : baseline.groups) {
    if (gb.runs.empty()) continue;
    const auto it =
        cand_groups.find(configuration_identity(baseline.runs[gb.runs.front()].config_json).key);
    if (it == cand_groups.end()) {
      report.only_in_baseline.push_back(bare_label(gb));
      continue;
    }
    for (RegressionCheck c :
         {accuracy_check(baseline, gb, candidate, *it->second),
          speed_check(baseline, gb, candidate, *it->second, options.speed_margin)}) {
      c.configuration = bare_label(gb);
      report.checks.push_back(std::move(c));
    }
  }
  for (const auto& [key, g] : cand_groups)
    if (!base_groups.count(key)) report.only_in_candidate.push_back(bare_label(*g));
  std::vector<double> p;
  for (const RegressionCheck& c : report.checks) p.push_back(c.p_value.value_or(std::nan("")));
  const std::vector<double> holm = stats::holm_adjust(p);
  for (std::size_t i = 0; i < report.checks.size(); ++i) {
    RegressionCheck& c = report.checks[i];
    c.p_holm = finite(holm[i]);
    c.worse = c.p_holm && *c.p_holm < options.alpha;
  }
  return report;
}

}  // namespace lenetlab::report
