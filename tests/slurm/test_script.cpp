// The sbatch script of `lenetlab slurm submit` and the parsers of sbatch, squeue and sacct output
// (slurm/script.hpp, slurm/scheduler.hpp). The script is also executed by bash as Slurm would run
// an array task, with a stand-in lenetlab that prints its arguments. Output formats from the
// Slurm 22.05 manuals (sbatch --parsable; squeue --format; sacct --parsable2).
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/error.hpp"
#include "data/process.hpp"
#include "slurm/scheduler.hpp"
#include "slurm/script.hpp"
#include "temp_dir.hpp"

namespace lenetlab::test {
namespace {

namespace fs = std::filesystem;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

SbatchRequest request_in(const fs::path& dir) {
  SbatchRequest r;
  r.sweep_name = "demo";
  r.sweep_file = dir / "it's a sweep.yaml";
  r.binary = dir / "lenetlab";
  r.data_dir = dir / "data";
  r.shard_dir = dir / "shards";
  r.log_dir = dir / "logs";
  r.marker = dir / "shards" / ".visible-to-tasks";
  r.tasks = 4;
  return r;
}

void write_executable(const fs::path& path, const std::string& text) {
  std::ofstream(path) << text;
  chmod(path.c_str(), 0755);
}

/// Runs `script` with bash as array task `task` given `cpus` CPUs; returns its output.
int run_task(const fs::path& script, int task, int cpus, std::string& output) {
  return run_process({"env", "SLURM_ARRAY_TASK_ID=" + std::to_string(task),
                      "SLURM_CPUS_PER_TASK=" + std::to_string(cpus), "bash", script.string()},
                     script.parent_path(), &output);
}

TEST_CASE("slurm script: the #SBATCH lines ask for the array, signal, requeue and options") {
  TempDir dir;
  SbatchRequest r = request_in(dir.path());
  r.partition = "gpu";
  r.time = "1:30:00";
  r.mem = "4G";
  r.cpus_per_task = 8;
  r.extra = {"--account=lab", "--qos=long"};
  const std::string s = sbatch_script(r);
  CHECK(s.rfind("#!/bin/bash\n", 0) == 0);
  for (const char* line :
       {"#SBATCH --array=0-3\n", "#SBATCH --job-name=lenetlab-demo\n",
        "#SBATCH --cpus-per-task=8\n", "#SBATCH --signal=B:TERM@60\n", "#SBATCH --requeue\n",
        "#SBATCH --partition=gpu\n", "#SBATCH --time=1:30:00\n", "#SBATCH --mem=4G\n",
        "#SBATCH --account=lab\n", "#SBATCH --qos=long\n", "#SBATCH --open-mode=append\n"})
    CHECK_MESSAGE(contains(s, line), line);
  CHECK(contains(s, "#SBATCH --output=" + (dir.path() / "logs" / "%x-%A_%a.out").string()));
  r.partition = r.time = r.mem = "";
  r.extra.clear();
  r.array = {1, 3};
  const std::string plain = sbatch_script(r);
  CHECK(contains(plain, "#SBATCH --array=1,3\n"));
  CHECK_FALSE(contains(plain, "--partition"));
  CHECK_FALSE(contains(plain, "--time"));
  CHECK_FALSE(contains(plain, "--mem"));
}

TEST_CASE("slurm script: refuses what would break it") {
  TempDir dir;
  SbatchRequest r = request_in(dir.path());
  r.partition = "a\nb";
  CHECK_THROWS_WITH_AS(sbatch_script(r), doctest::Contains("line break"), Error);
  r = request_in(dir.path());
  r.array = {4};
  CHECK_THROWS_WITH_AS(sbatch_script(r), doctest::Contains("outside 0..3"), Error);
  r = request_in(dir.path());
  r.shard_dir = "relative/shards";
  CHECK_THROWS_WITH_AS(sbatch_script(r), doctest::Contains("must be absolute"), Error);
  r = request_in(dir.path());
  r.tasks = 0;
  CHECK_THROWS_AS(sbatch_script(r), Error);
}

TEST_CASE("slurm script: a task runs its shard with jobs = cpus / threads, quoting paths") {
  TempDir dir;
  SbatchRequest r = request_in(dir.path());
  r.threads_per_run = 2;
  write_executable(r.binary, "#!/bin/sh\nfor a in \"$@\"; do echo \"[$a]\"; done\n");
  std::ofstream(r.sweep_file) << "name: demo\n";
  fs::create_directories(r.shard_dir);
  std::ofstream(r.marker) << "seen\n";
  const fs::path script = dir.path() / "job.sbatch";
  std::ofstream(script) << sbatch_script(r);
  std::string out;
  REQUIRE(run_task(script, 2, 8, out) == 0);
  const std::string expected = "[--db]\n[" + (r.shard_dir / "shard-2-of-4.db").string() +
                               "]\n[--data-dir]\n[" + r.data_dir.string() + "]\n[run]\n[" +
                               r.sweep_file.string() +
                               "]\n[--shard]\n[2/4]\n[--jobs]\n[4]\n[--threads-per-run]\n[2]\n"
                               "[--quiet]\n";
  CHECK(out == expected);
  REQUIRE(run_task(script, 0, 1, out) == 0);  // 1 CPU, 2 threads per run: still one run
  CHECK(contains(out, "[--jobs]\n[1]\n"));
  CHECK(contains(out, "[0/4]"));
}

TEST_CASE("slurm script: a task that cannot see the marker stops with the reason") {
  TempDir dir;
  const SbatchRequest r = request_in(dir.path());
  write_executable(r.binary, "#!/bin/sh\necho trained\n");
  std::ofstream(r.sweep_file) << "name: demo\n";
  const fs::path script = dir.path() / "job.sbatch";
  std::ofstream(script) << sbatch_script(r);
  std::string out;
  CHECK(run_task(script, 1, 1, out) == 2);
  CHECK(contains(out, "task 1 on "));
  CHECK(contains(out, "the shard directory marker " + r.marker.string() + " is not visible"));
  CHECK_FALSE(contains(out, "trained"));
}

TEST_CASE("slurm: array_spec and parse_array_spec") {
  CHECK(array_spec({0, 1, 2, 3}) == "0-3");
  CHECK(array_spec({5, 1, 3, 4}) == "1,3-5");
  CHECK(array_spec({7}) == "7");
  CHECK(array_spec({2, 2, 0}) == "0,2");
  CHECK_THROWS_AS(array_spec({}), Error);
  CHECK_THROWS_AS(array_spec({-1}), Error);
  CHECK(parse_array_spec("0-3") == std::vector<int>{0, 1, 2, 3});
  CHECK(parse_array_spec("1,3-5") == std::vector<int>{1, 3, 4, 5});
  for (const char* bad : {"", "N/A", "3-1", "1,,2", "a-b", "1-"})
    CHECK_THROWS_WITH_AS(parse_array_spec(bad), doctest::Contains("expected task ids"), Error);
}

TEST_CASE("slurm: the job id in sbatch --parsable output") {
  CHECK(parse_sbatch_parsable("4711\n").job_id == "4711");
  CHECK_FALSE(parse_sbatch_parsable("4711\n").cluster);
  const SubmittedJob j =
      parse_sbatch_parsable("sbatch: warning: can't honor --ntasks-per-node\n88;north\n");
  CHECK(j.job_id == "88");
  CHECK(j.cluster == "north");
  CHECK_THROWS_WITH_AS(parse_sbatch_parsable("sbatch: error: nope\n"),
                       doctest::Contains("printed no job id"), Error);
}

TEST_CASE("slurm: squeue and sacct lines of an array job") {
  const auto q = parse_squeue(
      "12|0|COMPLETED|None\n12|1|RUNNING|None\n12|2|PENDING|Resources\n13|0|RUNNING|None\n"
      "squeue: error: something\n12|N/A|RUNNING|None\n",
      "12");
  REQUIRE(q.size() == 3);
  CHECK(q.at(0).state == "COMPLETED");
  CHECK(q.at(2).state == "PENDING");
  CHECK(q.at(2).detail == "Resources");
  CHECK(q.at(1).source == "squeue");
  const auto a = parse_sacct(
      "12_0|COMPLETED|0:0\n12_1|CANCELLED by 0|0:15\n12_[2-3%1]|PENDING|0:0\n120_0|FAILED|2:0\n",
      "12");
  REQUIRE(a.size() == 4);
  CHECK(a.at(1).state == "CANCELLED");
  CHECK(a.at(1).detail == "0:15");
  CHECK(a.at(3).state == "PENDING");
  CHECK(is_active("PENDING"));
  CHECK(is_active("RUNNING"));
  CHECK_FALSE(is_active("COMPLETED"));
  CHECK_FALSE(is_active("CANCELLED by 0"));
}

TEST_CASE("slurm: shell_quote survives bash") {
  const std::string hostile = "it's $HOME `id` \"x\" \\ ;";
  std::string out;
  REQUIRE(run_process({"bash", "-c", "printf %s " + shell_quote(hostile)}, "/", &out) == 0);
  CHECK(out == hostile);
}

}  // namespace
}  // namespace lenetlab::test
