// Pairwise comparisons, factor summaries and time to target (report/comparisons.hpp).
#include "report/comparisons.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <stdexcept>
#include <string_view>

#include "report/factors.hpp"
#include "report/model.hpp"
#include "report/pareto.hpp"
#include "stats/effect.hpp"
#include "stats/hypothesis.hpp"
#include "stats/summary.hpp"

namespace lenetlab::report {

namespace {

constexpr std::size_t kMaxSeedsNeeded = 1000;

/// The first epoch whose validation accuracy reaches `target`, with the training seconds so far.
TargetTime time_to(const std::vector<EpochRecord>& epochs, double target) {
  TargetTime t{target, std::nullopt, std::nullopt};
  double seconds = 0;
  for (const EpochRecord& e : epochs) {
    seconds += e.seconds;
    if (e.val_accuracy && *e.val_accuracy >= target) {
      t.epoch = e.epoch;
      t.seconds = seconds;
      break;
    }
  }
  return t;
}

/// seed -> value of the group's runs that have the metric (the first run of a seed counts).
std::map<int64_t, double> values_by_seed(const ReportModel& model, const ConfigGroup& g,
                                         ComparisonMetric metric, double target) {
  std::map<int64_t, double> out;
  for (const std::size_t i : g.runs)
    if (const auto v = run_metric(model, i, metric, target))
      out.try_emplace(model.runs[i].seed, *v);
  return out;
}

std::vector<double> values_of(const std::map<int64_t, double>& by_seed) {
  std::vector<double> v;
  for (const auto& [seed, value] : by_seed) v.push_back(value);
  return v;
}

/// A difference as shown: percentage points for fractions, else the metric's unit.
std::string amount(double x, const ComparisonMetricInfo& info) {
  if (info.fraction) return fmt::format("{:.2f}", 100 * x);
  return fmt::format("{:.3g}", x);
}

std::string unit(const ComparisonMetricInfo& info) {
  switch (info.metric) {
    case ComparisonMetric::test_accuracy:
    case ComparisonMetric::best_val_accuracy:
      return " points";
    case ComparisonMetric::seconds:
    case ComparisonMetric::seconds_to_target:
      return " s";
    case ComparisonMetric::epochs_to_target:
      return " epochs";
    case ComparisonMetric::test_loss:
      break;
  }
  return "";
}

std::string p_text(double p) {
  return p < 0.001 ? std::string("p < 0.001") : fmt::format("p = {:.3g}", p);
}

/// The t-test, rank test, effect size and power of one pair; a is the better of the two.
void test_pair(Comparison& c, const std::map<int64_t, double>& a,
               const std::map<int64_t, double>& b, const ComparisonOptions& options) {
  std::vector<double> va = values_of(a), vb = values_of(b);
  c.paired = a.size() >= 2 && a.size() == b.size() &&
             std::equal(a.begin(), a.end(), b.begin(),
                        [](const auto& x, const auto& y) { return x.first == y.first; });
  c.n_a = va.size();
  c.n_b = vb.size();
  c.mean_a = stats::mean(va);
  c.mean_b = stats::mean(vb);
  c.difference = c.mean_a - c.mean_b;
  if (va.size() < 2 || vb.size() < 2) return;
  const stats::MeanDifference t =
      c.paired ? stats::paired_t_test(va, vb, stats::Alternative::two_sided, options.confidence)
               : stats::welch_t_test(va, vb, stats::Alternative::two_sided, options.confidence);
  c.difference = t.difference;
  c.low = t.low;
  c.high = t.high;
  if (!std::isnan(t.p_value)) c.p_value = t.p_value;
  if (c.paired) c.wilcoxon_p = stats::wilcoxon_signed_rank(va, vb).p_value;
  const double g = stats::hedges_g(va, vb);
  if (!std::isnan(g)) c.hedges_g = g;
  // The sd behind the test: of the per-seed differences (paired), else pooled.
  double sd = 0;
  if (c.paired) {
    std::vector<double> d;
    for (std::size_t i = 0; i < va.size(); ++i) d.push_back(va[i] - vb[i]);
    sd = stats::sample_sd(d);
  } else {
    sd = std::sqrt((std::pow(stats::sample_sd(va), 2) + std::pow(stats::sample_sd(vb), 2)) / 2);
  }
  c.seeds_needed = stats::seeds_needed(c.difference, sd,
                                       c.paired ? stats::Design::paired : stats::Design::two_sample,
                                       options.power, options.alpha, kMaxSeedsNeeded);
}

std::string verdict(const Comparison& c, const ComparisonMetricInfo& info,
                    const ComparisonOptions& options) {
  const std::string a = fmt::format("{} ({})", c.a, c.a_value);
  const std::string b = fmt::format("{} ({})", c.b, c.b_value);
  if (!c.low) {
    return fmt::format("not tested: needs 2 seeds with a {} in each (has {} and {})", info.label,
                       c.n_a, c.n_b);
  }
  if (!c.p_holm) {
    return c.difference == 0
               ? fmt::format("no difference: {} and {} are equal on every seed", a, b)
               : fmt::format("not tested: the {} of {} and {} does not vary", info.label, a, b);
  }
  // The advantage of a in the metric's good direction, with its interval.
  const double sign = info.higher_is_better ? 1 : -1;
  const double lo = std::min(sign * *c.low, sign * *c.high);
  const double hi = std::max(sign * *c.low, sign * *c.high);
  const std::string by = fmt::format("{}{} [{}, {}]", amount(sign * c.difference, info), unit(info),
                                     amount(lo, info), amount(hi, info));
  if (c.significant)
    return fmt::format("{} better than {} by {}, {} after Holm", a, b, by, p_text(*c.p_holm));
  const std::size_t seeds = std::min(c.n_a, c.n_b);
  std::string out = fmt::format("no detectable difference with {} seeds ({} after Holm)", seeds,
                                p_text(*c.p_holm));
  const std::string size = amount(std::abs(c.difference), info) + unit(info);
  if (c.seeds_needed)
    out += fmt::format("; about {} seeds would detect {} at {:.0f}% power", *c.seeds_needed, size,
                       100 * options.power);
  else if (size != amount(0, info) + unit(info))  // a difference shown as 0 needs no seeds
    out += fmt::format("; more than {} seeds would be needed to detect {}", kMaxSeedsNeeded, size);
  return out;
}

}  // namespace

std::string confounded_note(const Comparison& c) {
  if (c.confounded.empty()) return {};
  std::string list;
  for (const std::string& path : c.confounded) list += (list.empty() ? "" : ", ") + path;
  return " (changes together with: " + list + ")";
}

namespace {

/// Hyper-parameters that belong to one optimizer's choice (SGD's momentum and nesterov, Adam's
/// beta_1, beta_2 and epsilon, RMSprop's rho; optim/optimizer.hpp): between configurations with
/// different optimizers, a difference in these is part of the optimizer factor, not a second one
/// (a grid's per-optimizer lists set them per optimizer). learning_rate and weight_decay apply to
/// every optimizer and stay factors of their own.
bool optimizer_own(const Factor& f) {
  static constexpr std::array<std::string_view, 6> kOwn = {
      "optimizer.momentum", "optimizer.nesterov", "optimizer.beta_1",
      "optimizer.beta_2",   "optimizer.epsilon",  "optimizer.rho"};
  return std::find(kOwn.begin(), kOwn.end(), f.path) != kOwn.end();
}

/// Every pair of groups whose only differing factor is one of `factors` (kept by options.factor).
std::vector<Comparison> pairs_of(const ReportModel& model, const std::vector<Factor>& factors,
                                 const ComparisonOptions& options, double target) {
  const ComparisonMetricInfo& info = metric_info(options.metric);
  std::vector<Comparison> out;
  for (const Factor& f : factors) {
    if (!options.factor.empty() && options.factor != f.name && options.factor != f.path) continue;
    for (std::size_t i = 0; i < model.groups.size(); ++i)
      for (std::size_t j = i + 1; j < model.groups.size(); ++j) {
        std::size_t differing = 0;
        bool this_one = false, typed = true;
        std::vector<std::string> nested;  // the optimizers' own hyper-parameters that differ
        for (const Factor& other : factors) {
          if (!other.of_group[i] || !other.of_group[j]) typed = false;
          if (other.of_group[i] == other.of_group[j]) continue;
          if (&other != &f && f.path == "optimizer.name" && optimizer_own(other)) {
            nested.push_back(other.path);
            continue;
          }
          ++differing;
          this_one = &other == &f;
        }
        if (!typed || differing != 1 || !this_one) continue;
        auto a = values_by_seed(model, model.groups[i], options.metric, target);
        auto b = values_by_seed(model, model.groups[j], options.metric, target);
        std::size_t first = i, second = j;
        const double ma = stats::mean(values_of(a)), mb = stats::mean(values_of(b));
        if (!a.empty() && !b.empty() && (info.higher_is_better ? mb > ma : mb < ma)) {
          std::swap(a, b);
          std::swap(first, second);
        }
        Comparison c;
        c.factor = f.name;
        c.confounded = f.confounded;
        c.confounded.insert(c.confounded.end(), nested.begin(), nested.end());
        c.a = model.groups[first].id;
        c.b = model.groups[second].id;
        c.a_value = f.values[*f.of_group[first]];
        c.b_value = f.values[*f.of_group[second]];
        test_pair(c, a, b, options);
        out.push_back(std::move(c));
      }
  }
  return out;
}

/// The interval of a factor level's pooled values (FactorLevel::low/high).
void level_interval(FactorLevel& level, const std::vector<double>& values, bool fraction) {
  if (fraction) {
    const stats::BoundedInterval b = accuracy_interval(values, std::nullopt);
    level.low = b.low;
    level.high = b.high;
  } else if (const auto half = stats::t_ci_half_width(values)) {
    level.low = level.mean - *half;
    level.high = level.mean + *half;
  }
}

std::vector<FactorSummary> summarize_factors(const ReportModel& model,
                                             const std::vector<Factor>& factors,
                                             const ComparisonOptions& options, double target) {
  const ComparisonMetricInfo& info = metric_info(options.metric);
  std::vector<FactorSummary> out;
  for (const Factor& f : factors) {
    FactorSummary s{f.name, f.path, {}, std::nullopt, std::nullopt};
    std::vector<std::vector<double>> group_means(f.values.size());
    std::vector<std::vector<double>> pooled(f.values.size());
    for (std::size_t g = 0; g < model.groups.size(); ++g) {
      if (!f.of_group[g]) continue;
      const std::vector<double> v =
          values_of(values_by_seed(model, model.groups[g], options.metric, target));
      if (v.empty()) continue;
      group_means[*f.of_group[g]].push_back(stats::mean(v));
      pooled[*f.of_group[g]].insert(pooled[*f.of_group[g]].end(), v.begin(), v.end());
    }
    std::size_t with_values = 0;
    for (std::size_t k = 0; k < f.values.size(); ++k) {
      FactorLevel level{f.values[k], group_means[k].size(), pooled[k].size(), 0, {}, {}};
      if (!pooled[k].empty()) {
        ++with_values;
        level.mean = stats::mean(pooled[k]);
        level_interval(level, pooled[k], info.fraction);
      } else {
        level.mean = std::nan("");
      }
      s.levels.push_back(std::move(level));
    }
    if (with_values >= 2) {
      const stats::OneWayAnova a = stats::one_way_anova(group_means);
      if (!std::isnan(a.eta_squared)) s.eta_squared = a.eta_squared;
      if (!std::isnan(a.p_value)) s.p_value = a.p_value;
    }
    out.push_back(std::move(s));
  }
  return out;
}

void set_time_to_target(const ReportModel& model, ComparisonSet& set) {
  for (std::size_t i = 0; i < model.runs.size(); ++i) {
    RunTargets r{i, {}};
    for (const double t : set.targets) r.targets.push_back(time_to(model.epochs[i], t));
    set.run_targets.push_back(std::move(r));
  }
  for (const ConfigGroup& g : model.groups)
    for (std::size_t k = 0; k < set.targets.size(); ++k) {
      GroupTarget gt{g.id, set.targets[k], g.runs.size(), 0, std::nullopt, std::nullopt};
      std::vector<double> epochs, seconds;
      for (const std::size_t i : g.runs) {
        const TargetTime& t = set.run_targets[i].targets[k];
        if (!t.epoch) continue;
        ++gt.reached;
        epochs.push_back(static_cast<double>(*t.epoch));
        seconds.push_back(*t.seconds);
      }
      if (!epochs.empty()) {
        gt.epochs_mean = stats::mean(epochs);
        gt.seconds_mean = stats::mean(seconds);
      }
      set.group_targets.push_back(gt);
    }
}

std::vector<std::string> methods_text(const ComparisonSet& set) {
  return {
      fmt::format("Pairs of configurations that differ in exactly one setting. Same seeds in both: "
                  "paired t-test on the per-seed differences (Student 1908), with the exact "
                  "Wilcoxon signed-rank test (Wilcoxon 1945; zero differences dropped, ties by "
                  "mid-rank) as the distribution-free check; otherwise Welch's t-test (Welch "
                  "1947). Intervals: {:.0f}% of the difference of means.",
                  100 * set.confidence),
      fmt::format("p-values adjusted over the pairs shown by Holm's step-down method (Holm 1979); "
                  "a difference is called when the adjusted p-value is below {:g}.",
                  set.alpha),
      "Effect size: Hedges' g with the pooled standard deviation and the small-sample correction "
      "(Hedges & Olkin 1985; Lakens 2013).",
      fmt::format("Seeds needed: the fewest seeds per configuration at which a t-test of the same "
                  "design reaches {:.0f}% power for the observed difference (noncentral t, as R's "
                  "power.t.test).",
                  100 * set.power),
      "Intervals of mean accuracies: Student-t interval on the logit scale, transformed back, so "
      "they stay inside [0, 1] (Warton & Hui 2011); with fewer than 3 seeds no interval is given "
      "(not informative).",
      "Variance explained by a factor: eta squared of a one-way ANOVA of the configurations' "
      "means grouped by the factor's value (Cohen 1988).",
  };
}

}  // namespace

const ComparisonMetricInfo& metric_info(ComparisonMetric metric) {
  for (const ComparisonMetricInfo& info : kComparisonMetrics)
    if (info.metric == metric) return info;
  throw std::invalid_argument("metric_info: unknown metric");
}

std::optional<ComparisonMetric> parse_comparison_metric(std::string_view name) {
  for (const ComparisonMetricInfo& info : kComparisonMetrics)
    if (info.name == name) return info.metric;
  return std::nullopt;
}

std::optional<double> run_metric(const ReportModel& model, std::size_t run, ComparisonMetric metric,
                                 double target) {
  const RunRow& r = model.runs[run];
  switch (metric) {
    case ComparisonMetric::test_accuracy:
      return r.test_accuracy;
    case ComparisonMetric::best_val_accuracy:
      return r.best_val_accuracy;
    case ComparisonMetric::test_loss:
      return r.test_loss;
    case ComparisonMetric::seconds:
      return model.epochs[run].empty() ? std::nullopt : kCostAxes[0].of_run(model, run);
    case ComparisonMetric::epochs_to_target: {
      const TargetTime t = time_to(model.epochs[run], target);
      return t.epoch ? std::optional<double>(static_cast<double>(*t.epoch)) : std::nullopt;
    }
    case ComparisonMetric::seconds_to_target:
      return time_to(model.epochs[run], target).seconds;
  }
  return std::nullopt;
}

ComparisonSet compare_configurations(const ReportModel& model, const ComparisonOptions& options) {
  for (std::size_t k = 0; k < options.targets.size(); ++k)
    if (!(options.targets[k] > 0 && options.targets[k] <= 1) ||
        (k > 0 && !(options.targets[k] > options.targets[k - 1])))
      throw std::invalid_argument("targets must be increasing fractions in (0, 1]");
  ComparisonSet set;
  set.metric = options.metric;
  set.alpha = options.alpha;
  set.confidence = options.confidence;
  set.power = options.power;
  set.targets = options.targets;
  const double target = options.metric_target.value_or(
      options.targets.empty() ? kDefaultTargets.front() : options.targets.front());
  if (options.metric == ComparisonMetric::epochs_to_target ||
      options.metric == ComparisonMetric::seconds_to_target)
    set.metric_target = target;
  const std::vector<Factor> factors = varying_factors(model.groups);
  set.pairs = pairs_of(model, factors, options, target);
  std::vector<double> p;
  for (const Comparison& c : set.pairs) p.push_back(c.p_value.value_or(std::nan("")));
  const std::vector<double> adjusted = stats::holm_adjust(p);
  const ComparisonMetricInfo& info = metric_info(options.metric);
  for (std::size_t k = 0; k < set.pairs.size(); ++k) {
    Comparison& c = set.pairs[k];
    if (!std::isnan(adjusted[k])) c.p_holm = adjusted[k];
    c.significant = c.p_holm && *c.p_holm < options.alpha;
    c.verdict = verdict(c, info, options);
  }
  set.factors = summarize_factors(model, factors, options, target);
  set_time_to_target(model, set);
  set.methods = methods_text(set);
  return set;
}

}  // namespace lenetlab::report
