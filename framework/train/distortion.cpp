#include "train/distortion.hpp"

#include <array>
#include <optional>
#include <utility>

#include <fmt/format.h>
#include <xxhash.h>

#include "nn/rng.hpp"

namespace lenetlab {

namespace {

/// u uniform in [0, 1) -> uniform in [-range, range).
double symmetric(Rng& rng, double range) { return range * (2 * rng.uniform_double() - 1); }

/// The affine draws of one image (Distorter's draw order); the identity when off.
AffineDistortion draw_affine(Rng& rng, const std::optional<AffineAugment>& ranges) {
  if (!ranges) return {};
  const double tx = symmetric(rng, ranges->translate), ty = symmetric(rng, ranges->translate);
  const double scale = symmetric(rng, ranges->scale), squeeze = symmetric(rng, ranges->squeeze);
  return AffineDistortion::from(tx, ty, scale, squeeze, symmetric(rng, ranges->shear));
}

}  // namespace

Distorter::Distorter(AugmentConfig config, uint64_t seed, int rows, int cols)
    : config_(std::move(config)), seed_(seed), rows_(rows), cols_(cols) {}

uint64_t Distorter::stream_key(uint64_t seed, int epoch, int64_t index) {
  const std::array<uint64_t, 3> words = {seed, static_cast<uint64_t>(epoch),
                                         static_cast<uint64_t>(index)};
  return XXH3_64bits(words.data(), sizeof(words));
}

AffineDistortion Distorter::affine(int epoch, int64_t index) const {
  Rng rng(stream_key(seed_, epoch, index), RngStream::augment);
  return draw_affine(rng, config_.affine);
}

void Distorter::distort(int epoch, int64_t index, const uint8_t* src, float* dst) const {
  Rng rng(stream_key(seed_, epoch, index), RngStream::augment);
  const AffineDistortion affine = draw_affine(rng, config_.affine);
  if (!config_.elastic) {
    distort_image(src, rows_, cols_, affine, nullptr, dst);
    return;
  }
  std::vector<double> uniform(2 * size_t(rows_) * cols_);
  for (double& u : uniform) u = symmetric(rng, 1.0);
  const DisplacementField field =
      elastic_field(rows_, cols_, uniform, config_.elastic->alpha, config_.elastic->sigma);
  distort_image(src, rows_, cols_, affine, &field, dst);
}

std::string epoch_data_hash(const std::vector<int64_t>& order, const RunConfig& config, int epoch) {
  XXH3_state_t* state = XXH3_createState();
  XXH3_64bits_reset(state);
  XXH3_64bits_update(state, order.data(), order.size() * sizeof(int64_t));
  if (config.augment.enabled()) {
    const std::string augment = config.to_json().at("augment").dump();
    const std::array<uint64_t, 2> words = {config.seed, static_cast<uint64_t>(epoch)};
    XXH3_64bits_update(state, augment.data(), augment.size());
    XXH3_64bits_update(state, words.data(), sizeof(words));
  }
  const auto h = XXH3_64bits_digest(state);
  XXH3_freeState(state);
  return fmt::format("{:016x}", static_cast<unsigned long long>(h));
}

}  // namespace lenetlab
