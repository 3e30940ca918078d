#include "data/augment.hpp"

#include <cmath>
#include <stdexcept>

namespace lenetlab {

AffineDistortion AffineDistortion::from(double tx, double ty, double scale, double squeeze,
                                        double shear) {
  if (!(scale > -1) || !(squeeze > -1))
    throw std::invalid_argument("affine distortion: scale and squeeze must be > -1");
  AffineDistortion a;
  a.tx = tx;
  a.ty = ty;
  a.sx = (1 + scale) * (1 + squeeze);
  a.sy = (1 + scale) / (1 + squeeze);
  a.shear = shear;
  return a;
}

std::vector<double> gaussian_kernel(double sigma) {
  const int radius = static_cast<int>(std::ceil(3 * sigma));
  std::vector<double> w(static_cast<size_t>(2 * radius + 1));
  double sum = 0;
  for (int k = -radius; k <= radius; ++k) {
    w[size_t(k + radius)] = std::exp(-double(k) * k / (2 * sigma * sigma));
    sum += w[size_t(k + radius)];
  }
  for (double& v : w) v /= sum;
  return w;
}

namespace {

/// Convolves the rows x cols plane `v` with kernel `w` along x (step 1) or y (step cols), reading
/// 0 outside the plane.
std::vector<double> convolve(const std::vector<double>& v, int rows, int cols,
                             const std::vector<double>& w, bool along_x) {
  const int radius = static_cast<int>(w.size() / 2);
  std::vector<double> out(v.size(), 0.0);
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) {
      double s = 0;
      for (int k = -radius; k <= radius; ++k) {
        const int rr = along_x ? r : r + k, cc = along_x ? c + k : c;
        if (rr >= 0 && rr < rows && cc >= 0 && cc < cols)
          s += w[size_t(k + radius)] * v[size_t(rr) * cols + cc];
      }
      out[size_t(r) * cols + c] = s;
    }
  }
  return out;
}

}  // namespace

DisplacementField elastic_field(int rows, int cols, const std::vector<double>& uniform,
                                double alpha, double sigma) {
  const size_t plane = size_t(rows) * cols;
  if (uniform.size() != 2 * plane)
    throw std::invalid_argument("elastic_field: expected 2 * rows * cols uniform values");
  DisplacementField f{rows, cols, std::vector<double>(plane, 0.0), std::vector<double>(plane, 0.0)};
  if (alpha == 0) return f;
  if (!(sigma > 0)) throw std::invalid_argument("elastic_field: sigma must be > 0");
  const std::vector<double> w = gaussian_kernel(sigma);
  for (int component = 0; component < 2; ++component) {
    const std::vector<double> raw(uniform.begin() + long(component * plane),
                                  uniform.begin() + long((component + 1) * plane));
    std::vector<double> smooth = convolve(convolve(raw, rows, cols, w, true), rows, cols, w, false);
    for (double& v : smooth) v *= alpha;
    (component == 0 ? f.dx : f.dy) = std::move(smooth);
  }
  return f;
}

double sample_bilinear(const uint8_t* src, int rows, int cols, double x, double y) {
  const double fx0 = std::floor(x), fy0 = std::floor(y);
  if (fx0 < -1 || fy0 < -1 || fx0 >= cols || fy0 >= rows) return 0.0;
  const int x0 = static_cast<int>(fx0), y0 = static_cast<int>(fy0);
  const double fx = x - fx0, fy = y - fy0;
  const auto at = [&](int r, int c) -> double {
    return (r >= 0 && r < rows && c >= 0 && c < cols) ? src[r * cols + c] : 0.0;
  };
  const double top = (1 - fx) * at(y0, x0) + fx * at(y0, x0 + 1);
  const double bottom = (1 - fx) * at(y0 + 1, x0) + fx * at(y0 + 1, x0 + 1);
  return (1 - fy) * top + fy * bottom;
}

void distort_image(const uint8_t* src, int rows, int cols, const AffineDistortion& a,
                   const DisplacementField* field, float* dst) {
  const double cx = (cols - 1) / 2.0, cy = (rows - 1) / 2.0;
  // A^-1 = [[1/sx, -shear/sy], [0, 1/sy]] for A = [[sx, sx*shear], [0, sy]].
  const double ix = 1 / a.sx, iy = 1 / a.sy, ixy = -a.shear / a.sy;
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) {
      double x = c, y = r;
      if (field != nullptr) {
        x += field->dx[size_t(r) * cols + c];
        y += field->dy[size_t(r) * cols + c];
      }
      const double u = x - cx - a.tx, v = y - cy - a.ty;
      const double sx = ix * u + ixy * v + cx, sy = iy * v + cy;
      dst[r * cols + c] = static_cast<float>(sample_bilinear(src, rows, cols, sx, sy));
    }
  }
}

}  // namespace lenetlab
