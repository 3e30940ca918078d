// The report's search section (report/html_search.cpp): from a database written through Store
// with successive halving's rungs (stage 1 of a protocol, sweep p.tune) and the protocol's
// selection (sweep p), the report of sweep p shows both: each candidate's metric, rank and fate at
// each rung, and the selected setting per group (its name from the database escaped); the
// selection chart (report/charts_search.cpp) holds every stage-1 run at its stored last epoch, the
// selected setting marked, on a log axis when the stored space draws the setting log_uniform.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <initializer_list>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "../store/store_test_util.hpp"
#include "page_util.hpp"
#include "report/charts.hpp"
#include "report/html_view.hpp"
#include "report/report.hpp"
#include "store/reader.hpp"
#include "store/store.hpp"

namespace lenetlab::test {
namespace {

namespace fs = std::filesystem;

/// Run `lr` of sweep `sweep` trained `epochs` epochs (val_accuracy 0.89 + 0.01 epoch), ended
/// with `status`; returns its id.
int64_t add_run(Store& store, const std::string& sweep, double lr, int epochs, RunStatus status) {
  const int64_t sweep_id = store.upsert_sweep(sweep, "p.yaml", "name: p\n");
  RunConfig config = make_config("lenet5", "adam", lr, 64, sweep == "p" ? 11 : 1);
  const int64_t run = store.prepare_run(sweep_id, config);
  store.claim_run(run);
  store.start_run(run, Environment{}, {61706, 61706, 416520}, "abc");
  for (int e = 1; e <= epochs; ++e) store.record_epoch(run, make_epoch(e));
  RunResult result = make_result(0.98, 0.07, 10, status);
  result.epochs_completed = epochs;
  store.finish_run(run, result);
  return run;
}

RungRow rung(int64_t run, int index, int epochs, double value, int rank, int n, bool promoted) {
  RungRow r;
  r.run_id = run;
  r.rung = index;
  r.epochs = epochs;
  r.metric = "val_accuracy";
  r.metric_value = value;
  r.rank = rank;
  r.candidates = n;
  r.promoted = promoted;
  return r;
}

/// The selection of run `run` for `group` by val_accuracy `value` (1 tuning run).
SelectionRow selection(int64_t run, const std::string& group, double value, int settings) {
  SelectionRow s;
  s.group = group;
  s.run_id = run;
  s.metric = "val_accuracy";
  s.metric_value = value;
  s.tuning_runs = 1;
  s.settings = settings;
  return s;
}

TEST_CASE("report: the search section shows the rungs of stage 1 and the protocol's selection") {
  TempDir dir;
  const fs::path db = dir / "results.db";
  int64_t b = 0;
  {
    Store store(db);
    const int64_t a = add_run(store, "p.tune", 0.001, 2, RunStatus::finished);
    b = add_run(store, "p.tune", 0.1, 1, RunStatus::paused);
    store.prune_run(b, "pruned at rung 0");
    add_run(store, "p", 0.001, 2, RunStatus::finished);
    const int64_t tune = store.upsert_sweep("p.tune", "p.yaml", "name: p\n");
    store.record_rung(tune, 0, {rung(a, 0, 1, 0.9, 1, 2, true), rung(b, 0, 1, 0.5, 2, 2, false)});
    store.record_rung(tune, 1, {rung(a, 1, 2, 0.91, 1, 1, true)});
    store.record_selection(store.upsert_sweep("p", "p.yaml", "name: p\n"),
                           {selection(a, "optimizer=<i>adam</i>", 0.91, 2)});
  }
  const report::ReportModel model = read_report_model(db, "p", {});
  REQUIRE(model.search.size() == 2);
  CHECK(model.search[0].sweep == "p.tune");
  CHECK(model.search[0].rungs.size() == 3);
  CHECK(model.search[1].sweep == "p");
  REQUIRE(model.search[1].selections.size() == 1);
  CHECK(model.search[1].selections[0].run_key == make_config("lenet5", "adam", 0.001, 64, 1).key());

  const std::string page = report::render_html(model, kStandIns);
  CHECK(page.find("<a href=\"#search\">Search</a>") != std::string::npos);
  const std::string section = between(page, "<section id=\"search\">", "</section>");
  CHECK(section.find("rung 0 (1 epoch)") != std::string::npos);
  CHECK(section.find("rung 1 (2 epochs)") != std::string::npos);
  // a: 90.00% first of 2 and promoted, then 91.00% and selected; b: 50.00%, second, pruned.
  CHECK(section.find("90.00% <span class=\"muted\">(1/2)</span> <span class=\"ok\">promoted") !=
        std::string::npos);
  CHECK(section.find("91.00% <span class=\"muted\">(1/1)</span> <span class=\"ok\">best") !=
        std::string::npos);
  CHECK(section.find("50.00% <span class=\"muted\">(2/2)</span> <span class=\"bad\">pruned") !=
        std::string::npos);
  CHECK(section.find("optimizer=&lt;i&gt;adam&lt;/i&gt;") != std::string::npos);
  CHECK(section.find("<i>") == std::string::npos);
  // The rungs chart: one point per stored rung row, with its decision, in its group's panel.
  const nlohmann::json charts = report::chart_specs(model);
  REQUIRE(charts.contains("chart-rungs-0"));
  CHECK(section.find("id=\"chart-rungs-0\"") != std::string::npos);
  const nlohmann::json& rows = charts["chart-rungs-0"]["data"]["values"];
  REQUIRE(rows.size() == model.search[0].rungs.size());
  for (const RungRow& g : model.search[0].rungs) {
    CAPTURE(g.run_name);
    const auto row = std::find_if(rows.begin(), rows.end(), [&](const nlohmann::json& r) {
      return r["key"] == g.run_key && r["epochs"] == g.epochs;
    });
    REQUIRE(row != rows.end());
    CHECK((*row)["value"].get<double>() == *g.metric_value);
    CHECK((*row)["group"] == "optimizer=adam");  // its stage-1 run's group: one panel per group
    CHECK((*row)["decision"] == (g.run_id == b ? "pruned" : g.rung == 1 ? "best" : "promoted"));
  }
  // The report of stage 1 alone shows its rungs, not the selection.
  const report::ReportModel tune = read_report_model(db, "p.tune", {});
  REQUIRE(tune.search.size() == 1);
  CHECK(tune.search[0].selections.empty());
}

/// Stage 1 of protocol q (sweep q.tune, stored text `yaml`): adam at 0.001 and 0.002 (finished, 3
/// epochs) and 0.004 (pruned after 1), sgd at 0.002 and 0.005 (finished); each run's validation
/// accuracy 0.9 + 10 lr + 0.01 epoch. Selected: adam 0.002, sgd 0.005. Returns the selected keys.
std::vector<std::string> write_protocol(const fs::path& db, const std::string& yaml) {
  Store store(db);
  const int64_t tune = store.upsert_sweep("q.tune", "q.yaml", yaml);
  std::map<std::string, int64_t> id;
  using Run = std::tuple<const char*, double, int>;
  for (const auto& [optimizer, lr, epochs] : std::initializer_list<Run>{{"adam", 0.001, 3},
                                                                        {"adam", 0.002, 3},
                                                                        {"adam", 0.004, 1},
                                                                        {"sgd", 0.002, 3},
                                                                        {"sgd", 0.005, 3}}) {
    RunConfig config = make_config("lenet5", optimizer, lr, 64, 1);
    config.evaluate_test = false;
    const int64_t run = store.prepare_run(tune, config);
    store.claim_run(run);
    store.start_run(run, Environment{}, {61706, 61706, 416520}, "abc");
    for (int e = 1; e <= epochs; ++e) {
      EpochRecord epoch = make_epoch(e);
      epoch.val_accuracy = 0.9 + 10 * lr + 0.01 * e;
      store.record_epoch(run, epoch);
    }
    RunResult result =
        make_result(0.98, 0.07, 10, epochs == 3 ? RunStatus::finished : RunStatus::paused);
    result.epochs_completed = epochs;
    store.finish_run(run, result);
    if (epochs < 3) store.prune_run(run, "pruned at rung 0");
    id[fmt::format("{} {}", optimizer, lr)] = run;
  }
  using Choice = std::tuple<const char*, const char*, double, int>;
  std::vector<SelectionRow> rows;
  for (const auto& [group, optimizer, lr, settings] : std::initializer_list<Choice>{
           {"optimizer=adam", "adam", 0.002, 3}, {"optimizer=sgd", "sgd", 0.005, 2}}) {
    rows.push_back(selection(id.at(fmt::format("{} {}", optimizer, lr)), group,
                             0.9 + 10 * lr + 0.03, settings));
  }
  const int64_t sweep = store.upsert_sweep("q", "q.yaml", yaml);
  store.record_selection(sweep, rows);
  // Stage 2: one replication of adam's selection.
  const int64_t replicate = store.prepare_run(sweep, make_config("lenet5", "adam", 0.002, 64, 11));
  store.claim_run(replicate);
  store.start_run(replicate, Environment{}, {61706, 61706, 416520}, "abc");
  store.finish_run(replicate, make_result());
  const ResultsReader reader(db);
  std::vector<std::string> keys;
  for (const SelectionRow& s : reader.selections("q")) keys.push_back(s.run_key);
  return keys;
}

TEST_CASE(
    "report: the selection chart draws each stage-1 run at its last epoch, the selected "
    "setting marked, the learning rate on a log axis when drawn log_uniform") {
  TempDir dir;
  const fs::path db = dir / "results.db";
  const std::vector<std::string> selected = write_protocol(
      db,
      "name: q\nspace:\n  optimizer:\n    choice:\n      - {name: adam, learning_rate: "
      "{log_uniform: {low: 1.0e-3, high: 1.0e-2}}}\n      - {name: sgd, learning_rate: "
      "{uniform: {low: 1.0e-3, high: 1.0e-2}}}\n");
  REQUIRE(selected.size() == 2);
  const report::ReportModel model = read_report_model(db, "q", {});
  REQUIRE(model.search.size() == 1);
  const nlohmann::json charts = report::chart_specs(model);
  REQUIRE(charts.contains("chart-selection-0-0"));
  CHECK_FALSE(charts.contains("chart-selection-0-1"));  // the learning rate is the only setting
  const nlohmann::json& spec = charts["chart-selection-0-0"];
  CHECK(spec["spec"]["encoding"]["x"]["scale"].value("type", "") == "log");
  CHECK(spec["spec"]["encoding"]["x"]["title"] == "learning rate (log scale)");
  CHECK(spec["spec"]["encoding"]["y"]["title"] ==
        "validation accuracy at the last epoch reached (%)");
  CHECK(spec["title"]["text"].get<std::string>().find("Selection of q") == 0);

  // Every stage-1 run is one point: its learning rate, its stored last epoch's validation
  // accuracy, that epoch, pruned or not, selected when it is its group's selection.
  const ResultsReader reader(db);
  RunFilter filter;
  filter.sweep = "q.tune";
  const std::vector<RunRow> runs = reader.runs(filter);
  const nlohmann::json& points = spec["data"]["values"];
  REQUIRE(points.size() == runs.size());
  int marked = 0;
  for (const RunRow& run : runs) {
    CAPTURE(run.name);
    const std::vector<EpochRecord> epochs = reader.epochs(run.id);
    REQUIRE(!epochs.empty());
    const auto point = std::find_if(points.begin(), points.end(),
                                    [&](const nlohmann::json& p) { return p["run"] == run.name; });
    REQUIRE(point != points.end());
    CHECK((*point)["x"].get<double>() == run.learning_rate);
    CHECK((*point)["value"].get<double>() == *epochs.back().val_accuracy);
    CHECK((*point)["epochs"] == epochs.back().epoch);
    CHECK((*point)["group"] == "optimizer=" + run.optimizer);
    const bool chosen = std::count(selected.begin(), selected.end(), run.key) > 0;
    CHECK((*point)["selected"] == chosen);
    CHECK((*point)["fate"] == (chosen                            ? "selected"
                               : run.status == RunStatus::pruned ? "pruned"
                                                                 : "full budget"));
    marked += chosen;
  }
  CHECK(marked == 2);
  CHECK(std::count_if(points.begin(), points.end(),
                      [](const nlohmann::json& p) { return p["fate"] == "pruned"; }) == 1);

  // The page: the chart's element with a caption naming the selections and the metric.
  const std::string page = report::render_html(model, kStandIns);
  const std::string section = between(page, "<section id=\"search\">", "</section>");
  CHECK(section.find("id=\"chart-selection-0-0\"") != std::string::npos);
  const std::string caption = between(section, "<figcaption", "</figcaption>");
  CHECK(caption.find("Selected by validation accuracy") != std::string::npos);
  CHECK(caption.find("optimizer=adam: learning rate 0.002 (95.00%)") != std::string::npos);
  CHECK(caption.find("optimizer=sgd: learning rate 0.005 (98.00%)") != std::string::npos);
}

TEST_CASE(
    "report: the selection chart's learning-rate axis is linear when not drawn log_uniform "
    "and within a decade, log when it spans more") {
  TempDir dir;
  const fs::path db = dir / "results.db";
  write_protocol(db, "name: q\n");  // 0.001 to 0.005: within a decade
  const nlohmann::json charts = report::chart_specs(read_report_model(db, "q", {}));
  REQUIRE(charts.contains("chart-selection-0-0"));
  const nlohmann::json& x = charts["chart-selection-0-0"]["spec"]["encoding"]["x"];
  CHECK_FALSE(x["scale"].contains("type"));
  CHECK(x["title"] == "learning rate");
  // The first test's database spans 0.001 to 0.1: log without a space.
  const fs::path other = dir / "other.db";
  {
    Store store(other);
    const int64_t a = add_run(store, "p.tune", 0.001, 2, RunStatus::finished);
    add_run(store, "p.tune", 0.1, 2, RunStatus::finished);
    store.record_selection(store.upsert_sweep("p", "p.yaml", "name: p\n"),
                           {selection(a, "", 0.91, 2)});
    add_run(store, "p", 0.001, 2, RunStatus::finished);
  }
  const nlohmann::json log = report::chart_specs(read_report_model(other, "p", {}));
  REQUIRE(log.contains("chart-selection-0-0"));
  CHECK(log["chart-selection-0-0"]["spec"]["encoding"]["x"]["scale"].value("type", "") == "log");
  CHECK(log["chart-selection-0-0"]["data"]["values"][0]["group"] == "all runs");
}

TEST_CASE("report: Hyperband's rungs are shown bracket by bracket") {
  // Bracket 0 halves a and b from 1 epoch to 3; bracket 1 trains c for 3 epochs at once. One table
  // would put c's 3-epoch row under rung 0's "1 epoch" heading.
  TempDir dir;
  const fs::path db = dir / "results.db";
  {
    Store store(db);
    const int64_t a = add_run(store, "h", 0.001, 3, RunStatus::finished);
    const int64_t b = add_run(store, "h", 0.1, 1, RunStatus::paused);
    store.prune_run(b, "pruned at bracket 1 rung 0");
    const int64_t c = add_run(store, "h", 0.01, 3, RunStatus::finished);
    const int64_t h = store.upsert_sweep("h", "p.yaml", "name: p\n");
    store.record_rung(h, 0, {rung(a, 0, 1, 0.9, 1, 2, true), rung(b, 0, 1, 0.5, 2, 2, false)}, 0);
    store.record_rung(h, 1, {rung(a, 1, 3, 0.93, 1, 1, true)}, 0);
    store.record_rung(h, 0, {rung(c, 0, 3, 0.92, 1, 1, true)}, 1);
  }
  const report::ReportModel model = read_report_model(db, "h", {});
  REQUIRE(model.search.size() == 1);
  REQUIRE(model.search[0].rungs.size() == 4);  // bracket 1's rung 0 did not replace bracket 0's
  CHECK(model.search[0].rungs[3].bracket == 1);
  const std::string section =
      between(report::render_html(model, kStandIns), "<section id=\"search\">", "</section>");
  const size_t first = section.find(
      "Hyperband bracket 1 of <strong>h</strong>: 2 candidates from 1 "
      "epoch</h3>");
  const size_t second = section.find(
      "Hyperband bracket 2 of <strong>h</strong>: 1 candidates "
      "from 3 epochs</h3>");
  REQUIRE(first != std::string::npos);
  REQUIRE(second != std::string::npos);
  CHECK(section.find("Successive halving") == std::string::npos);
  // Bracket 2's table has one rung, of 3 epochs, with c selected.
  const std::string last = section.substr(second);
  CHECK(last.find("rung 0 (3 epochs)") != std::string::npos);
  CHECK(last.find("rung 1") == std::string::npos);
  CHECK(last.find("92.00% <span class=\"muted\">(1/1)</span> <span class=\"ok\">best") !=
        std::string::npos);
  // The rungs chart: each bracket's last rung is its own (c's 3-epoch rung 0 is bracket 2's best).
  const nlohmann::json charts = report::chart_specs(model);
  REQUIRE(charts.contains("chart-rungs-0"));
  std::map<std::string, int> decisions;
  for (const auto& row : charts["chart-rungs-0"]["data"]["values"])
    ++decisions[row.value("decision", "") + "@" + std::to_string(row.value("epochs", 0))];
  CHECK(decisions == std::map<std::string, int>{{"best@3", 2}, {"promoted@1", 1}, {"pruned@1", 1}});
  CHECK(charts["chart-rungs-0"]["title"]["text"].get<std::string>().rfind("Hyperband", 0) == 0);
}

}  // namespace
}  // namespace lenetlab::test
