// The report's search section (report/html_search.cpp): from a database written through Store
// with successive halving's rungs (stage 1 of a protocol, sweep p.tune) and the protocol's
// selection (sweep p), the report of sweep p shows both: each candidate's metric, rank and fate at
// each rung, and the selected setting per group (its name from the database escaped).
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <string>

#include "../store/store_test_util.hpp"
#include "page_util.hpp"
#include "report/html_view.hpp"
#include "report/report.hpp"
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

TEST_CASE("report: the search section shows the rungs of stage 1 and the protocol's selection") {
  TempDir dir;
  const fs::path db = dir / "results.db";
  {
    Store store(db);
    const int64_t a = add_run(store, "p.tune", 0.001, 2, RunStatus::finished);
    const int64_t b = add_run(store, "p.tune", 0.1, 1, RunStatus::paused);
    store.prune_run(b, "pruned at rung 0");
    add_run(store, "p", 0.001, 2, RunStatus::finished);
    const int64_t tune = store.upsert_sweep("p.tune", "p.yaml", "name: p\n");
    store.record_rung(tune, 0, {rung(a, 0, 1, 0.9, 1, 2, true), rung(b, 0, 1, 0.5, 2, 2, false)});
    store.record_rung(tune, 1, {rung(a, 1, 2, 0.91, 1, 1, true)});
    SelectionRow s;
    s.group = "optimizer=<i>adam</i>";
    s.run_id = a;
    s.metric = "val_accuracy";
    s.metric_value = 0.91;
    s.tuning_runs = 1;
    s.settings = 2;
    store.record_selection(store.upsert_sweep("p", "p.yaml", "name: p\n"), {s});
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
  // The report of stage 1 alone shows its rungs, not the selection.
  const report::ReportModel tune = read_report_model(db, "p.tune", {});
  REQUIRE(tune.search.size() == 1);
  CHECK(tune.search[0].selections.empty());
}

}  // namespace
}  // namespace lenetlab::test
