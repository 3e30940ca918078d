// Geometric distortions of grey-scale images (data augmentation), as pure functions of the image
// and of explicit distortion parameters; drawing the parameters from a run's seed is train/'s
// (train/distortion.hpp).
//
// - Planar affine distortions: LeCun, Bottou, Bengio, Haffner, "Gradient-based learning applied
//   to document recognition", Proc. IEEE 86(11), 1998, sec. III-B and Fig. 7: random
//   combinations of horizontal and vertical translation, scaling, squeezing (horizontal
//   compression with vertical elongation, or the reverse) and horizontal shearing. The paper gives
//   no ranges (lenetlab's are in config/run_config.hpp AffineAugment) and distorted its training
//   set once (540,000 distorted copies); lenetlab distorts every image anew in every epoch.
// - Elastic distortions: Simard, Steinkraus, Platt, "Best practices for convolutional neural
//   networks applied to visual document analysis", ICDAR 2003, sec. 2: a random displacement
//   field, each component uniform in [-1, 1] per pixel, convolved with a Gaussian of standard
//   deviation sigma (pixels) and scaled by alpha.
//
// Resampling: every output pixel reads the source image at a real-valued position by bilinear
// interpolation (Simard et al. 2003 sec. 2), and positions outside the image read background 0
// (the MNIST background). Pixel values stay in [0, 255] as floats, not rounded.
#pragma once

#include <cstdint>
#include <vector>

namespace lenetlab {

/// One planar affine distortion about the image centre ((cols - 1) / 2, (rows - 1) / 2), in
/// pixels. A point p (x = column, y = row, relative to the centre) of the source moves to
/// t + A p with A = diag(sx, sy) * [[1, shear], [0, 1]]: first the horizontal shear
/// x += shear * y (rows below the centre move right for shear > 0), then the scales, then the
/// translation (tx to the right, ty down). The identity: all zero but sx = sy = 1.
struct AffineDistortion {
  double tx = 0, ty = 0;  ///< translation (pixels)
  double sx = 1, sy = 1;  ///< horizontal and vertical scale factors (> 0)
  double shear = 0;       ///< horizontal shear (pixels of x per pixel of y)

  /// scale multiplies both axes by (1 + scale); squeeze multiplies x by (1 + squeeze) and y by
  /// 1 / (1 + squeeze) (area kept): squeeze > 0 widens and flattens, < 0 narrows and elongates
  /// (LeCun et al. 1998 sec. III-B "squeezing"). Both must be > -1.
  static AffineDistortion from(double tx, double ty, double scale, double squeeze, double shear);
};

/// A displacement field over an image (rows x cols, row-major): the output pixel (r, c) reads the
/// source at (c + dx[r * cols + c], r + dy[r * cols + c]).
struct DisplacementField {
  int rows = 0, cols = 0;
  std::vector<double> dx, dy;
};

/// Simard et al. 2003 sec. 2: `uniform` holds 2 * rows * cols values in [-1, 1] (all dx, then all
/// dy, row-major); each component is convolved with a normalised Gaussian of standard deviation
/// `sigma` pixels (separable, truncated at radius ceil(3 sigma), the field taken as 0 outside the
/// image) and multiplied by `alpha`. alpha = 0 gives a zero field (sigma is then not used).
/// Throws std::invalid_argument when uniform has the wrong size or sigma <= 0 with alpha != 0.
DisplacementField elastic_field(int rows, int cols, const std::vector<double>& uniform,
                                double alpha, double sigma);

/// The normalised 1-D Gaussian kernel of elastic_field: 2 * ceil(3 sigma) + 1 weights
/// exp(-k^2 / (2 sigma^2)) divided by their sum, k = -radius..radius.
std::vector<double> gaussian_kernel(double sigma);

/// Bilinear value of `src` (rows x cols, row-major, uint8) at column x, row y; 0 outside.
/// At integer positions inside the image it is the pixel value exactly.
double sample_bilinear(const uint8_t* src, int rows, int cols, double x, double y);

/// Distorts `src` (rows x cols, uint8) into `dst` (rows x cols floats in [0, 255]): the affine
/// distortion first, then the displacement field (when given) on its result, in one resampling:
/// dst(p) = src(A^-1 (p + d(p) - centre - t) + centre). The identity distortion and a zero (or
/// absent) field give dst == src exactly.
void distort_image(const uint8_t* src, int rows, int cols, const AffineDistortion& affine,
                   const DisplacementField* field, float* dst);

}  // namespace lenetlab
