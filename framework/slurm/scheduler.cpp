#include "slurm/scheduler.hpp"

#include <unistd.h>

#include <cstdlib>
#include <set>
#include <sstream>
#include <vector>

#include "core/error.hpp"
#include "data/process.hpp"
#include "slurm/script.hpp"

namespace lenetlab {

namespace {

std::vector<std::string> split(const std::string& line, char separator) {
  std::vector<std::string> fields;
  std::stringstream in(line);
  std::string field;
  while (std::getline(in, field, separator)) fields.push_back(field);
  return fields;
}

/// The first word of a state ("CANCELLED by 0" -> "CANCELLED").
std::string state_word(const std::string& state) { return state.substr(0, state.find(' ')); }

/// Runs `argv` and returns its output, or nothing when the program is missing or fails.
std::optional<std::string> ask(const std::vector<std::string>& argv) {
  if (find_on_path(argv.front()).empty()) return std::nullopt;
  std::string output;
  try {
    if (run_process(argv, std::filesystem::current_path(), &output) != 0) return std::nullopt;
  } catch (const Error&) {
    return std::nullopt;
  }
  return output;
}

}  // namespace

bool is_active(const std::string& state) {
  static const std::set<std::string> kActive = {
      "PENDING",     "RUNNING",  "CONFIGURING", "COMPLETING", "REQUEUED",  "REQUEUE_HOLD",
      "REQUEUE_FED", "RESIZING", "SUSPENDED",   "STOPPED",    "SIGNALING", "STAGE_OUT"};
  return kActive.count(state_word(state)) > 0;
}

std::map<int, TaskState> parse_squeue(const std::string& output, const std::string& job_id) {
  std::map<int, TaskState> tasks;
  std::stringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    const std::vector<std::string> f = split(line, '|');
    if (f.size() < 3 || f[0] != job_id) continue;
    try {
      for (int task : parse_array_spec(f[1]))
        tasks[task] = {state_word(f[2]), f.size() > 3 ? f[3] : "", "squeue"};
    } catch (const Error&) {  // "N/A": not an array task
    }
  }
  return tasks;
}

std::map<int, TaskState> parse_sacct(const std::string& output, const std::string& job_id) {
  std::map<int, TaskState> tasks;
  std::stringstream lines(output);
  std::string line;
  const std::string prefix = job_id + "_";
  while (std::getline(lines, line)) {
    const std::vector<std::string> f = split(line, '|');
    if (f.size() < 2 || f[0].rfind(prefix, 0) != 0) continue;
    std::string ids = f[0].substr(prefix.size());
    if (ids.size() > 2 && ids.front() == '[' && ids.back() == ']')
      ids = ids.substr(1, ids.size() - 2);
    ids = ids.substr(0, ids.find('%'));  // "[4-7%2]": at most 2 at once
    try {
      for (int task : parse_array_spec(ids))
        tasks[task] = {state_word(f[1]), f.size() > 2 ? f[2] : "", "sacct"};
    } catch (const Error&) {
    }
  }
  return tasks;
}

std::map<int, TaskState> query_task_states(const std::string& job_id) {
  std::map<int, TaskState> tasks;
  if (auto out = ask({"squeue", "--array", "--noheader", "--states=all", "--jobs=" + job_id,
                      "--format=%F|%K|%T|%r"}))
    tasks = parse_squeue(*out, job_id);
  if (auto out = ask({"sacct", "--noheader", "--parsable2", "--allocations", "--jobs=" + job_id,
                      "--format=JobID,State,ExitCode"}))
    for (const auto& [task, state] : parse_sacct(*out, job_id)) tasks.emplace(task, state);
  return tasks;
}

std::filesystem::path find_on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  if (!path || name.empty() || name.find('/') != std::string::npos) return {};
  for (const std::string& dir : split(path, ':')) {
    const std::filesystem::path candidate = std::filesystem::path(dir.empty() ? "." : dir) / name;
    std::error_code ec;
    if (std::filesystem::is_regular_file(candidate, ec) && access(candidate.c_str(), X_OK) == 0)
      return candidate;
  }
  return {};
}

}  // namespace lenetlab
