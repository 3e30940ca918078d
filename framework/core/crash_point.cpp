#include "core/crash_point.hpp"

#include <signal.h>

#include <atomic>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace lenetlab {
namespace {

struct CrashPlan {
  bool enabled = false;
  std::string kind;  // empty: any kind
  long target = 0;
};

CrashPlan parse_plan() {
  CrashPlan plan;
  const char* env = std::getenv("LENETLAB_CRASH_AT");
  if (!env || !*env) return plan;
  std::string_view text(env);
  const auto colon = text.rfind(':');
  std::string_view number = text;
  if (colon != std::string_view::npos) {
    plan.kind = std::string(text.substr(0, colon));
    number = text.substr(colon + 1);
  }
  long n = 0;
  const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), n);
  if (ec != std::errc() || end != number.data() + number.size() || n < 1) {
    std::fprintf(stderr, "lenetlab: ignoring LENETLAB_CRASH_AT=%s (expected N or KIND:N, N >= 1)\n",
                 env);
    return plan;
  }
  plan.enabled = true;
  plan.target = n;
  return plan;
}

}  // namespace

void crash_point(const char* kind) {
  static const CrashPlan plan = parse_plan();
  static std::atomic<long> passes{0};
  if (!plan.enabled) return;
  if (!plan.kind.empty() && plan.kind != kind) return;
  if (passes.fetch_add(1) + 1 == plan.target) raise(SIGKILL);
}

}  // namespace lenetlab
