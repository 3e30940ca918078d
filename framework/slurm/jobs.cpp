#include "slurm/jobs.hpp"

#include <sys/vfs.h>
#include <unistd.h>

#include <fstream>
#include <set>

#include <fmt/format.h>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/text.hpp"
#include "data/process.hpp"
#include "store/merge.hpp"
#include "store/reader.hpp"
#include "store/store.hpp"
#include "sweep/shard.hpp"

namespace lenetlab {

namespace {

/// statfs(2) f_type of tmpfs (linux/magic.h TMPFS_MAGIC): memory of one node.
constexpr long kTmpfsMagic = 0x01021994;

/// A warning when `dir` looks private to one node: under /tmp, /var/tmp, /dev/shm or /run, or on
/// a tmpfs. The tasks' marker check is the real test; this only warns before submitting.
std::optional<std::string> node_local_warning(const std::filesystem::path& dir) {
  const std::string text = dir.string();
  for (const char* local : {"/tmp/", "/var/tmp/", "/dev/shm/", "/run/"})
    if (text.rfind(local, 0) == 0)
      return fmt::format(
          "warning: {} is under {}, usually private to each node; tasks on other nodes will not "
          "see it (each task checks and stops with a message in its log)",
          text, std::string(local).substr(0, std::string(local).size() - 1));
  struct statfs fs {};
  if (statfs(text.c_str(), &fs) == 0 && static_cast<long>(fs.f_type) == kTmpfsMagic)
    return fmt::format(
        "warning: {} is on a tmpfs (memory of this node); tasks on other nodes "
        "will not see it",
        text);
  return std::nullopt;
}

std::vector<std::string> sbatch_overrides(const SubmitOptions& o) {
  std::vector<std::string> args;
  if (!o.partition.empty()) args.push_back("--partition=" + o.partition);
  if (!o.time.empty()) args.push_back("--time=" + o.time);
  if (!o.mem.empty()) args.push_back("--mem=" + o.mem);
  return args;
}

/// Runs sbatch --parsable; its refusal becomes an Error quoting sbatch.
SubmittedJob run_sbatch(std::vector<std::string> args, const std::filesystem::path& script) {
  if (find_on_path("sbatch").empty())
    throw Error(fmt::format(
        "sbatch not found on PATH ({}): run `lenetlab slurm submit` on a Slurm login node, or add "
        "--dry-run to print the script",
        std::getenv("PATH") ? std::getenv("PATH") : ""));
  args.insert(args.begin(), {"sbatch", "--parsable"});
  args.push_back(script.string());
  std::string output;
  const int status = run_process(args, script.parent_path(), &output);
  while (!output.empty() && (output.back() == '\n' || output.back() == ' ')) output.pop_back();
  if (status != 0)
    throw Error(fmt::format("sbatch refused the job (exit status {}): {} [script {}]", status,
                            output.empty() ? "(no output)" : output, script.string()));
  return parse_sbatch_parsable(output);
}

/// Latest submission covering each task id (by the recorded arrays, later ones win).
std::map<int, const SlurmJobRow*> latest_job_of_task(const std::vector<SlurmJobRow>& jobs) {
  std::map<int, const SlurmJobRow*> latest;
  for (const SlurmJobRow& job : jobs)
    for (int task : parse_array_spec(job.array)) latest[task] = &job;
  return latest;
}

/// Slurm states of every task of `jobs`' latest submissions (one squeue/sacct query per job).
std::map<int, TaskState> task_states(const std::map<int, const SlurmJobRow*>& latest) {
  std::map<std::string, std::map<int, TaskState>> by_job;
  std::map<int, TaskState> states;
  for (const auto& [task, job] : latest) {
    auto it = by_job.find(job->job_id);
    if (it == by_job.end()) it = by_job.emplace(job->job_id, query_task_states(job->job_id)).first;
    if (auto s = it->second.find(task); s != it->second.end()) states[task] = s->second;
  }
  return states;
}

/// Runs of each shard of the sweep: indexes into plan.runs by shard.
std::vector<std::vector<size_t>> runs_by_shard(const ShardPlan& plan, int count) {
  std::vector<std::vector<size_t>> shards(static_cast<size_t>(count));
  for (size_t i = 0; i < plan.runs.size(); ++i)
    shards[static_cast<size_t>(plan.shard[i])].push_back(i);
  return shards;
}

/// Status of each run (by key) in a shard database; empty when the file does not exist yet.
std::map<std::string, RunRow> shard_runs(const std::filesystem::path& shard) {
  std::map<std::string, RunRow> rows;
  if (!std::filesystem::exists(shard)) return rows;
  for (RunRow& row : ResultsReader(shard).runs()) rows.emplace(row.key, std::move(row));
  return rows;
}

/// True when every run of shard `runs` is final in its database.
bool shard_done(const ShardPlan& plan, const std::vector<size_t>& runs,
                const std::filesystem::path& shard) {
  const auto rows = shard_runs(shard);
  for (size_t i : runs) {
    auto it = rows.find(plan.runs[i].key);
    if (it == rows.end() || !is_final(it->second.status)) return false;
  }
  return true;
}

/// The last non-empty line of a task's log (empty when it cannot be read).
std::string last_log_line(const std::filesystem::path& log) {
  std::ifstream in(log);
  std::string line, last;
  while (std::getline(in, line))
    if (line.find_first_not_of(" \t\r") != std::string::npos) last = line;
  return last;
}

void write_marker(const SlurmPaths& paths) {
  std::filesystem::create_directories(paths.shard_dir);
  std::filesystem::create_directories(paths.log_dir);
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  write_file_atomic(
      paths.marker,
      fmt::format("written by lenetlab slurm submit on {} at {}\n", host, iso_utc_now()),
      Durability::kSurvivePowerLoss);
}

/// The next free "submit-K.sbatch" of the sweep's directory.
std::filesystem::path next_script(const SlurmPaths& paths) {
  for (int k = 1;; ++k) {
    auto path = paths.dir / fmt::format("submit-{}.sbatch", k);
    if (!std::filesystem::exists(path)) return path;
  }
}

SlurmJobRow record(const Sweep& sweep, const std::filesystem::path& db, const SubmittedJob& job,
                   int tasks, const std::vector<int>& array, const std::filesystem::path& script,
                   const SlurmPaths& paths) {
  Store store(db);
  store.upsert_sweep(sweep.name, sweep.file, sweep.yaml);
  SlurmJobRow row;
  row.sweep = sweep.name;
  row.job_id = job.job_id;
  row.cluster = job.cluster;
  row.tasks = tasks;
  row.array = array_spec(array);
  row.script = script.string();
  row.shard_dir = paths.shard_dir.string();
  row.id = store.record_slurm_job(row);
  return row;
}

std::vector<SlurmJobRow> recorded_jobs(const Sweep& sweep, const std::filesystem::path& db) {
  if (!std::filesystem::exists(db)) return {};
  return ResultsReader(db).slurm_jobs(sweep.name);
}

SubmitOutcome resubmit(const Sweep& sweep, const std::filesystem::path& db,
                       const SubmitOptions& options, const std::vector<SlurmJobRow>& jobs) {
  if (jobs.empty())
    throw Error(
        fmt::format("sweep '{}' has no Slurm submission recorded in {}; submit it first: "
                    "lenetlab slurm submit {} --tasks N",
                    sweep.name, db.string(), sweep.file));
  const SlurmJobRow& last = jobs.back();
  const int count = static_cast<int>(last.tasks);
  if (options.tasks != 0 && options.tasks != count)
    throw Error(fmt::format("--resume: the sweep was submitted as {} tasks (job {}), not {}", count,
                            last.job_id, options.tasks));
  const SlurmPaths paths = slurm_paths(db, sweep.name);
  const ShardPlan plan = assign_shards(sweep, count);
  const auto shards = runs_by_shard(plan, count);
  const auto latest = latest_job_of_task(jobs);
  const auto states = task_states(latest);
  SubmitOutcome outcome;
  std::vector<int> todo;
  for (int task = 0; task < count; ++task) {
    auto state = states.find(task);
    if (state != states.end() && is_active(state->second.state)) {
      outcome.notes.push_back(fmt::format("task {} is still {} as job {}_{}: not resubmitted", task,
                                          state->second.state, latest.at(task)->job_id, task));
      continue;
    }
    const auto shard = paths.shard_dir / shard_file_name(task, count);
    if (!shard_done(plan, shards[static_cast<size_t>(task)], shard)) todo.push_back(task);
  }
  const std::filesystem::path script = last.script;
  outcome.script_text = read_file(script, 1 << 20);
  if (todo.empty()) return outcome;
  if (options.dry_run) {
    outcome.notes.push_back(fmt::format("would resubmit tasks {} with sbatch --array={} {}",
                                        array_spec(todo), array_spec(todo), script.string()));
    return outcome;
  }
  write_marker(paths);
  auto args = sbatch_overrides(options);
  args.push_back("--array=" + array_spec(todo));
  if (options.cpus_per_task > 1)
    args.push_back(fmt::format("--cpus-per-task={}", options.cpus_per_task));
  const SubmittedJob job = run_sbatch(args, script);
  outcome.script = script;
  outcome.job = record(sweep, db, job, count, todo, script, paths);
  return outcome;
}

}  // namespace

SlurmPaths slurm_paths(const std::filesystem::path& db, const std::string& sweep_name) {
  std::string safe = sweep_name;
  for (char& c : safe)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) c = '_';
  if (safe.empty() || safe == "." || safe == "..") safe = "_" + safe;
  SlurmPaths paths;
  paths.name = safe;
  paths.dir = std::filesystem::absolute(db).lexically_normal().parent_path() / "slurm" / safe;
  paths.shard_dir = paths.dir / "shards";
  paths.log_dir = paths.dir / "logs";
  paths.marker = paths.shard_dir / ".visible-to-tasks";
  return paths;
}

SubmitOutcome submit_sweep(const Sweep& sweep, const std::filesystem::path& db,
                           const TaskInputs& inputs, const SubmitOptions& options) {
  const std::vector<SlurmJobRow> jobs = recorded_jobs(sweep, db);
  if (options.resume) return resubmit(sweep, db, options, jobs);
  if (options.tasks < 1) throw Error("--tasks N is required (the number of array tasks, N >= 1)");
  const SlurmPaths paths = slurm_paths(db, sweep.name);
  SbatchRequest request;
  request.sweep_name = paths.name;
  request.sweep_file = std::filesystem::absolute(sweep.file).lexically_normal();
  request.binary = inputs.binary;
  request.data_dir = std::filesystem::absolute(inputs.data_dir).lexically_normal();
  request.shard_dir = paths.shard_dir;
  request.log_dir = paths.log_dir;
  request.marker = paths.marker;
  request.tasks = options.tasks;
  request.cpus_per_task = options.cpus_per_task;
  request.threads_per_run = options.threads_per_run;
  request.partition = options.partition;
  request.time = options.time;
  request.mem = options.mem;
  request.extra = options.sbatch_args;
  SubmitOutcome outcome;
  outcome.script_text = sbatch_script(request);
  if (options.dry_run) return outcome;
  if (!jobs.empty()) {
    const SlurmJobRow& last = jobs.back();
    if (last.tasks != options.tasks)
      throw Error(fmt::format(
          "sweep '{}' was submitted as {} tasks (job {}); its shard databases in {} hold runs "
          "by that split: resubmit with --tasks {} or --resume, or remove that directory to start "
          "over",
          sweep.name, last.tasks, last.job_id, paths.shard_dir.string(), last.tasks));
    for (const auto& [task, state] : task_states(latest_job_of_task(jobs)))
      if (is_active(state.state))
        throw Error(
            fmt::format("task {} of the sweep's job {} is still {}: wait for it, or "
                        "cancel it (scancel {}), then submit again",
                        task, last.job_id, state.state, last.job_id));
  }
  if (auto warning = node_local_warning(paths.dir)) outcome.notes.push_back(*warning);
  if (find_on_path("sbatch").empty()) run_sbatch({}, {});  // the missing-sbatch error first
  write_marker(paths);
  outcome.script = next_script(paths);
  write_file_atomic(outcome.script, outcome.script_text, Durability::kSurvivePowerLoss);
  const SubmittedJob job = run_sbatch({}, outcome.script);
  std::vector<int> all(static_cast<size_t>(options.tasks));
  for (int i = 0; i < options.tasks; ++i) all[static_cast<size_t>(i)] = i;
  outcome.job = record(sweep, db, job, options.tasks, all, outcome.script, paths);
  return outcome;
}

std::vector<TaskProgress> sweep_status(const Sweep& sweep, const std::filesystem::path& db) {
  const std::vector<SlurmJobRow> jobs = recorded_jobs(sweep, db);
  if (jobs.empty())
    throw Error(
        fmt::format("sweep '{}' has no Slurm submission recorded in {}; submit it with "
                    "lenetlab slurm submit {} --tasks N",
                    sweep.name, db.string(), sweep.file));
  const int count = static_cast<int>(jobs.back().tasks);
  const SlurmPaths paths = slurm_paths(db, sweep.name);
  const ShardPlan plan = assign_shards(sweep, count);
  const auto shards = runs_by_shard(plan, count);
  const auto latest = latest_job_of_task(jobs);
  const auto states = task_states(latest);
  std::vector<TaskProgress> tasks;
  for (int task = 0; task < count; ++task) {
    TaskProgress p;
    p.task = task;
    const auto job = latest.find(task);
    if (job != latest.end()) p.job = fmt::format("{}_{}", job->second->job_id, task);
    if (auto s = states.find(task); s != states.end()) p.slurm = s->second;
    const auto rows = shard_runs(paths.shard_dir / shard_file_name(task, count));
    for (size_t i : shards[static_cast<size_t>(task)]) {
      ++p.runs;
      auto it = rows.find(plan.runs[i].key);
      if (it == rows.end()) continue;
      const RunRow& row = it->second;
      if (is_final(row.status)) ++p.final_runs;
      if (is_problem(row.status) && !is_final(row.status)) ++p.problem_runs;
      if (row.status == RunStatus::running)
        p.current.push_back(fmt::format("{} epoch {}/{}", row.name,
                                        std::min(row.epochs_completed + 1, row.epochs),
                                        row.epochs));
    }
    if (p.slurm && (p.slurm->state == "FAILED" || p.slurm->state == "NODE_FAIL") && !p.job.empty())
      p.log_tail =
          last_log_line(paths.log_dir / fmt::format("lenetlab-{}-{}.out", paths.name, p.job));
    tasks.push_back(std::move(p));
  }
  return tasks;
}

namespace {

/// Copies final.ckpt and best.ckpt of `keys` from `from`/KEY/ to `to`/KEY/, keeping existing
/// files (a final run's do not change; last.ckpt stays with the shard that may resume from it).
void copy_checkpoints(const std::filesystem::path& from, const std::filesystem::path& to,
                      const std::vector<std::string>& keys) {
  for (const std::string& key : keys) {
    std::error_code ec;
    if (!std::filesystem::is_directory(from / key, ec)) continue;
    std::filesystem::create_directories(to / key);
    for (const auto& entry : std::filesystem::directory_iterator(from / key)) {
      const std::string name = entry.path().filename().string();
      if (name != "final.ckpt" && name != "best.ckpt") continue;
      std::filesystem::copy_file(entry.path(), to / key / entry.path().filename(),
                                 std::filesystem::copy_options::skip_existing);
    }
  }
}

}  // namespace

CollectOutcome collect_sweep(const Sweep& sweep, const std::filesystem::path& db,
                             std::FILE* progress) {
  const std::vector<SlurmJobRow> jobs = recorded_jobs(sweep, db);
  if (jobs.empty())
    throw Error(fmt::format("sweep '{}' has no Slurm submission recorded in {}; nothing to collect",
                            sweep.name, db.string()));
  std::set<std::filesystem::path> shards;
  for (const SlurmJobRow& job : jobs)
    for (int task = 0; task < job.tasks; ++task)
      shards.insert(std::filesystem::path(job.shard_dir) /
                    shard_file_name(task, static_cast<int>(job.tasks)));
  CollectOutcome outcome;
  ResultsMerger merger(db);
  for (const std::filesystem::path& shard : shards) {
    if (!std::filesystem::exists(shard)) continue;
    ++outcome.shards;
    const MergeResult r = merger.merge(shard);
    if (!r.conflicts.empty()) {
      ++outcome.conflicts;
      fmt::print(progress, "{}: not merged, {} conflict(s) with {}:\n", shard.string(),
                 r.conflicts.size(), db.string());
      for (const MergeConflict& c : r.conflicts)
        fmt::print(progress, "  run {} {} {}: {} in the database, {} in the shard\n", c.run, c.row,
                   c.column, c.into, c.input);
      continue;
    }
    const MergeCounts& n = r.counts;
    fmt::print(progress, "{}: {}\n", shard.string(),
               n.unchanged() ? "nothing new"
                             : fmt::format("{} runs added, {} advanced, {} epochs, {} test rows",
                                           n.runs_added, n.runs_advanced, n.epochs, n.test_rows));
  }
  const auto rows = shard_runs(db);
  std::vector<std::string> final_keys;
  for (const RunConfig& run : sweep.runs)
    if (auto it = rows.find(run.key()); it != rows.end() && is_final(it->second.status))
      final_keys.push_back(run.key());
  outcome.runs = static_cast<int>(sweep.runs.size());
  outcome.final_runs = static_cast<int>(final_keys.size());
  const auto db_dir = std::filesystem::absolute(db).parent_path();
  for (const SlurmJobRow& job : jobs)
    copy_checkpoints(std::filesystem::path(job.shard_dir) / "checkpoints", db_dir / "checkpoints",
                     final_keys);
  return outcome;
}

}  // namespace lenetlab
