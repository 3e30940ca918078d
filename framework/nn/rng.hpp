// Deterministic random numbers for a run. Every random number of a run (initialisation, validation
// split, shuffling, dropout masks) comes from a stream derived from the run's recorded seed, so a
// run is repeatable bit for bit on any platform (no std:: distributions, whose algorithms are
// implementation-defined).
#pragma once

#include <array>
#include <cstdint>
#include <utility>
#include <vector>

namespace lenetlab {

/// SplitMix64 step (Steele, Lea, Flood 2014); used to expand seeds.
inline uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

/// Independent streams of one run's seed (augment: seeded per image, train/distortion.hpp).
enum class RngStream : uint64_t { init = 1, split = 2, shuffle = 3, dropout = 4, augment = 5 };

/// xoshiro256** 1.0 (Blackman & Vigna 2018). Not thread-safe; one instance per user.
class Rng {
 public:
  Rng(uint64_t seed, RngStream stream) {
    uint64_t s = seed ^ (static_cast<uint64_t>(stream) * 0xD1B54A32D192ED03ULL);
    for (auto& word : s_) word = splitmix64(s);
  }

  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  /// Uniform in [0, 1) with 24 random bits (exactly representable as float).
  float uniform_float() { return static_cast<float>(next() >> 40) * 0x1.0p-24f; }
  /// Uniform in [0, 1) with 53 random bits.
  double uniform_double() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  /// Uniform integer in [0, n) by Lemire's multiply-shift (negligible bias for n << 2^64).
  uint64_t below(uint64_t n) {
    __extension__ using u128 = unsigned __int128;
    return static_cast<uint64_t>((static_cast<u128>(next()) * n) >> 64);
  }

  /// The 256-bit generator state (for checkpoints) and its restoration.
  std::array<uint64_t, 4> state() const { return {s_[0], s_[1], s_[2], s_[3]}; }
  void set_state(const std::array<uint64_t, 4>& s) {
    for (int i = 0; i < 4; ++i) s_[i] = s[i];
  }

  /// Fisher-Yates shuffle (Knuth, TAOCP vol. 2, algorithm P).
  template <typename T>
  void shuffle(std::vector<T>& v) {
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[below(i)]);
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace lenetlab
