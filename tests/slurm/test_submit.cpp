// `lenetlab slurm submit` without a cluster: the real executable with a stand-in sbatch on PATH
// (a shell script that records its arguments and answers as sbatch --parsable does, or refuses as
// sbatch does), so the errors a user meets and the recorded job are checked on every machine.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <SQLiteCpp/SQLiteCpp.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/files.hpp"
#include "data/process.hpp"
#include "run_cli.hpp"
#include "temp_dir.hpp"

namespace lenetlab::test {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSweep = R"(name: demo
dataset: mnist
base: {epochs: 1, batch_size: 64, train_limit: 500, test_limit: 200}
grid:
  architecture: [lenet5-relu, lenet5]
  seed: [1, 2, 3]
)";

/// PATH replaced for the scope (the CLI inherits it); restored on exit.
class ScopedPath {
 public:
  explicit ScopedPath(const std::string& path) : old_(std::getenv("PATH")) {
    setenv("PATH", path.c_str(), 1);
  }
  ~ScopedPath() { setenv("PATH", old_.c_str(), 1); }

 private:
  std::string old_;
};

/// A sweep file, a bin/ directory for stand-ins and the database path, in a fresh directory.
struct Setup {
  TempDir dir;
  fs::path sweep = dir / "demo.yaml";
  fs::path bin = dir / "bin";
  fs::path db = dir / "results" / "lenetlab.db";
  Setup() {
    std::ofstream(sweep) << kSweep;
    fs::create_directories(bin);
  }
  /// A stand-in sbatch: appends its arguments to bin/sbatch.args, prints `answer`, exits `status`.
  void fake_sbatch(const std::string& answer, int status) const {
    const fs::path path = bin / "sbatch";
    std::ofstream(path) << "#!/bin/sh\necho \"$@\" >> '" << (bin / "sbatch.args").string()
                        << "'\nprintf '%s\\n' '" << answer << "'\nexit " << status << "\n";
    chmod(path.c_str(), 0755);
  }
  CliResult cli(std::vector<std::string> args) const {
    ScopedPath path(bin.string());  // no sbatch, squeue or sacct but the stand-ins
    args.insert(args.begin(), "slurm");
    return run_cli(db, args, dir.path());
  }
};

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string slurm_jobs(const fs::path& db) {
  SQLite::Database d(db.string(), SQLite::OPEN_READONLY);
  SQLite::Statement q(d, "SELECT job_id, tasks, array FROM slurm_jobs ORDER BY id");
  std::string out;
  while (q.executeStep())
    out += q.getColumn(0).getString() + " " + q.getColumn(1).getString() + " " +
           q.getColumn(2).getString() + "\n";
  return out;
}

TEST_CASE("slurm submit --dry-run prints the script and writes nothing") {
  Setup s;
  const CliResult r = s.cli({"submit", s.sweep.string(), "--tasks", "3", "--dry-run"});
  INFO(r.output);
  REQUIRE(r.status == 0);
  CHECK(contains(r.output, "#SBATCH --array=0-2\n"));
  CHECK(contains(r.output, "--shard \"$task/3\""));
  CHECK_FALSE(fs::exists(s.dir / "results"));
}

TEST_CASE("slurm submit: without sbatch on PATH, one line that says so") {
  Setup s;
  const CliResult r = s.cli({"submit", s.sweep.string(), "--tasks", "2"});
  CHECK(r.status == 1);
  CHECK(contains(r.output, "lenetlab: error: sbatch not found on PATH"));
  CHECK(contains(r.output, "--dry-run"));
  CHECK_FALSE(fs::exists(s.db));
}

TEST_CASE("slurm submit: sbatch's refusal is quoted and nothing is recorded") {
  Setup s;
  s.fake_sbatch("sbatch: error: Batch job submission failed: Invalid partition name specified", 1);
  const CliResult r = s.cli({"submit", s.sweep.string(), "--tasks", "2", "--partition", "nosuch"});
  INFO(r.output);
  CHECK(r.status == 1);
  CHECK(contains(r.output,
                 "sbatch refused the job (exit status 1): sbatch: error: Batch job "
                 "submission failed: Invalid partition name specified"));
  CHECK_FALSE(fs::exists(s.db));
}

TEST_CASE("slurm submit: the job id is recorded with the sweep, the script kept") {
  Setup s;
  s.fake_sbatch("4242", 0);
  const CliResult r = s.cli({"submit", s.sweep.string(), "--tasks", "4", "--time", "10:00"});
  INFO(r.output);
  REQUIRE(r.status == 0);
  CHECK(contains(r.output, "submitted job 4242"));
  CHECK(slurm_jobs(s.db) == "4242 4 0-3\n");
  const fs::path dir = s.dir / "results" / "slurm" / "demo";
  const std::string script = read_file(dir / "submit-1.sbatch", 1 << 20);
  CHECK(contains(script, "#SBATCH --time=10:00\n"));
  CHECK(fs::exists(dir / "shards" / ".visible-to-tasks"));
  CHECK(read_file(s.bin / "sbatch.args", 4096) ==
        "--parsable " + (dir / "submit-1.sbatch").string() + "\n");

  // Another split of the same sweep would mix two assignments of runs to shard databases.
  const CliResult other = s.cli({"submit", s.sweep.string(), "--tasks", "3"});
  CHECK(other.status == 1);
  CHECK(contains(other.output, "was submitted as 4 tasks (job 4242)"));

  // --resume: no shard has run, no task is known to Slurm: all four again, with the same script.
  s.fake_sbatch("4243;north", 0);
  const CliResult resume = s.cli({"submit", s.sweep.string(), "--resume", "--time", "20:00"});
  INFO(resume.output);
  REQUIRE(resume.status == 0);
  CHECK(slurm_jobs(s.db) == "4242 4 0-3\n4243 4 0-3\n");
  CHECK(contains(read_file(s.bin / "sbatch.args", 4096),
                 "--parsable --time=20:00 --array=0-3 " + (dir / "submit-1.sbatch").string()));
}

TEST_CASE("slurm submit --resume and status before any submission say what to do") {
  Setup s;
  s.fake_sbatch("1", 0);
  const CliResult resume = s.cli({"submit", s.sweep.string(), "--resume"});
  CHECK(resume.status == 1);
  CHECK(contains(resume.output, "has no Slurm submission recorded"));
  CHECK(contains(resume.output, "lenetlab slurm submit " + s.sweep.string() + " --tasks N"));
  const CliResult status = s.cli({"status", s.sweep.string()});
  CHECK(status.status == 1);
  CHECK(contains(status.output, "has no Slurm submission recorded"));
  const CliResult missing = s.cli({"submit", s.sweep.string()});
  CHECK(missing.status == 1);
  CHECK(contains(missing.output, "--tasks N is required"));
}

}  // namespace
}  // namespace lenetlab::test
