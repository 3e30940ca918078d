#include "nn/init.hpp"

#include <cmath>

#include "nn/rng.hpp"

namespace lenetlab {

double init_limit(InitKind kind, double fan_in, double fan_out) {
  switch (kind) {
    case InitKind::glorot_uniform:
      return std::sqrt(6.0 / (fan_in + fan_out));
    case InitKind::he_uniform:
      return std::sqrt(6.0 / fan_in);
    case InitKind::lecun_uniform_1998:
      return 2.4 / fan_in;
    case InitKind::kaiming_uniform_torch:
      return 1.0 / std::sqrt(fan_in);
  }
  return 0.0;
}

void init_uniform(float* w, int64_t n, double limit, Rng& rng, const float* mask) {
  for (int64_t i = 0; i < n; ++i) {
    const double u = rng.uniform_double();
    const float v = static_cast<float>((2.0 * u - 1.0) * limit);
    w[i] = mask ? v * mask[i] : v;
  }
}

}  // namespace lenetlab
