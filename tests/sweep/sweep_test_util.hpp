// Helpers of the runner tests: a sweep of small runs on the synthetic dataset, a quiet runner,
// and read-only looks into the results database.
#pragma once

#include <SQLiteCpp/SQLiteCpp.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "config/sweep_loader.hpp"
#include "nn/shipped_architectures.hpp"
#include "sweep/runner.hpp"
#include "train/train_test_util.hpp"

namespace lenetlab::test {

/// `seeds` runs of lenet5-relu (adam) on the synthetic squares, `epochs` epochs each.
inline Sweep small_sweep(const std::vector<uint64_t>& seeds, int epochs = 2) {
  Sweep sweep;
  sweep.name = "small";
  sweep.file = "small.yaml";
  sweep.yaml = "name: small\n";
  sweep.dataset = "squares";
  for (const uint64_t seed : seeds)
    sweep.runs.push_back(make_run(lenet5_relu(), "adam", 1e-3, epochs, seed));
  return sweep;
}

/// Progress to /dev/null, one job, one thread per run unless changed.
struct QuietOptions : RunnerOptions {
  std::FILE* sink = std::fopen("/dev/null", "w");
  QuietOptions() {
    progress = sink;
    jobs = 1;
  }
  ~QuietOptions() { std::fclose(sink); }
  QuietOptions(const QuietOptions&) = delete;
  QuietOptions& operator=(const QuietOptions&) = delete;
};

/// One value of a query on the database (read-only connection).
inline std::string db_text(const std::filesystem::path& db, const std::string& sql) {
  SQLite::Database d(db.string(), SQLite::OPEN_READONLY);
  SQLite::Statement q(d, sql);
  if (!q.executeStep()) return "<no row>";
  return q.getColumn(0).isNull() ? "NULL" : q.getColumn(0).getString();
}

/// Every stored value of a run that a rerun must reproduce: its epochs' metrics, test metrics and
/// weights hash, as text (doubles with 17 digits).
inline std::string run_values(const std::filesystem::path& db, const std::string& key) {
  SQLite::Database d(db.string(), SQLite::OPEN_READONLY);
  SQLite::Statement q(d,
                      "SELECT printf('%d %.17g %.17g %.17g %.17g', e.epoch, e.train_loss, "
                      "e.train_accuracy, e.val_loss, e.val_accuracy) FROM epochs e JOIN runs r ON "
                      "r.id = e.run_id WHERE r.key = ? ORDER BY e.epoch");
  q.bind(1, key);
  std::string out;
  while (q.executeStep()) out += q.getColumn(0).getString() + "\n";
  SQLite::Statement r(d,
                      "SELECT printf('%s %d %.17g %.17g %s', status, epochs_completed, test_loss, "
                      "test_accuracy, weights_hash) FROM runs WHERE key = ?");
  r.bind(1, key);
  if (r.executeStep()) out += r.getColumn(0).getString();
  return out;
}

}  // namespace lenetlab::test
