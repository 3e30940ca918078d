// The search section: per sweep, a protocol's selection (table protocol_selections: the setting
// stage 2 replicates for each group, chosen by a validation metric only) and successive halving's
// rungs (table search_rungs: which candidates reached which epoch budget, their metric and rank at
// each decision, promoted or not), each table with its charts (report/charts_search.cpp). Rules in
// sweeps/README.md "Successive halving" and "Protocol".
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "report/charts.hpp"
#include "report/html_sections.hpp"

namespace lenetlab::report {

namespace {

std::string metric_text(const std::string& metric, std::optional<double> value) {
  if (!value) return "diverged";
  return metric == "val_accuracy" ? pct(*value) : fmt::format("{:.4f}", *value);
}

Html selection_table(const SearchRecord& r) {
  Html rows;
  for (const SelectionRow& s : r.selections)
    rows += html(
        "<tr><td>{}</td><td>{}</td><td class=\"mono\">{}</td><td>{}</td><td class=\"num\">{}</td>"
        "<td class=\"num\">{}</td><td class=\"num\">{}</td></tr>\n",
        s.group.empty() ? "all runs" : s.group, s.run_name, s.run_key, s.metric,
        metric_text(s.metric, s.metric_value), s.tuning_runs, s.settings);
  return html(
      "<h3>Selection of protocol <strong>{}</strong></h3>\n<p class=\"note\">Per group, the "
      "setting stage 2 replicates: the best mean validation metric of its tuning runs at their "
      "last epoch (ties by run key). Tuning runs never evaluate the test set, so no test figure "
      "played a part; stage 2's runs are the sweep's configurations above.</p>\n"
      "<div class=\"scroll\"><table><thead><tr><th>group</th><th>selected (tuning run)</th>"
      "<th>key</th><th>metric</th><th class=\"num\">value</th><th class=\"num\">tuning runs"
      "</th><th class=\"num\">settings compared</th></tr></thead><tbody>\n{}</tbody></table>"
      "</div>\n",
      r.sweep, rows);
}

/// One row per candidate of one bracket, one column per rung: furthest rung first, then its rank
/// there. `title` names the search (successive halving, or one bracket of Hyperband).
Html rungs_table(const std::vector<RungRow>& rungs, const Html& title) {
  int last = 0;
  std::map<int, int> budget;  // rung -> epochs
  std::map<std::string, std::map<int, const RungRow*>> by_run;
  std::map<std::string, std::string> name;
  for (const RungRow& g : rungs) {
    last = std::max(last, g.rung);
    budget[g.rung] = g.epochs;
    by_run[g.run_key][g.rung] = &g;
    name[g.run_key] = g.run_name;
  }
  std::vector<std::string> order;
  for (const auto& [key, rungs] : by_run) order.push_back(key);
  std::sort(order.begin(), order.end(), [&](const std::string& a, const std::string& b) {
    const auto& ra = *by_run[a].rbegin();
    const auto& rb = *by_run[b].rbegin();
    if (ra.first != rb.first) return ra.first > rb.first;
    if (ra.second->rank != rb.second->rank) return ra.second->rank < rb.second->rank;
    return a < b;
  });
  Html head;
  for (const auto& [rung, epochs] : budget)
    head +=
        html("<th class=\"num\">rung {} ({} epoch{})</th>", rung, epochs, epochs == 1 ? "" : "s");
  Html rows;
  for (const std::string& key : order) {
    Html cells;
    for (const auto& [rung, epochs] : budget) {
      const auto it = by_run[key].find(rung);
      if (it == by_run[key].end()) {
        cells += "<td class=\"num muted\">&mdash;</td>";
        continue;
      }
      const RungRow& g = *it->second;
      const bool chosen = g.promoted && rung == last;
      cells += html("<td class=\"num\">{} <span class=\"muted\">({}/{})</span> {}</td>",
                    metric_text(g.metric, g.metric_value), g.rank, g.candidates,
                    chosen        ? Html("<span class=\"ok\">best</span>")
                    : g.promoted  ? Html("<span class=\"ok\">promoted</span>")
                    : rung < last ? Html("<span class=\"bad\">pruned</span>")
                                  : Html(""));
    }
    rows += html("<tr><td>{}</td><td class=\"mono\">{}</td>{}</tr>\n", name[key], key, cells);
  }
  const std::string metric = rungs.front().metric;
  return html(
      "<h3>{}</h3>\n<p class=\"note\">Each rung ranks "
      "the candidates still in the search by {} at its epoch budget (rank/candidates within the "
      "group; diverged last; ties by run key) and promotes the best 1/reduction; the others end "
      "pruned. Decided once every candidate reported, from the stored epoch rows only.</p>\n"
      "<div class=\"scroll\"><table class=\"sortable\"><thead><tr><th>run</th><th>key</th>{}"
      "</tr></thead><tbody>\n{}</tbody></table></div>\n",
      title, metric, head, rows);
}

/// The rungs tables of a search: one for successive halving, one per bracket for Hyperband.
Html rungs_tables(const SearchRecord& r) {
  std::map<int, std::vector<RungRow>> brackets;
  for (const RungRow& g : r.rungs) brackets[g.bracket].push_back(g);
  if (brackets.size() == 1 && brackets.begin()->first == 0)
    return rungs_table(r.rungs, html("Successive halving of <strong>{}</strong>", r.sweep));
  Html out;
  for (const auto& [bracket, rows] : brackets) {
    int candidates = 0, first = rows.front().epochs;
    for (const RungRow& g : rows) {
      candidates += g.rung == 0 ? 1 : 0;
      first = std::min(first, g.epochs);
    }
    out += rungs_table(rows, html("Hyperband bracket {} of <strong>{}</strong>: {} candidates from "
                                  "{} epoch{}",
                                  bracket + 1, r.sweep, candidates, first, first == 1 ? "" : "s"));
  }
  return out;
}

/// The selection charts of model.search[r] present in `charts`, each with its caption.
Html selection_charts(const ReportModel& model, std::size_t r, const nlohmann::json& charts) {
  const SearchRecord& record = model.search[r];
  const std::vector<TunedSetting> settings = tuned_settings(record);
  Html out;
  for (std::size_t k = 0; k < settings.size(); ++k) {
    const std::string id = selection_chart_id(r, k);
    if (!charts.contains(id)) continue;
    out += html(
        "<figure>\n<div class=\"chart\" id=\"{}\"></div>\n<figcaption class=\"note\">{}"
        "</figcaption>\n</figure>\n",
        id, selection_caption(record, settings[k]));
  }
  if (out.empty()) return out;
  Html intro(
      "<p class=\"note\">Each stage-1 run at the last epoch it reached: blue circles trained the "
      "full budget, grey triangles were pruned by successive halving at an earlier rung (their "
      "metric is from fewer epochs), the ringed red diamond is the setting selected for "
      "its group. Runs without a metric (diverged) are not drawn.</p>\n");
  intro += out;
  return intro;
}

}  // namespace

Html search_section(const ReportModel& model, const nlohmann::json& charts) {
  if (model.search.empty()) return {};
  Html out("<section id=\"search\">\n<h2>Search</h2>\n");
  for (std::size_t r = 0; r < model.search.size(); ++r) {
    const SearchRecord& record = model.search[r];
    if (!record.selections.empty()) {
      out += selection_table(record);
      out += selection_charts(model, r, charts);
    }
    if (!record.rungs.empty()) out += rungs_tables(record);
    if (charts.contains(rungs_chart_id(r)))
      out += html("<div class=\"chart\" id=\"{}\"></div>\n", rungs_chart_id(r));
  }
  out += "</section>\n";
  return out;
}

}  // namespace lenetlab::report
