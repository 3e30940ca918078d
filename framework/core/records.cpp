#include "core/records.hpp"

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
    {RunStatus::interrupted, "interrupted"},
};
}  // namespace

const char* to_string(RunStatus status) {
  for (const auto& entry : kStatusNames)
    if (entry.status == status) return entry.name;
  return "unknown";
}

RunStatus run_status_from_string(const std::string& name) {
  for (const auto& entry : kStatusNames)
    if (name == entry.name) return entry.status;
  throw Error(
      "unknown run status '" + name +
      "'; expected queued, running, finished, failed, diverged, stopped_early or interrupted");
}

bool is_final(RunStatus status) {
  return status == RunStatus::finished || status == RunStatus::diverged ||
         status == RunStatus::stopped_early;
}

}  // namespace lenetlab
