#include "slurm/script.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <sstream>

#include "core/error.hpp"

namespace lenetlab {

namespace {

void check_one_line(const std::string& what, const std::string& value) {
  if (value.find_first_of("\n\r") != std::string::npos)
    throw Error(
        fmt::format("{} '{}' holds a line break; an sbatch script line cannot", what, value));
}

bool all_digits(const std::string& text) {
  return !text.empty() && text.size() <= 9 &&
         std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); });
}

void check_request(const SbatchRequest& r) {
  if (r.tasks < 1) throw Error(fmt::format("--tasks {}: expected at least 1", r.tasks));
  if (r.cpus_per_task < 1)
    throw Error(fmt::format("--cpus-per-task {}: expected at least 1", r.cpus_per_task));
  if (r.threads_per_run < 1)
    throw Error(fmt::format("--threads-per-run {}: expected at least 1", r.threads_per_run));
  for (int id : r.array)
    if (id < 0 || id >= r.tasks)
      throw Error(fmt::format("array task {} is outside 0..{}", id, r.tasks - 1));
  check_one_line("--partition", r.partition);
  check_one_line("--time", r.time);
  check_one_line("--mem", r.mem);
  for (const std::string& arg : r.extra) check_one_line("--sbatch-arg", arg);
  for (const auto* path :
       {&r.sweep_file, &r.binary, &r.data_dir, &r.shard_dir, &r.log_dir, &r.marker}) {
    check_one_line("path", path->string());
    if (!path->is_absolute())
      throw Error(fmt::format("sbatch script: path '{}' must be absolute", path->string()));
  }
}

/// The #SBATCH header lines.
std::string header(const SbatchRequest& r) {
  std::vector<int> all(static_cast<size_t>(r.tasks));
  for (int i = 0; i < r.tasks; ++i) all[static_cast<size_t>(i)] = i;
  std::string out;
  auto line = [&out](const std::string& option) { out += "#SBATCH " + option + "\n"; };
  line("--job-name=lenetlab-" + r.sweep_name);
  line("--array=" + array_spec(r.array.empty() ? all : r.array));
  line(fmt::format("--cpus-per-task={}", r.cpus_per_task));
  line("--ntasks=1");
  line(fmt::format("--signal=B:TERM@{}", kSignalSecondsBeforeLimit));
  line("--requeue");
  line("--open-mode=append");
  line("--output=" + (r.log_dir / "%x-%A_%a.out").string());
  if (!r.partition.empty()) line("--partition=" + r.partition);
  if (!r.time.empty()) line("--time=" + r.time);
  if (!r.mem.empty()) line("--mem=" + r.mem);
  for (const std::string& arg : r.extra) line(arg);
  return out;
}

}  // namespace

std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string shard_file_name(int index, int count) {
  return fmt::format("shard-{}-of-{}.db", index, count);
}

std::string array_spec(std::vector<int> ids) {
  if (ids.empty()) throw Error("a job array needs at least one task id");
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  if (ids.front() < 0) throw Error(fmt::format("array task id {} is negative", ids.front()));
  std::string out;
  for (size_t i = 0; i < ids.size();) {
    size_t j = i;
    while (j + 1 < ids.size() && ids[j + 1] == ids[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += j == i ? fmt::format("{}", ids[i]) : fmt::format("{}-{}", ids[i], ids[j]);
    i = j + 1;
  }
  return out;
}

std::vector<int> parse_array_spec(const std::string& text) {
  const auto bad = [&text] {
    return Error(fmt::format("array '{}': expected task ids like 0-3 or 1,3-5", text));
  };
  std::vector<int> ids;
  std::stringstream parts(text);
  std::string part;
  while (std::getline(parts, part, ',')) {
    const size_t dash = part.find('-');
    const std::string first = part.substr(0, dash);
    const std::string last = dash == std::string::npos ? first : part.substr(dash + 1);
    if (!all_digits(first) || !all_digits(last)) throw bad();
    const int from = std::stoi(first), to = std::stoi(last);
    if (to < from || to - from > 1000000) throw bad();
    for (int id = from; id <= to; ++id) ids.push_back(id);
  }
  if (ids.empty()) throw bad();
  return ids;
}

SubmittedJob parse_sbatch_parsable(const std::string& output) {
  std::stringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
    const size_t semicolon = line.find(';');
    SubmittedJob job{line.substr(0, semicolon), std::nullopt};
    if (!all_digits(job.job_id)) continue;
    if (semicolon != std::string::npos) job.cluster = line.substr(semicolon + 1);
    return job;
  }
  throw Error(fmt::format("sbatch printed no job id: '{}'", output));
}

std::string sbatch_script(const SbatchRequest& r) {
  check_request(r);
  std::string out = "#!/bin/bash\n";
  out += fmt::format(
      "# Written by `lenetlab slurm submit`: sweep '{}' as a Slurm job array. Array task I\n"
      "# trains shard I of {} (`lenetlab run --shard I/{}`) into {}/shard-I-of-{}.db.\n"
      "# Resubmit by hand with `sbatch --array=IDS THIS_FILE`, or `lenetlab slurm submit "
      "--resume`.\n",
      r.sweep_name, r.tasks, r.tasks, r.shard_dir.string(), r.tasks);
  out += header(r);
  out += "set -u\n";
  out += "task=${SLURM_ARRAY_TASK_ID:?not a Slurm array task}\n";
  // A node that cannot see what the submitting host wrote fails here, with the reason in its log.
  out += fmt::format(
      "check() {{\n"
      "  [ -e \"$2\" ] && return 0\n"
      "  echo \"lenetlab slurm: task $task on $(hostname): $1 $2 is not visible here; it must be "
      "on "
      "a file system shared by the submitting host and every node (see README: Running on a "
      "Slurm cluster)\" >&2\n"
      "  exit 2\n"
      "}}\n"
      "check 'the shard directory marker' {}\n"
      "check 'the lenetlab binary' {}\n"
      "check 'the sweep file' {}\n",
      shell_quote(r.marker.string()), shell_quote(r.binary.string()),
      shell_quote(r.sweep_file.string()));
  out += fmt::format("shards={}\n", shell_quote(r.shard_dir.string()));
  out += fmt::format("threads={}\n", r.threads_per_run);
  out += "jobs=$(( ${SLURM_CPUS_PER_TASK:-1} / threads ))\n";
  out += "[ \"$jobs\" -ge 1 ] || jobs=1\n";
  out += fmt::format(
      "exec {} --db \"$shards/shard-$task-of-{}.db\" --data-dir {} run {} --shard \"$task/{}\" "
      "--jobs \"$jobs\" --threads-per-run \"$threads\" --quiet\n",
      shell_quote(r.binary.string()), r.tasks, shell_quote(r.data_dir.string()),
      shell_quote(r.sweep_file.string()), r.tasks);
  return out;
}

}  // namespace lenetlab
