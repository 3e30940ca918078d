#include "train/run_conditions.hpp"

#include <omp.h>

#include <fmt/format.h>

#include "core/environment.hpp"

namespace lenetlab {

const char* current_engine_version() { return kEngineVersion; }

std::string engine_version_of(int engine) { return engine == 2 ? "2" : kEngineVersion; }

bool thread_invariant(const std::string& engine_version) { return engine_version == "2"; }

RunConditions RunConditions::current() {
  const int threads = omp_get_max_threads();
  const Environment env = capture_environment(threads);
  return {threads, env.isa, env.onednn_version, current_engine_version(), env.git_commit};
}

std::vector<std::string> condition_differences(const RunConditions& recorded,
                                               const RunConditions& current) {
  std::vector<std::string> out;
  const auto differ = [&](const char* what, const std::string& was, const std::string& now) {
    if (was != now) out.push_back(fmt::format("{} {} (now {})", what, was, now));
  };
  if (!thread_invariant(recorded.engine_version) || !thread_invariant(current.engine_version))
    differ("threads per run", std::to_string(recorded.threads), std::to_string(current.threads));
  differ("CPU ISA", recorded.isa, current.isa);
  differ("oneDNN", recorded.onednn_version, current.onednn_version);
  differ("engine version", recorded.engine_version, current.engine_version);
  return out;
}

}  // namespace lenetlab
