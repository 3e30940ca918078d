// Each epoch's data hash (epochs.data_hash) end to end on a real results database: equal for runs
// that differ only in optimizer with the same seed and for a replay in another database, different
// for another seed or augment setting (query same-data); verify compares it; an epoch without one
// (a row written before schema version 6) is not compared.
#include <doctest/doctest.h>

#include <SQLiteCpp/SQLiteCpp.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>

#include "query/query.hpp"
#include "sweep/replay.hpp"
#include "sweep_test_util.hpp"
#include "temp_dir.hpp"

namespace lenetlab::test {
namespace {

namespace fs = std::filesystem;

/// 0: seed 1, 1: seed 2 (adam); 2: seed 1, sgd; 3: seed 1 with affine distortions; 4: as 3 with
/// another shear range. Two epochs each.
Sweep data_sweep() {
  Sweep sweep = small_sweep({1, 2}, 2);
  sweep.runs.push_back(make_run(lenet5_relu(), "sgd", 0.01, 2, 1));
  RunConfig augmented = make_run(lenet5_relu(), "adam", 1e-3, 2, 1);
  augmented.augment.affine = AffineAugment{};
  sweep.runs.push_back(augmented);
  augmented.augment.affine->shear = 0.2;
  sweep.runs.push_back(augmented);
  return sweep;
}

void run_into(const fs::path& db, const Sweep& sweep, const Dataset& data) {
  Store store(db);
  QuietOptions options;
  REQUIRE(run_sweep(sweep, data, store, options).finished == int(sweep.runs.size()));
}

void exec(const fs::path& db, const std::string& sql) {
  SQLite::Database d(db.string(), SQLite::OPEN_READWRITE);
  d.exec(sql);
}

TEST_CASE(
    "data hash: the same seed sees the same data - another seed or augment setting does not") {
  TempDir dir;
  const fs::path db = dir / "results.db", replay = dir / "replay.db";
  const Dataset data = make_dataset(200, 40);
  const Sweep sweep = data_sweep();
  run_into(db, sweep, data);
  CHECK(db_text(db, "SELECT count(*) FROM epochs WHERE data_hash IS NULL") == "0");
  CHECK(db_text(db, "SELECT count(*) FROM epochs WHERE length(data_hash) = 16") == "10");
  const ResultsReader reader(db);
  const auto compare = [&](size_t a, size_t b) {
    return query_same_data(reader, sweep.runs[a].key(), reader, sweep.runs[b].key());
  };

  const SameData optimizer = compare(0, 2);
  CHECK(optimizer.same == 2);
  CHECK(optimizer.matched());
  for (const auto& [a, b] : {std::pair(0, 1), std::pair(0, 3), std::pair(3, 4)}) {
    CAPTURE(a);
    CAPTURE(b);
    const SameData r = compare(a, b);
    CHECK(r.different == 2);
    CHECK(r.same == 0);
    CHECK_FALSE(r.matched());
    CHECK(r.table.notes.back() == "different data in 2 of 2 compared epoch(s), from epoch 1");
  }

  // A replay of the distorted run in another database saw the same data.
  Sweep again = sweep;
  again.runs = {sweep.runs[3]};
  run_into(replay, again, data);
  const std::string key = sweep.runs[3].key();
  const ResultsReader other(replay);
  CHECK(query_same_data(reader, key, other, key).same == 2);
  // An epoch without a hash is not compared; none at all is no verdict.
  exec(replay, "UPDATE epochs SET data_hash = NULL WHERE epoch = 1");
  SameData r = query_same_data(reader, key, other, key);
  CHECK(r.unknown == 1);
  CHECK(r.same == 1);
  CHECK(r.matched());
  CHECK(r.table.rows[0][2] == Value{});
  exec(replay, "UPDATE epochs SET data_hash = NULL");
  r = query_same_data(reader, key, other, key);
  CHECK_FALSE(r.matched());
  CHECK(r.table.notes.back() == "no epoch could be compared");
}

TEST_CASE("data hash: verify compares each recorded epoch's hash") {
  TempDir dir;
  const fs::path db = dir / "results.db";
  const Dataset data = make_dataset(200, 40);
  Sweep sweep = data_sweep();
  sweep.runs = {sweep.runs[3]};
  // verify rebuilds the network from the architecture file's text the run recorded.
  std::ifstream file(fs::path(LENETLAB_SOURCE_DIR) / "experiments/architectures/lenet5-relu.yaml");
  sweep.runs[0].arch.yaml.assign(std::istreambuf_iterator<char>(file), {});
  REQUIRE_FALSE(sweep.runs[0].arch.yaml.empty());
  run_into(db, sweep, data);
  std::FILE* sink = std::fopen("/dev/null", "w");
  const auto verify = [&] {
    Store store(db);
    return verify_run(store, load_stored_run(ResultsReader(db), sweep.runs[0].key()), data, false,
                      sink);
  };
  CHECK(verify().matched);
  exec(db, "UPDATE epochs SET data_hash = '0123456789abcdef' WHERE epoch = 2");
  const VerifyResult tampered = verify();
  CHECK_FALSE(tampered.matched);
  CHECK(tampered.mismatches == 1);
  CHECK(tampered.details_json.find("\"data_hash\"") != std::string::npos);
  exec(db, "UPDATE epochs SET data_hash = NULL");  // as in a database of an older version
  CHECK(verify().matched);
  std::fclose(sink);
}

}  // namespace
}  // namespace lenetlab::test
