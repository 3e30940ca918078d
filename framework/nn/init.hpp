// Weight initialisers. Biases start at zero (Keras and LeCun 1998); batch-norm gamma at 1, beta
// at 0.
#pragma once

#include <cstdint>

#include "config/architecture.hpp"

namespace lenetlab {

class Rng;

/// Half-width l of the uniform U(-l, l) used by `kind` for a layer with the given fans:
///   kind                   l                              source
///   glorot_uniform         sqrt(6 / (fan_in + fan_out))   Glorot & Bengio 2010, eq. 16; Keras default
///   he_uniform             sqrt(6 / fan_in)               He et al. 2015, sec. 2.2
///   lecun_uniform_1998     2.4 / fan_in                   LeCun et al. 1998, appendix C
///   kaiming_uniform_torch  1 / sqrt(fan_in)               torch.nn.Conv2d/Linear reset_parameters()
/// fan_in = in_channels * k * k (conv, connected inputs only for C3) or inputs (dense);
/// fan_out = out_channels * k * k or units.
double init_limit(InitKind kind, double fan_in, double fan_out);

/// Fills w[0..n) with U(-limit, limit) from rng (in index order), multiplied by mask when given.
void init_uniform(float* w, int64_t n, double limit, Rng& rng, const float* mask = nullptr);

}  // namespace lenetlab
