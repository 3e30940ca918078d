#include "core/records.hpp"

#include <iterator>

#include "core/error.hpp"

namespace lenetlab {

namespace {
constexpr struct {
  RunStatus status;
  const char* name;
} kStatusNames[] = {
    {RunStatus::queued, "queued"},           {RunStatus::running, "running"},
    {RunStatus::finished, "finished"},       {RunStatus::failed, "failed"},
    {RunStatus::diverged, "diverged"},       {RunStatus::stopped_early, "stopped_early"},
    {RunStatus::interrupted, "interrupted"}, {RunStatus::paused, "paused"},
    {RunStatus::pruned, "pruned"},
};
}  // namespace

const char* to_string(RunStatus status) {
  for (const auto& entry : kStatusNames)
    if (entry.status == status) return entry.name;
  return "unknown";
}

std::vector<std::string> run_status_names() {
  std::vector<std::string> names;
  for (RunStatus status : kRunStatuses) names.emplace_back(to_string(status));
  return names;
}

RunStatus run_status_from_string(const std::string& name) {
  for (const auto& entry : kStatusNames)
    if (name == entry.name) return entry.status;
  throw Error(
      "unknown run status '" + name +
      "'; expected queued, running, finished, failed, diverged, stopped_early, interrupted, "
      "paused or pruned");
}

bool is_final(RunStatus status) {
  return status == RunStatus::finished || status == RunStatus::diverged ||
         status == RunStatus::stopped_early;
}

bool is_completed(RunStatus status) {
  return status == RunStatus::finished || status == RunStatus::stopped_early;
}

bool is_retryable(RunStatus status) {
  return status == RunStatus::failed || status == RunStatus::diverged ||
         status == RunStatus::interrupted;
}

bool is_problem(RunStatus status) { return is_retryable(status); }

int display_rank(RunStatus status) {
  constexpr RunStatus kDisplayOrder[] = {
      RunStatus::finished, RunStatus::stopped_early, RunStatus::pruned,
      RunStatus::diverged, RunStatus::failed,        RunStatus::interrupted,
      RunStatus::paused,   RunStatus::running,       RunStatus::queued};
  for (size_t i = 0; i < std::size(kDisplayOrder); ++i)
    if (kDisplayOrder[i] == status) return static_cast<int>(i);
  return static_cast<int>(std::size(kDisplayOrder));
}

}  // namespace lenetlab
