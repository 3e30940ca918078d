// `lenetlab compare [--sweep S] [--factor F] [--metric M] [--targets T,...] [--format F]`: the
// pairwise comparisons of report/comparisons.hpp (configurations that differ in one setting, paired
// or Welch, Holm over the pairs printed, Hedges' g, verdicts) as a table, CSV or JSON; and
// `lenetlab compare --baseline OLD.db --candidate NEW.db`, the regression gate of
// report/regression.hpp: exit status 4 when a configuration is significantly worse in NEW.db.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "core/error.hpp"
#include "report/model.hpp"
#include "report/regression.hpp"
#include "report/report.hpp"

namespace lenetlab {

namespace {

struct CompareCommandOptions {
  std::string sweep, factor, metric = "test_accuracy", format = "table";
  std::vector<double> targets;
  std::string baseline, candidate;  ///< the regression gate's databases
  report::RegressionOptions gate;
};

std::string optional_text(const std::optional<double>& v, const char* spec = "{:.4g}") {
  return v ? fmt::format(fmt::runtime(spec), *v) : std::string();
}

nlohmann::json pair_json(const report::Comparison& c) {
  const auto opt = [](const auto& v) { return v ? nlohmann::json(*v) : nlohmann::json(); };
  return {{"factor", c.factor},
          {"confounded", c.confounded},
          {"a", c.a},
          {"a_value", c.a_value},
          {"b", c.b},
          {"b_value", c.b_value},
          {"paired", c.paired},
          {"n_a", c.n_a},
          {"n_b", c.n_b},
          {"mean_a", c.mean_a},
          {"mean_b", c.mean_b},
          {"difference", c.difference},
          {"low", opt(c.low)},
          {"high", opt(c.high)},
          {"p_value", opt(c.p_value)},
          {"p_holm", opt(c.p_holm)},
          {"wilcoxon_p", opt(c.wilcoxon_p)},
          {"hedges_g", opt(c.hedges_g)},
          {"seeds_needed", opt(c.seeds_needed)},
          {"significant", c.significant},
          {"verdict", c.verdict}};
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (const char ch : s) out += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return out + "\"";
}

void print_csv(const report::ComparisonSet& set) {
  std::printf(
      "factor,a,a_value,b,b_value,paired,n_a,n_b,mean_a,mean_b,difference,low,high,"
      "p_value,p_holm,wilcoxon_p,hedges_g,seeds_needed,significant,verdict\n");
  for (const report::Comparison& c : set.pairs) {
    std::printf(
        "%s\n",
        fmt::format("{},{},{},{},{},{},{},{},{:.6g},{:.6g},{:.6g},{},{},{},{},{},{},{},{},{}",
                    csv_field(c.factor), c.a, csv_field(c.a_value), c.b, csv_field(c.b_value),
                    c.paired, c.n_a, c.n_b, c.mean_a, c.mean_b, c.difference,
                    optional_text(c.low, "{:.6g}"), optional_text(c.high, "{:.6g}"),
                    optional_text(c.p_value), optional_text(c.p_holm), optional_text(c.wilcoxon_p),
                    optional_text(c.hedges_g, "{:.3g}"),
                    c.seeds_needed ? std::to_string(*c.seeds_needed) : "", c.significant,
                    csv_field(c.verdict))
            .c_str());
  }
}

void print_table(const report::ReportModel& m) {
  const report::ComparisonSet& set = m.comparisons;
  std::printf(
      "%s",
      fmt::format(
          "{} comparisons on {}{}\n", set.pairs.size(), report::metric_info(set.metric).label,
          set.metric_target ? fmt::format(" (target {:g})", *set.metric_target) : std::string())
          .c_str());
  for (const report::ConfigGroup& g : m.groups) std::printf("  %s\n", g.label.c_str());
  std::string factor;
  for (const report::Comparison& c : set.pairs) {
    if (c.factor != factor) {
      factor = c.factor;
      std::printf("\n%s%s\n", factor.c_str(), report::confounded_note(c).c_str());
    }
    std::printf("%s", fmt::format("  {} vs {} ({}, n {}/{}): p {} holm {}{}  g {}\n    {}\n", c.a,
                                  c.b, c.paired ? "paired" : "Welch", c.n_a, c.n_b,
                                  optional_text(c.p_value), optional_text(c.p_holm),
                                  c.wilcoxon_p ? " wilcoxon " + optional_text(c.wilcoxon_p) : "",
                                  optional_text(c.hedges_g, "{:.3g}"), c.verdict)
                          .c_str());
  }
  if (!set.factors.empty()) std::printf("\nfactors (mean over the rest of the grid)\n");
  for (const report::FactorSummary& f : set.factors) {
    std::printf("%s", fmt::format("  {}: variance across configurations explained {}\n", f.factor,
                                  f.eta_squared ? fmt::format("{:.0f}%", 100 * *f.eta_squared)
                                                : std::string("-"))
                          .c_str());
    for (const report::FactorLevel& l : f.levels)
      std::printf("%s", fmt::format("    {}: {:.4g} [{}, {}] ({} configurations, {} runs)\n",
                                    l.value, l.mean, optional_text(l.low), optional_text(l.high),
                                    l.configurations, l.runs)
                            .c_str());
  }
  for (const std::string& method : set.methods) std::printf("\n%s", method.c_str());
  std::printf("\n");
}

std::string p_text(const std::optional<double>& p) { return p ? fmt::format("{:.3g}", *p) : "-"; }

void print_gate(const report::RegressionReport& r, const std::string& format, double alpha) {
  if (format == "json") {
    nlohmann::json checks = nlohmann::json::array();
    const auto opt = [](const auto& v) { return v ? nlohmann::json(*v) : nlohmann::json(); };
    for (const report::RegressionCheck& c : r.checks)
      checks.push_back({{"configuration", c.configuration},
                        {"metric", c.metric},
                        {"test", c.test},
                        {"n_baseline", c.n_baseline},
                        {"n_candidate", c.n_candidate},
                        {"baseline", c.baseline},
                        {"candidate", c.candidate},
                        {"p_value", opt(c.p_value)},
                        {"p_holm", opt(c.p_holm)},
                        {"worse", c.worse},
                        {"note", c.note}});
    std::printf("%s\n", nlohmann::json{{"checks", checks},
                                       {"only_in_baseline", r.only_in_baseline},
                                       {"only_in_candidate", r.only_in_candidate},
                                       {"worse", r.worse_count()}}
                            .dump(2)
                            .c_str());
    return;
  }
  const bool csv = format == "csv";
  std::printf(csv ? "configuration,metric,test,n_baseline,n_candidate,baseline,candidate,p_value,"
                    "p_holm,worse,note\n"
                  : "%-44s %-17s %-14s %9s %12s %12s %8s %8s  %s\n",
              "configuration", "metric", "test (1-sided)", "n (b/c)", "baseline", "candidate", "p",
              "p Holm", "verdict");
  for (const report::RegressionCheck& c : r.checks) {
    const std::string verdict = c.worse ? "WORSE" : (c.note.empty() ? "ok" : "ok (" + c.note + ")");
    if (csv)
      std::printf(
          "%s\n",
          fmt::format("{},{},{},{},{},{:.6g},{:.6g},{},{},{},{}", csv_field(c.configuration),
                      c.metric, c.test, c.n_baseline, c.n_candidate, c.baseline, c.candidate,
                      optional_text(c.p_value), optional_text(c.p_holm), c.worse, csv_field(c.note))
              .c_str());
    else
      std::printf("%s\n",
                  fmt::format("{:<44} {:<17} {:<14} {:>9} {:>12.6g} {:>12.6g} {:>8} {:>8}  {}",
                              c.configuration, c.metric, c.test,
                              fmt::format("{}/{}", c.n_baseline, c.n_candidate), c.baseline,
                              c.candidate, p_text(c.p_value), p_text(c.p_holm), verdict)
                      .c_str());
  }
  if (csv) return;
  for (const std::string& l : r.only_in_baseline)
    std::printf("only in the baseline: %s\n", l.c_str());
  for (const std::string& l : r.only_in_candidate)
    std::printf("only in the candidate: %s\n", l.c_str());
  std::printf("%s\n", fmt::format("{} of {} checks significantly worse (Holm-adjusted p < {:g}; "
                                  "accuracy: mean test accuracy, speed: median images/s per epoch)",
                                  r.worse_count(), r.checks.size(), alpha)
                          .c_str());
}

void run_gate(const CompareCommandOptions& cmd) {
  if (cmd.baseline.empty() || cmd.candidate.empty())
    throw Error("compare: --baseline and --candidate go together (two databases)");
  const report::ComparisonOptions none;
  const report::ReportModel base = read_report_model(cmd.baseline, cmd.sweep, none);
  const report::ReportModel cand = read_report_model(cmd.candidate, cmd.sweep, none);
  const report::RegressionReport r = report::regression_checks(base, cand, cmd.gate);
  if (r.checks.empty())
    throw Error(fmt::format("compare: no configuration of {} has the settings of one in {}",
                            cmd.candidate, cmd.baseline));
  print_gate(r, cmd.format, cmd.gate.alpha);
  if (r.worse_count() > 0)
    throw ExitStatus(4, fmt::format("{} of {} checks: the candidate is significantly worse",
                                    r.worse_count(), r.checks.size()));
}

void run_compare(const GlobalOptions& global, const CompareCommandOptions& cmd) {
  if (!cmd.baseline.empty() || !cmd.candidate.empty()) return run_gate(cmd);
  report::ComparisonOptions options;
  const auto metric = report::parse_comparison_metric(cmd.metric);
  if (!metric) {
    std::string names;
    for (const auto& info : report::kComparisonMetrics)
      names += (names.empty() ? "" : ", ") + std::string(info.name);
    throw Error(fmt::format("compare: unknown metric '{}'; expected one of {}", cmd.metric, names));
  }
  options.metric = *metric;
  options.factor = cmd.factor;
  options.targets = cmd.targets;  // empty: the sweeps' `targets` keys
  report::ReportModel model;
  try {
    model = read_report_model(global.db, cmd.sweep, options);
  } catch (const std::invalid_argument& e) {
    throw Error(fmt::format("compare: --targets: {}", e.what()));
  }
  if (!cmd.factor.empty() && model.comparisons.pairs.empty())
    throw Error(fmt::format("compare: no pair of configurations differs only in '{}'", cmd.factor));
  if (cmd.format == "csv") {
    print_csv(model.comparisons);
  } else if (cmd.format == "json") {
    nlohmann::json pairs = nlohmann::json::array();
    for (const report::Comparison& c : model.comparisons.pairs) pairs.push_back(pair_json(c));
    std::printf("%s\n", nlohmann::json{{"metric", cmd.metric}, {"pairs", pairs}}.dump(2).c_str());
  } else {
    print_table(model);
  }
}

}  // namespace

void add_compare_command(CLI::App& app, GlobalOptions& global) {
  auto cmd = std::make_shared<CompareCommandOptions>();
  CLI::App* sub = app.add_subcommand(
      "compare",
      "compare configurations that differ in one setting: paired or Welch t-test, "
      "Holm-adjusted p-values, Hedges' g, verdicts");
  sub->add_option("--sweep", cmd->sweep, "sweep name (default: every sweep in the database)");
  sub->add_option("--factor", cmd->factor,
                  "only pairs differing in this setting (optimizer, learning rate, architecture, "
                  "batch size, or a setting path such as optimizer.momentum)");
  sub->add_option("--metric", cmd->metric,
                  "test_accuracy (default), best_val_accuracy, test_loss, seconds, "
                  "epochs_to_target, seconds_to_target");
  sub->add_option("--targets", cmd->targets,
                  "target validation accuracies of time to target, increasing (default: the "
                  "sweep's `targets` key, else 0.98,0.99; the *_to_target metrics use the first)")
      ->delimiter(',');
  sub->add_option("--format", cmd->format, "table (default), csv or json")
      ->check(CLI::IsMember({"table", "csv", "json"}));
  sub->add_option("--baseline", cmd->baseline,
                  "regression gate: the reference database; with --candidate, exit 4 when a "
                  "configuration of both is significantly worse in the candidate");
  sub->add_option("--candidate", cmd->candidate, "regression gate: the database to check");
  sub->add_option("--alpha", cmd->gate.alpha, "regression gate: family-wise error rate (Holm)")
      ->check(CLI::Range(1e-6, 0.5))
      ->capture_default_str();
  sub->add_option("--speed-margin", cmd->gate.speed_margin,
                  "regression gate: images/s slack, a fraction of the baseline's")
      ->check(CLI::Range(0.0, 0.9))
      ->capture_default_str();
  sub->callback([&global, cmd] { run_compare(global, *cmd); });
}

}  // namespace lenetlab
