#include "core/environment.hpp"

#include "git_commit.inc"  // LENETLAB_GIT_COMMIT, generated at build time

#include <unistd.h>

#include <dnnl.hpp>
#include <fstream>
#include <string>
#include <tbb/version.h>

namespace lenetlab {

namespace {

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) {
        auto value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(' '));
        return value;
      }
    }
  }
  return "unknown";
}

std::string isa_name(dnnl::cpu_isa isa) {
  using dnnl::cpu_isa;
  switch (isa) {
    case cpu_isa::sse41:
      return "sse41";
    case cpu_isa::avx:
      return "avx";
    case cpu_isa::avx2:
      return "avx2";
    case cpu_isa::avx2_vnni:
      return "avx2_vnni";
    case cpu_isa::avx512_mic:
      return "avx512_mic";
    case cpu_isa::avx512_mic_4ops:
      return "avx512_mic_4ops";
    case cpu_isa::avx512_core:
      return "avx512_core";
    case cpu_isa::avx512_core_vnni:
      return "avx512_core_vnni";
    case cpu_isa::avx512_core_bf16:
      return "avx512_core_bf16";
    case cpu_isa::avx512_core_amx:
      return "avx512_core_amx";
    case cpu_isa::all:
      return "all";
    default:
      return "isa_" + std::to_string(static_cast<int>(isa));
  }
}

}  // namespace

Environment capture_environment(int threads) {
  Environment env;
  char host[256] = {0};
  env.host = gethostname(host, sizeof host - 1) == 0 ? host : "unknown";
  env.cpu_model = cpu_model();
  env.isa = isa_name(dnnl::get_effective_cpu_isa());
  const dnnl_version_t* v = dnnl_version();
  env.onednn_version = std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
                       std::to_string(v->patch) + " (" + v->hash + ", " +
                       (v->cpu_runtime == DNNL_RUNTIME_OMP ? "OMP" : "other") + " runtime)";
  env.tbb_version = TBB_VERSION_STRING;
#if defined(__clang__)
  env.compiler = std::string("Clang ") + __clang_version__;
#elif defined(__GNUC__)
  env.compiler = std::string("GCC ") + __VERSION__;
#else
  env.compiler = "unknown";
#endif
  env.build_type = LENETLAB_BUILD_TYPE;
  env.git_commit = LENETLAB_GIT_COMMIT;
  env.threads = threads;
  return env;
}

}  // namespace lenetlab
