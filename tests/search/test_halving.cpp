// Successive halving (sweep/halving.hpp): a rung's decision on a hand-checked example, the rung
// budgets, and a search on the synthetic squares that gives the same rungs and the same runs, bit
// for bit, with one job, with two, and when interrupted and continued.
#include <doctest/doctest.h>
#include <stdio.h>

#include <atomic>
#include <filesystem>
#include <string>

#include "../sweep/sweep_test_util.hpp"
#include "sweep/halving.hpp"
#include "temp_dir.hpp"

namespace lenetlab::test {
namespace {

namespace fs = std::filesystem;

TEST_CASE("search: a rung ranks by the metric, breaks ties by run key, puts diverged runs last") {
  // Hand-checked: by val_accuracy descending, f (0.95), then the tie a/c (0.9) by key, b, e, and d
  // (diverged: no metric) last; two promoted.
  const std::vector<RungCandidate> candidates = {{"c", 0.9},          {"b", 0.8}, {"a", 0.9},
                                                 {"d", std::nullopt}, {"e", 0.7}, {"f", 0.95}};
  const RungDecision up = decide_rung(candidates, true, 2);
  CHECK(up.rank == std::vector<int>{3, 4, 2, 6, 5, 1});
  CHECK(up.promoted == std::vector<bool>{false, false, true, false, false, true});
  // val_loss: smaller first; the diverged run still last.
  const RungDecision down = decide_rung(candidates, false, 3);
  CHECK(down.rank == std::vector<int>{4, 2, 3, 6, 1, 5});
  CHECK(down.promoted == std::vector<bool>{false, true, true, false, true, false});
  CHECK(promoted_count(9, 3) == 3);
  CHECK(promoted_count(8, 3) == 2);
  CHECK(promoted_count(2, 3) == 1);
}

TEST_CASE("search: rung budgets grow by the reduction factor up to max_epochs") {
  const auto budgets = [](int r, int eta, int R) {
    HalvingSpec h;
    h.min_epochs = r;
    h.reduction = eta;
    h.max_epochs = R;
    return h.budgets();
  };
  CHECK(budgets(1, 3, 9) == std::vector<int>{1, 3, 9});
  CHECK(budgets(1, 3, 10) == std::vector<int>{1, 3, 9, 10});
  CHECK(budgets(2, 2, 8) == std::vector<int>{2, 4, 8});
  CHECK(budgets(5, 3, 5) == std::vector<int>{5});
}

/// Six candidates (learning rates 10^-4 .. 10^-1.5) of lenet5-relu with Adam on the squares, 3
/// epochs at most: rungs of 1 and 3 epochs, two promoted.
Sweep halving_sweep() {
  Sweep sweep = small_sweep({}, 3);
  for (int i = 0; i < 6; ++i) {
    sweep.runs.push_back(make_run(lenet5_relu(), "adam", std::pow(10.0, -4.0 + 0.5 * i), 3, 1));
    sweep.runs.back().validation_split = 0.2;
  }
  SearchSpec spec;
  spec.halving = HalvingSpec{1, 3, 3, "val_accuracy", {}};
  sweep.search = spec;
  return sweep;
}

/// Every decision and every stored value of every run, as text.
std::string outcome(const fs::path& db, const Sweep& sweep) {
  std::string out;
  SQLite::Database d(db.string(), SQLite::OPEN_READONLY);
  SQLite::Statement q(d,
                      "SELECT printf('%s %d %d %.17g %d %d %d', r.key, g.rung, g.epochs, "
                      "g.metric_value, g.rank, g.candidates, g.promoted) FROM search_rungs g "
                      "JOIN runs r ON r.id = g.run_id ORDER BY g.rung, r.key");
  while (q.executeStep()) out += q.getColumn(0).getString() + "\n";
  for (const RunConfig& run : sweep.runs) out += run_values(db, run.key()) + "\n";
  return out;
}

/// Sets `cancel` at the `n`-th end of an epoch the runner reports.
class CancelAtEpochEnd {
 public:
  CancelAtEpochEnd(std::atomic<bool>& cancel, int n) : cancel_(cancel), left_(n) {
    cookie_io_functions_t io{};
    io.write = [](void* self, const char* data, size_t size) -> ssize_t {
      auto* me = static_cast<CancelAtEpochEnd*>(self);
      if (std::string(data, size).find(" epoch ") != std::string::npos && --me->left_ == 0)
        me->cancel_ = true;
      return static_cast<ssize_t>(size);
    };
    file_ = fopencookie(this, "w", io);
    setvbuf(file_, nullptr, _IOLBF, 0);
  }
  ~CancelAtEpochEnd() { std::fclose(file_); }
  CancelAtEpochEnd(const CancelAtEpochEnd&) = delete;
  CancelAtEpochEnd& operator=(const CancelAtEpochEnd&) = delete;
  std::FILE* file() const { return file_; }

 private:
  std::atomic<bool>& cancel_;
  int left_;
  std::FILE* file_ = nullptr;
};

TEST_CASE(
    "search: successive halving is the same with --jobs 1, --jobs 2 and after interruptions") {
  const Dataset data = make_dataset(400, 60);
  const Sweep sweep = halving_sweep();
  TempDir root;
  const auto search = [&](const std::string& name, int jobs, std::atomic<bool>* cancel = nullptr,
                          std::FILE* progress = nullptr) {
    fs::create_directories(root / name);
    QuietOptions options;
    options.jobs = jobs;
    options.cancel = cancel;
    if (progress != nullptr) options.progress = progress;
    Store store(root / name / "results.db");
    return run_halving(sweep, data, store, options);
  };
  const SweepSummary one = search("one", 1);
  CHECK(one.finished == 2);
  CHECK(one.pruned == 4);
  const std::string reference = outcome(root / "one" / "results.db", sweep);
  // Two of six promoted at rung 0; the two finish, the four others end pruned after epoch 1.
  CHECK(db_text(root / "one" / "results.db",
                "SELECT group_concat(status) FROM (SELECT status FROM runs ORDER BY status)") ==
        "finished,finished,pruned,pruned,pruned,pruned");
  CHECK(db_text(root / "one" / "results.db",
                "SELECT count(*) FROM search_rungs WHERE rung = 0 AND promoted = 1") == "2");
  // The last rung records the selection: its best run.
  CHECK(db_text(root / "one" / "results.db",
                "SELECT count(*) || ' ' || sum(promoted) FROM search_rungs WHERE rung = 1") ==
        "2 1");

  search("two", 2);
  CHECK(outcome(root / "two" / "results.db", sweep) == reference);

  // Interrupted in rung 0 (after the 2nd epoch ends), then in rung 1 (after 7 more), then done.
  for (const int n : {2, 7}) {
    std::atomic<bool> cancel{false};
    CancelAtEpochEnd stream(cancel, n);
    const SweepSummary s = search("interrupted", 2, &cancel, stream.file());
    CHECK(s.interrupted + s.paused > 0);
  }
  search("interrupted", 1);
  CHECK(outcome(root / "interrupted" / "results.db", sweep) == reference);
  // A rerun of a decided search trains nothing and decides the same.
  const SweepSummary again = search("one", 2);
  CHECK(again.finished == 0);
  CHECK(outcome(root / "one" / "results.db", sweep) == reference);
}

}  // namespace
}  // namespace lenetlab::test
