// The conditions a run's bits depend on besides its configuration, recorded in every checkpoint so
// that a run resumes only where it would continue exactly as if never stopped.
//
// What changes results (README "Reproducibility"): the OpenMP thread count inside oneDNN (its
// reductions split the work per thread), the CPU ISA oneDNN dispatches to (other kernels, other
// summation orders), the oneDNN version (other kernels), and the engine version (lenetlab's own
// layers, optimizers and training loop). The engine version is kEngineVersion below, not the
// project version: the project's rule is that within one engine version speed never changes
// results (every optimisation is checked bit for bit), and a change that alters any result bumps
// kEngineVersion. So a new commit of the same engine version is not a mismatch; the commit is
// recorded for information only.
#pragma once

#include <string>
#include <vector>

namespace lenetlab {

struct RunConditions {
  int threads = 0;  ///< OpenMP threads inside oneDNN for the run (--threads-per-run)
  std::string isa;  ///< dnnl::get_effective_cpu_isa(), e.g. "avx512_core"
  std::string
      onednn_version;  ///< as core/environment.hpp records it, e.g. "2.6.3 (..., OMP runtime)"
  std::string engine_version;  ///< kEngineVersion of the build that computed the bits, e.g. "1"
  std::string engine_commit;   ///< git commit of the build (information only, never compared)

  /// The conditions of the calling thread: omp_get_max_threads() (what oneDNN's primitives created
  /// on this thread will use), the effective ISA, the oneDNN and engine versions. Never throws.
  static RunConditions current();
};

/// The numerics version of lenetlab's engine (nn/, optim/, train/): "1" is the engine up to and
/// including efcfb97 and everything bit-identical to it. Bump it with any change that alters a
/// result bit (a faster kernel with another reduction order, a new initialisation draw order), and
/// re-run the recipes; checkpoints of another engine version are then refused on resume.
inline constexpr const char* kEngineVersion = "1";

/// kEngineVersion, the engine version of this build.
const char* current_engine_version();

/// The engine version a run of `engine` setting (RunConfig::engine) computes with: engine 2 is
/// "2" (nn/micro_batch.hpp), engine 1 is kEngineVersion.
std::string engine_version_of(int engine);

/// Whether results of `engine_version` are the same for any thread count (engine 2): the thread
/// count is then no condition of its runs.
bool thread_invariant(const std::string& engine_version);

/// The conditions that differ between `recorded` and `current`, as "threads 1 (now 2)", "ISA avx2
/// (now avx512_core)", ...; empty when a run recorded under `recorded` continues bit for bit under
/// `current`. engine_commit is never compared, nor the thread count when both engine versions are
/// thread-invariant (thread_invariant).
std::vector<std::string> condition_differences(const RunConditions& recorded,
                                               const RunConditions& current);

}  // namespace lenetlab
