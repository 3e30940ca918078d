// Points of the unit cube for sampled searches (sweeps/README.md "Sampled search"): a scrambled
// Sobol' quasi-random sequence and a plain pseudo-random one, both pure functions of their seed.
//
// Sobol' points come from Boost.Random's sobol_engine (gray-code order, Antonov and Saleev 1979;
// Bratley and Fox 1988), whose direction numbers are those of S. Joe and F. Y. Kuo, "Constructing
// Sobol sequences with better two-dimensional projections", SIAM J. Sci. Comput. 30 (2008),
// file new-joe-kuo-6.21201 (up to 3667 dimensions). Boost skips the all-zero first point, so
// point 0 here is the sequence's point 1: (0.5, 0.5, ...).
//
// Scrambling is a random digital shift (L'Ecuyer and Lemieux, "Recent advances in randomized
// quasi-Monte Carlo methods", 2002, sec. 6.2): coordinate d of every point is XOR-ed with one
// 64-bit word drawn for d from the seed. It keeps the net structure of the sequence (every
// elementary interval still holds its share of points) and moves the points off the dyadic grid.
//
// Thread-safety: the functions keep no state.
#pragma once

#include <cstdint>
#include <vector>

namespace lenetlab {

/// Largest number of dimensions of a Sobol' point (the Boost table's size).
inline constexpr int kMaxSobolDimensions = 3667;

/// Points 0 .. count-1 of the unscrambled Sobol' sequence in `dimensions` dimensions (point 0 is
/// the sequence's second point, see above), each coordinate in [0, 1) with 53 bits. Throws
/// lenetlab::Error for dimensions outside [1, kMaxSobolDimensions].
std::vector<std::vector<double>> sobol_points(int dimensions, int count);

/// The same points scrambled by a random digital shift drawn from `seed` (std::mt19937_64, whose
/// output the C++ standard fixes, so the points are the same on every platform).
std::vector<std::vector<double>> scrambled_sobol_points(int dimensions, int count, uint64_t seed);

/// `count` pseudo-random points in [0, 1)^dimensions: std::mt19937_64 seeded with `seed`, point i
/// takes draws i*dimensions .. i*dimensions + dimensions - 1, each mapped to [0, 1) by its top 53
/// bits (not std::uniform_real_distribution, whose algorithm the standard leaves open).
std::vector<std::vector<double>> random_points(int dimensions, int count, uint64_t seed);

}  // namespace lenetlab
