// Tune on validation, then replicate (sweep/protocol.hpp): the selection on a hand-checked example,
// the file's protocol key and its errors, and a protocol on the synthetic squares: stage-1 runs
// never evaluated on the test set, the selection equal to one computed here from the validation
// rows, unmoved when the stage-1 runs are given test metrics that would reverse it, stage 2 trained
// with the replication seeds, and a rerun that trains nothing and selects the same.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "../config/config_test_util.hpp"
#include "../sweep/sweep_test_util.hpp"
#include "sweep/halving.hpp"
#include "sweep/protocol.hpp"
#include "temp_dir.hpp"

namespace lenetlab::test {
namespace {

namespace fs = std::filesystem;

TEST_CASE("protocol: the best mean per group, ties by run key, settings with a failed run out") {
  // Hand-checked (binary fractions: the means are exact). Group g1: setting A (runs a1 0.875, a2
  // 0.625: mean 0.75), setting B (b1 0.8125, b2 0.6875: mean 0.75, a tie with A: A's first key
  // "a1" < "b1" wins), setting C (c1 0.99, c2 diverged: not eligible). Group g2: D (d1 0.5) and E
  // (e1 0.625): E. Group g3: only F, diverged: no choice.
  const std::vector<TuneRun> runs = {
      {"b1", "g1", "B", 0.8125}, {"a1", "g1", "A", 0.875}, {"a2", "g1", "A", 0.625},
      {"b2", "g1", "B", 0.6875}, {"c1", "g1", "C", 0.99},  {"c2", "g1", "C", std::nullopt},
      {"d1", "g2", "D", 0.5},    {"e1", "g2", "E", 0.625}, {"f1", "g3", "F", std::nullopt},
  };
  const std::vector<ProtocolChoice> up = select_settings(runs, true);
  REQUIRE(up.size() == 2);
  CHECK(up[0].group == "g1");
  CHECK(up[0].key == "a1");
  CHECK(up[0].metric == 0.75);
  CHECK(up[0].tuning_runs == 2);
  CHECK(up[0].settings == 3);
  CHECK(up[1].key == "e1");
  // A loss: smaller first (g1: A and B tie at 0.75 again, A by key; g2: D).
  const std::vector<ProtocolChoice> down = select_settings(runs, false);
  REQUIRE(down.size() == 2);
  CHECK(down[0].key == "a1");
  CHECK(down[1].key == "d1");
}

const char* kProtocolSweep = R"(name: p
base: {architecture: lenet5, validation_split: 0.1, epochs: 2}
grid:
  optimizer: [sgd, adam]
  learning_rate: [0.001, 0.01]
protocol:
  tune: {seeds: [1, 2], per: [optimizer]}
  replicate: {seeds: [11, 12, 13]}
)";

TEST_CASE("protocol: the file's protocol gives stage 1's runs and refuses what it cannot do") {
  const Sweep sweep = parse_sweep(kProtocolSweep, "p.yaml");
  REQUIRE(sweep.protocol);
  CHECK(sweep.protocol->metric == "val_accuracy");
  CHECK(sweep.protocol->per == std::vector<std::string>{"optimizer"});
  REQUIRE(sweep.runs.size() == 8);  // 2 optimizers x 2 rates x 2 tuning seeds (innermost)
  CHECK(sweep.runs[0].seed == 1);
  CHECK(sweep.runs[1].seed == 2);
  for (const RunConfig& run : sweep.runs) {
    CHECK_FALSE(run.evaluate_test);
    CHECK(run.to_json().at("evaluate_test") == false);
  }
  CHECK_FALSE(make_run(lenet5_relu(), "adam", 1e-3, 1).to_json().contains("evaluate_test"));
  const Sweep rep = replication_sweep(sweep, {{"optimizer=adam", sweep.runs[6].key(), 0.9, 2, 2}});
  REQUIRE(rep.runs.size() == 3);
  CHECK(rep.runs[2].seed == 13);
  CHECK(rep.runs[2].validation_split == 0);
  CHECK(rep.runs[2].evaluate_test);
  CHECK(rep.runs[2].optimizer.learning_rate == 0.01);
  CHECK(tuning_sweep(sweep).name == "p.tune");

  const auto error = [](const std::string& text) { return config_test::sweep_error(text).detail; };
  const std::string head = "name: p\nbase: {architecture: lenet5, validation_split: 0.1}\n";
  const std::string protocol = "protocol: {tune: {seeds: [1]}, replicate: {seeds: [2]}}\n";
  CHECK(error(head + "grid: {seed: [1, 2]}\n" + protocol) ==
        "'seed' in a protocol sweep; its seeds are protocol.tune.seeds and "
        "protocol.replicate.seeds");
  CHECK(error("name: p\nbase: {architecture: lenet5}\n" + protocol) ==
        "protocol.tune selects by a validation metric; set validation_split > 0 (in base)");
  CHECK(error(head + "protocol: {tune: {seeds: [1]}}\n") ==
        "'protocol' needs 'tune' ({metric, seeds, per}) and 'replicate' ({seeds})");
  CHECK(error(head + "protocol: {tune: {seeds: [1, 1]}, replicate: {seeds: [2]}}\n") ==
        "seed 1 twice in 'seeds'");
  CHECK(error(head + "protocol: {tune: {per: [optimizer]}, replicate: {seeds: [2]}}\n") ==
        "'tune' needs 'seeds' (the tuning seeds, e.g. [1])");
  CHECK(error(head + "search: {method: successive_halving, max_epochs: 3, metric: val_loss}\n" +
              "protocol: {tune: {metric: val_accuracy, seeds: [1]}, replicate: {seeds: [2]}}\n") ==
        "protocol.tune.metric val_accuracy differs from search.metric val_loss; use one metric");
  CHECK(error(head + "search: {method: successive_halving, max_epochs: 3, per: [architecture]}\n" +
              "protocol: {tune: {seeds: [1], per: [optimizer]}, replicate: {seeds: [2]}}\n") ==
        "search.per differs from protocol.tune.per; give 'per' once, in protocol.tune "
        "(successive halving then halves each group)");
  // Successive halving takes the protocol's groups and metric.
  const Sweep halving =
      parse_sweep(head + "search: {method: successive_halving, max_epochs: 3, metric: val_loss}\n" +
                      "grid: {optimizer: [sgd, adam]}\n" +
                      "protocol: {tune: {seeds: [1], per: [optimizer]}, replicate: {seeds: [2]}}\n",
                  "h.yaml");
  CHECK(halving.protocol->metric == "val_loss");
  CHECK(halving.search->halving->per == std::vector<std::string>{"optimizer"});
}

/// The protocol of kProtocolSweep on the synthetic squares (lenet5-relu, 2 epochs).
Sweep squares_protocol() {
  Sweep sweep = small_sweep({}, 2);
  sweep.name = "p";
  ProtocolSpec spec;
  spec.metric = "val_accuracy";
  spec.tune_seeds = {1, 2};
  spec.per = {"optimizer"};
  spec.replicate_seeds = {11, 12};
  sweep.protocol = spec;
  for (const char* optimizer : {"sgd", "adam"})
    for (const double lr : {0.003, 0.03, 0.3})
      for (const uint64_t seed : spec.tune_seeds) {
        sweep.runs.push_back(make_run(lenet5_relu(), optimizer, lr, 2, seed));
        sweep.runs.back().validation_split = 0.2;
        sweep.runs.back().evaluate_test = false;
        sweep.sampled.emplace_back();
      }
  return sweep;
}

/// Per optimizer, the learning rate of the best mean of `column` over the seeds of each stage-1
/// setting (largest when `largest`), computed here with SQL from the stored rows.
std::map<std::string, double> best_by(const fs::path& db, const std::string& value, bool largest) {
  SQLite::Database d(db.string(), SQLite::OPEN_READONLY);
  SQLite::Statement q(
      d, fmt::format("SELECT r.optimizer, r.learning_rate, avg({}) AS m FROM runs r JOIN sweeps s "
                     "ON s.id = r.sweep_id LEFT JOIN epochs e ON e.run_id = r.id AND e.epoch = "
                     "r.epochs WHERE s.name = 'p.tune' GROUP BY 1, 2 ORDER BY 1, m {}",
                     value, largest ? "DESC" : "ASC"));
  std::map<std::string, double> best;
  while (q.executeStep()) best.try_emplace(q.getColumn(0).getString(), q.getColumn(1).getDouble());
  return best;
}

/// The selection recorded: optimizer -> learning rate of the chosen stage-1 run.
std::map<std::string, double> recorded(const fs::path& db) {
  SQLite::Database d(db.string(), SQLite::OPEN_READONLY);
  SQLite::Statement q(d,
                      "SELECT r.optimizer, r.learning_rate FROM protocol_selections p JOIN runs r "
                      "ON r.id = p.run_id");
  std::map<std::string, double> out;
  while (q.executeStep()) out[q.getColumn(0).getString()] = q.getColumn(1).getDouble();
  return out;
}

TEST_CASE("protocol: stage 1 never sees the test set, the selection reads validation rows only") {
  const Dataset data = make_dataset(400, 60);
  const Sweep sweep = squares_protocol();
  TempDir root;
  const fs::path db = root / "results.db";
  const auto run = [&] {
    QuietOptions options;
    options.jobs = 2;
    Store store(db);
    return run_protocol(sweep, data, store, options);
  };
  const SweepSummary first = run();
  CHECK(first.finished == 12 + 4);
  // Stage 1: trained (weights hash), no test metric, no class metrics, no confusion cell.
  CHECK(db_text(db,
                "SELECT count(*) FROM runs r JOIN sweeps s ON s.id = r.sweep_id WHERE s.name = "
                "'p.tune' AND r.status = 'finished' AND r.weights_hash IS NOT NULL AND "
                "r.test_accuracy IS NULL AND r.test_loss IS NULL") == "12");
  CHECK(db_text(db,
                "SELECT count(*) FROM confusion c JOIN runs r ON r.id = c.run_id JOIN sweeps s "
                "ON s.id = r.sweep_id WHERE s.name = 'p.tune'") == "0");
  int tuning = 0;  // what query and the report call "not evaluated"
  for (const RunRow& r : ResultsReader(db).runs()) tuning += r.tuning() ? 1 : 0;
  CHECK(tuning == 12);
  // The selection is the best mean val_accuracy at the last epoch per optimizer.
  const std::map<std::string, double> by_validation = best_by(db, "e.val_accuracy", true);
  REQUIRE(by_validation.size() == 2);
  CHECK(recorded(db) == by_validation);
  // Stage 2: the chosen rates, seeds 11 and 12, every training image, evaluated.
  CHECK(
      db_text(db,
              "SELECT group_concat(r.optimizer || ' ' || r.learning_rate || ' ' || r.seed, ', ') "
              "FROM (SELECT * FROM runs ORDER BY optimizer, seed) r JOIN sweeps s ON s.id = "
              "r.sweep_id WHERE s.name = 'p' AND json_extract(r.config_json, '$.validation_split') "
              "= 0 AND r.test_accuracy IS NOT NULL") ==
      fmt::format("adam {0} 11, adam {0} 12, sgd {1} 11, sgd {1} 12", by_validation.at("adam"),
                  by_validation.at("sgd")));

  // Poison: give the stage-1 runs test metrics that reverse the validation order (the worst
  // validation setting gets the best test accuracy and loss). A selection reading any of them
  // would move; check that it would, then that it does not.
  {
    SQLite::Database d(db.string(), SQLite::OPEN_READWRITE);
    d.exec(
        "UPDATE runs SET test_accuracy = 1 - (SELECT e.val_accuracy FROM epochs e WHERE "
        "e.run_id = runs.id AND e.epoch = runs.epochs), test_loss = (SELECT e.val_accuracy FROM "
        "epochs e WHERE e.run_id = runs.id AND e.epoch = runs.epochs), test_images = 60 WHERE "
        "sweep_id = (SELECT id FROM sweeps WHERE name = 'p.tune')");
  }
  CHECK(best_by(db, "r.test_accuracy", true) != by_validation);
  CHECK(best_by(db, "r.test_loss", false) != by_validation);
  const std::vector<ProtocolChoice> again =
      stored_selection(ResultsReader(db), tuning_sweep(sweep)).value();
  REQUIRE(again.size() == 2);
  const SweepSummary rerun = run();
  CHECK(rerun.finished == 0);
  CHECK(recorded(db) == by_validation);
}

}  // namespace
}  // namespace lenetlab::test
