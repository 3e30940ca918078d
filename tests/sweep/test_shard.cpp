// Shards of a sweep (sweep/shard.hpp): "I/N" parsing, the longest-processing-time assignment
// (Graham 1969), its independence of the sweep's order, and a shard run by run_sweep on a real
// results database: the shards together hold every run once.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <set>

#include "config/architecture.hpp"
#include "core/error.hpp"
#include "store/store.hpp"
#include "sweep/shard.hpp"
#include "sweep_test_util.hpp"
#include "temp_dir.hpp"

namespace lenetlab::test {
namespace {

TEST_CASE("shard: I/N parsed 0-based, anything else refused with the expected form") {
  const ShardSpec spec = parse_shard("2/4");
  CHECK(spec.index == 2);
  CHECK(spec.count == 4);
  CHECK(parse_shard("0/1").count == 1);
  for (const char* bad :
       {"4/4", "-1/4", "1/0", "1", "1/", "/4", "a/4", "1/4x", " 1/4", "1/100001"}) {
    CAPTURE(bad);
    CHECK_THROWS_WITH_AS(parse_shard(bad), doctest::Contains("expected I/N"), Error);
  }
  CHECK(shard_database_name("quickstart", {1, 4}) == "results/quickstart.shard-1-of-4.db");
}

/// One run per entry of `epochs` (equal architectures: cost proportional to the epochs).
Sweep sweep_of_epochs(const std::vector<int>& epochs) {
  Sweep sweep = small_sweep({});
  uint64_t seed = 1;
  for (int e : epochs) sweep.runs.push_back(make_run(lenet5_relu(), "adam", 1e-3, e, seed++));
  return sweep;
}

TEST_CASE("shard: longest first onto the least-loaded shard, equal loads to the lowest index") {
  // Costs 6,5,4,3,2,1 (x the cost of one epoch) onto 2 shards: 6->0, 5->1, 4->1 (5 < 6),
  // 3->0 (6 < 9), 2->0 (9 = 9: lowest index), 1->1 (10 < 11).
  const Sweep sweep = sweep_of_epochs({1, 2, 3, 4, 5, 6});
  const ShardPlan plan = assign_shards(sweep, 2);
  CHECK(plan.shard == std::vector<int>{1, 0, 0, 1, 1, 0});
  const double epoch = plan.runs[0].cost;
  CHECK(plan.loads[0] == doctest::Approx(11 * epoch));
  CHECK(plan.loads[1] == doctest::Approx(10 * epoch));
  CHECK_THROWS_AS(assign_shards(sweep, 0), Error);
}

TEST_CASE("shard: every run in exactly one shard, the same split for any order of the sweep") {
  Sweep sweep = sweep_of_epochs({3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9});
  for (int count : {1, 2, 3, 4, 7, 15, 20}) {
    CAPTURE(count);
    const ShardPlan plan = assign_shards(sweep, count);
    std::map<std::string, int> shard_of;
    for (size_t i = 0; i < plan.runs.size(); ++i) shard_of[plan.runs[i].key] = plan.shard[i];
    std::multiset<std::string> seen;
    for (int i = 0; i < count; ++i)
      for (const std::string& key : shard_keys(sweep, {i, count})) {
        seen.insert(key);
        CHECK(shard_of.at(key) == i);
      }
    CHECK(seen.size() == sweep.runs.size());
    CHECK(std::set<std::string>(seen.begin(), seen.end()).size() == sweep.runs.size());
    // LPT: the last run placed on the fullest shard went to the emptiest one then, so the loads
    // differ by at most the largest run.
    double largest_run = 0;
    for (const PlannedRun& run : plan.runs) largest_run = std::max(largest_run, run.cost);
    const auto [low, high] = std::minmax_element(plan.loads.begin(), plan.loads.end());
    CHECK(*high - *low <= largest_run);

    Sweep reversed = sweep;
    std::reverse(reversed.runs.begin(), reversed.runs.end());
    const ShardPlan other = assign_shards(reversed, count);
    for (size_t i = 0; i < other.runs.size(); ++i)
      CHECK(shard_of.at(other.runs[i].key) == other.shard[i]);
  }
}

TEST_CASE(
    "shard: run_sweep with a shard's selection trains only it, and the shards cover the sweep") {
  TempDir dir;
  const Dataset data = make_dataset(200, 40);
  const Sweep sweep = small_sweep({1, 2, 3}, 1);
  std::set<std::string> trained;
  for (int i = 0; i < 2; ++i) {
    CAPTURE(i);
    const auto db = dir / ("shard-" + std::to_string(i) + ".db");
    const std::vector<std::string> keys = shard_keys(sweep, {i, 2});
    QuietOptions options;
    options.select = [&keys](const PlannedRun& run) {
      return std::find(keys.begin(), keys.end(), run.key) != keys.end();
    };
    Store store(db);
    const SweepSummary s = run_sweep(sweep, data, store, options);
    CHECK(s.total == static_cast<int>(keys.size()));
    CHECK(s.finished == static_cast<int>(keys.size()));
    CHECK(s.skipped == 0);
    CHECK(db_text(db, "SELECT count(*) FROM runs") == std::to_string(keys.size()));
    for (const std::string& key : keys) {
      CHECK(db_text(db, "SELECT status FROM runs WHERE key = '" + key + "'") == "finished");
      trained.insert(key);
    }
  }
  CHECK(trained.size() == sweep.runs.size());
}

}  // namespace
}  // namespace lenetlab::test
