// `lenetlab compare` as a user runs it: the regression gate `--baseline A.db --candidate B.db` on
// databases written through Store (exit 0 against itself, 4 when the candidate is significantly
// worse, with the table naming the configuration), and the pairwise table taking the sweep's
// `targets` key.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "record_run.hpp"
#include "report_rows.hpp"
#include "run_cli.hpp"
#include "store/store.hpp"
#include "temp_dir.hpp"

namespace lenetlab {
namespace {

namespace fs = std::filesystem;
using test::CliResult;
using test::run_lenetlab;

const std::vector<double> kSgd = {0.981, 0.984, 0.979, 0.983, 0.980};
const std::vector<double> kAdam = {0.990, 0.9925, 0.988, 0.991, 0.989};

/// Sweep "gate": lenet5 with SGD and with Adam (learning rate 0.001 both), 5 seeds each, 3 epochs at about 1000 images/s;
/// Adam's test accuracies lowered by `adam_drop` (per seed, a little more on odd seeds).
fs::path make_database(const fs::path& path, double adam_drop, const std::string& yaml) {
  Store store(path);
  const int64_t sweep = store.upsert_sweep("gate", "gate.yaml", yaml);
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    const double speed = 1000 + 10 * static_cast<double>(seed);
    test::record_run(store, sweep, test::make_config("lenet5", "sgd", 0.001, 64, seed),
                     kSgd[seed - 1], {3, 0, 2.0, speed});
    const double drop = adam_drop * (seed % 2 ? 1.2 : 0.8);
    test::record_run(store, sweep, test::make_config("lenet5", "adam", 0.001, 64, seed),
                     kAdam[seed - 1] - drop, {3, 0.005, 1.8, speed});
  }
  return path;
}

CliResult gate(const fs::path& baseline, const fs::path& candidate,
               const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args{"compare", "--baseline", baseline.string(), "--candidate",
                                candidate.string()};
  args.insert(args.end(), extra.begin(), extra.end());
  return run_lenetlab(args, baseline.parent_path());
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// The line of `text` that holds `part` (empty when none).
std::string line_with(const std::string& text, const std::string& part) {
  const std::size_t at = text.find(part);
  if (at == std::string::npos) return "";
  const std::size_t begin = text.rfind('\n', at) + 1;
  return text.substr(begin, text.find('\n', at) - begin);
}

}  // namespace

TEST_CASE("compare gate: exit 0 against itself, 4 with the worse configuration named") {
  test::TempDir dir;
  const fs::path baseline = make_database(dir / "baseline.db", 0, "name: gate\n");
  const fs::path candidate = make_database(dir / "candidate.db", 0.01, "name: gate\n");

  const CliResult same = gate(baseline, baseline);
  INFO(same.output);
  CHECK(same.status == 0);
  CHECK(has(same.output, "0 of 4 checks significantly worse"));
  CHECK_FALSE(has(same.output, "WORSE"));

  // Adam a point lower on every seed (paired by seed): worse; SGD unchanged: not.
  const CliResult worse = gate(baseline, candidate);
  INFO(worse.output);
  CHECK(worse.status == 4);
  CHECK(has(worse.output, "1 of 4 checks significantly worse"));
  const std::string adam = line_with(worse.output, "WORSE");
  CHECK(has(adam, "adam"));
  CHECK(has(adam, "test_accuracy"));
  CHECK(has(adam, "paired t"));
  CHECK_FALSE(has(line_with(worse.output, "/sgd"), "WORSE"));
  CHECK(has(worse.output, "the candidate is significantly worse"));

  // The other way round the candidate is better: nothing worse.
  CHECK(gate(candidate, baseline).status == 0);
  // Machine-readable forms carry the same verdict and exit status.
  const CliResult json = gate(baseline, candidate, {"--format", "json"});
  CHECK(json.status == 4);
  CHECK(has(json.output, "\"worse\": 1"));
  const CliResult csv = gate(baseline, candidate, {"--format", "csv"});
  CHECK(csv.status == 4);
  CHECK(has(line_with(csv.output, ",true,"), "adam"));
  // A stricter family-wise error rate keeps a one-point drop on five seeds worse.
  CHECK(gate(baseline, candidate, {"--alpha", "0.001"}).status == 4);
}

TEST_CASE("compare: the pairwise table uses the sweep's targets unless --targets is given") {
  test::TempDir dir;
  const fs::path db = make_database(dir / "results.db", 0, "name: gate\ntargets: [0.92, 0.95]\n");
  // Validation accuracy 0.91, 0.93, 0.95 (SGD) and 0.915, 0.935, 0.955 (Adam) in epochs 1 to 3.
  const CliResult sweep = run_lenetlab(
      {"--db", db.string(), "compare", "--metric", "epochs_to_target", "--format", "json"},
      dir.path());
  INFO(sweep.output);
  REQUIRE(sweep.status == 0);
  CHECK(has(sweep.output, "\"mean_a\": 2.0"));
  const CliResult table =
      run_lenetlab({"--db", db.string(), "compare", "--metric", "epochs_to_target"}, dir.path());
  CHECK(has(table.output, "on epochs to target (target 0.92)"));
  const CliResult given = run_lenetlab(
      {"--db", db.string(), "compare", "--metric", "epochs_to_target", "--targets", "0.95"},
      dir.path());
  CHECK(has(given.output, "(target 0.95)"));
  const CliResult bad =
      run_lenetlab({"--db", db.string(), "compare", "--targets", "0.99,0.98"}, dir.path());
  CHECK(bad.status != 0);
  CHECK(has(bad.output, "--targets"));
}

}  // namespace lenetlab
