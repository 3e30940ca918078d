// Distortions (data/augment.hpp) against hand-computed small images: translations, a shear of a
// known point, scaling and squeezing of a single pixel with its bilinear neighbours, the Gaussian
// kernel and the smoothed field of an impulse (Simard et al. 2003 sec. 2), and the identity bit
// for bit.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "data/augment.hpp"

namespace lenetlab {
namespace {

/// 5x5 image with pixel (r, c) = 10 r + c + 1 (all distinct, none 0).
std::vector<uint8_t> ramp5() {
  std::vector<uint8_t> img(25);
  for (int r = 0; r < 5; ++r)
    for (int c = 0; c < 5; ++c) img[size_t(r * 5 + c)] = static_cast<uint8_t>(10 * r + c + 1);
  return img;
}

/// 5x5 image, 0 but for pixel (r, c) = 200.
std::vector<uint8_t> dot5(int r, int c) {
  std::vector<uint8_t> img(25, 0);
  img[size_t(r * 5 + c)] = 200;
  return img;
}

std::vector<float> distort(const std::vector<uint8_t>& src, int n, const AffineDistortion& a,
                           const DisplacementField* field = nullptr) {
  std::vector<float> dst(src.size());
  distort_image(src.data(), n, n, a, field, dst.data());
  return dst;
}

float at(const std::vector<float>& img, int r, int c) { return img[size_t(r * 5 + c)]; }

TEST_CASE("augment: a translation by one pixel right and one up moves every pixel, background 0") {
  const auto src = ramp5();
  const auto right = distort(src, 5, AffineDistortion::from(1, 0, 0, 0, 0));
  const auto up = distort(src, 5, AffineDistortion::from(0, -1, 0, 0, 0));
  for (int r = 0; r < 5; ++r) {
    for (int c = 0; c < 5; ++c) {
      CHECK(at(right, r, c) == (c == 0 ? 0.0f : float(src[size_t(r * 5 + c - 1)])));
      CHECK(at(up, r, c) == (r == 4 ? 0.0f : float(src[size_t((r + 1) * 5 + c)])));
    }
  }
}

TEST_CASE(
    "augment: a horizontal shear of 0.5 moves the point two rows below the centre one right") {
  // Centre (2, 2); the point (row 4, column 2) is y = +2, so x' = x + 0.5 * 2 = column 3.
  const auto dst = distort(dot5(4, 2), 5, AffineDistortion::from(0, 0, 0, 0, 0.5));
  for (int r = 0; r < 5; ++r)
    for (int c = 0; c < 5; ++c) CHECK(at(dst, r, c) == (r == 4 && c == 3 ? 200.0f : 0.0f));
  // Above the centre the shear goes the other way: (row 0, column 2) -> column 1.
  const auto above = distort(dot5(0, 2), 5, AffineDistortion::from(0, 0, 0, 0, 0.5));
  CHECK(at(above, 0, 1) == 200.0f);
  CHECK(at(above, 0, 2) == 0.0f);
}

TEST_CASE("augment: scaling by 2 about the centre spreads a pixel bilinearly") {
  // scale = 1 doubles both axes: the pixel at (2, 3) (x = +1) lands at (2, 4); (2, 3) reads the
  // source at x = 2.5 (half of it), (1, 4) at y = 1.5 (half), (1, 3) at (2.5, 1.5) (a quarter).
  const auto dst = distort(dot5(2, 3), 5, AffineDistortion::from(0, 0, 1, 0, 0));
  CHECK(at(dst, 2, 4) == 200.0f);
  CHECK(at(dst, 2, 3) == 100.0f);
  CHECK(at(dst, 1, 4) == 100.0f);
  CHECK(at(dst, 3, 4) == 100.0f);
  CHECK(at(dst, 1, 3) == 50.0f);
  CHECK(at(dst, 2, 2) == 0.0f);
}

TEST_CASE("augment: squeezing widens x by (1 + q) and flattens y by 1 / (1 + q)") {
  const AffineDistortion a = AffineDistortion::from(0, 0, 0, 1, 0);
  CHECK(a.sx == 2.0);
  CHECK(a.sy == 0.5);
  // (2, 3) moves to x = +2 (column 4); (4, 2) (y = +2) moves to y = +1 (row 3).
  CHECK(at(distort(dot5(2, 3), 5, a), 2, 4) == 200.0f);
  const auto flat = distort(dot5(4, 2), 5, a);
  CHECK(at(flat, 3, 2) == 200.0f);
  CHECK(at(flat, 4, 2) == 0.0f);  // reads y = 2 + 2 * 2 = 6: outside, background
  CHECK_THROWS(AffineDistortion::from(0, 0, -1, 0, 0));
}

TEST_CASE("augment: bilinear interpolation by hand, 0 outside the image") {
  const auto src = ramp5();
  // (x 1.25, y 0.5): row 0: 0.75 * 2 + 0.25 * 3 = 2.25; row 1: 0.75 * 12 + 0.25 * 13 = 12.25.
  CHECK(sample_bilinear(src.data(), 5, 5, 1.25, 0.5) == doctest::Approx(7.25).epsilon(1e-15));
  CHECK(sample_bilinear(src.data(), 5, 5, 3, 2) == 24.0);
  CHECK(sample_bilinear(src.data(), 5, 5, -0.5, 0) == 0.5);  // half of pixel (0, 0) = 1
  CHECK(sample_bilinear(src.data(), 5, 5, 4.5, 4) == 22.5);  // half of pixel (4, 4) = 45
  CHECK(sample_bilinear(src.data(), 5, 5, -1, 0) == 0.0);
  CHECK(sample_bilinear(src.data(), 5, 5, 7, 2) == 0.0);
}

TEST_CASE("augment: Gaussian kernel of sigma 1 (radius 3, normalised)") {
  const std::vector<double> w = gaussian_kernel(1.0);
  REQUIRE(w.size() == 7);
  // 1 + 2 (e^-0.5 + e^-2 + e^-4.5) = 2.5059498...; the centre weight is its inverse.
  CHECK(w[3] == doctest::Approx(0.399050).epsilon(1e-5));
  CHECK(w[2] == doctest::Approx(0.242036).epsilon(1e-5));
  CHECK(w[0] == w[6]);
  CHECK(gaussian_kernel(4.0).size() == 25);
}

TEST_CASE("augment: the elastic field of an impulse is alpha times the 2-D Gaussian") {
  const int n = 7;
  std::vector<double> uniform(2 * n * n, 0.0);
  uniform[size_t(3 * n + 3)] = 1.0;  // dx at the centre
  const DisplacementField f = elastic_field(n, n, uniform, 2.0, 1.0);
  const std::vector<double> w = gaussian_kernel(1.0);
  for (int r = 0; r < n; ++r) {
    for (int c = 0; c < n; ++c) {
      CHECK(f.dx[size_t(r * n + c)] == doctest::Approx(2 * w[size_t(r)] * w[size_t(c)]));
      CHECK(f.dy[size_t(r * n + c)] == 0.0);
    }
  }
  CHECK_THROWS(elastic_field(n, n, std::vector<double>(3), 2.0, 1.0));
  CHECK_THROWS(elastic_field(n, n, uniform, 2.0, 0.0));
}

TEST_CASE("augment: a constant displacement field of +1 in x reads the pixel to the right") {
  const auto src = ramp5();
  DisplacementField f{5, 5, std::vector<double>(25, 1.0), std::vector<double>(25, 0.0)};
  const auto shifted = distort(src, 5, AffineDistortion{}, &f);
  CHECK(shifted == distort(src, 5, AffineDistortion::from(-1, 0, 0, 0, 0)));
  CHECK(at(shifted, 2, 1) == float(src[2 * 5 + 2]));
  CHECK(at(shifted, 2, 4) == 0.0f);
}

TEST_CASE("augment: zero magnitude is the identity bit for bit") {
  std::vector<uint8_t> src(28 * 28);
  for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<uint8_t>((i * 37 + 11) % 256);
  const DisplacementField zero = elastic_field(28, 28, std::vector<double>(2 * 28 * 28, 0.5), 0, 4);
  std::vector<float> a(src.size()), b(src.size());
  distort_image(src.data(), 28, 28, AffineDistortion::from(0, 0, 0, 0, 0), nullptr, a.data());
  distort_image(src.data(), 28, 28, AffineDistortion{}, &zero, b.data());
  for (size_t i = 0; i < src.size(); ++i) {
    CHECK(a[i] == float(src[i]));
    CHECK(b[i] == float(src[i]));
  }
}

}  // namespace
}  // namespace lenetlab
