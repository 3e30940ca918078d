// Architecture description: an ordered list of layers, loaded from YAML
// (experiments/architectures/*.yaml, format in its README.md) by config/architecture_loader.hpp. Plain data; the engine
// (nn/network.hpp) turns it into oneDNN primitives.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "config/enum_names.hpp"
#include "core/error.hpp"

namespace lenetlab {

/// Kind of one layer. Shapes between layers are (N, C, H, W), or (N, C) after flatten and dense;
/// the engine chooses the memory layouts (nn/layer.hpp).
///
/// Adding a layer kind (4 places): (1) an enumerator here and its row in kLayerKinds; (2) its
/// parameters in architecture_loader.cpp (parse_layer's switch) and its shape and cost in
/// architecture.cpp (walk_layer); (3) the engine's layer class and its case in make_layer
/// (nn/network.cpp); (4) its section in experiments/architectures/README.md. The compiler points
/// at the switches that miss it.
enum class LayerKind {
  /// 2-D convolution with bias, (N, C, H, W) -> (N, filters, H', W').
  conv,
  /// Max or average pooling, optional trainable per-channel coefficient and bias (LeNet-5 S2/S4).
  pool,
  /// Element-wise (ActivationKind).
  activation,
  /// Batch normalization (Ioffe & Szegedy 2015) over C for 4-D, over features for 2-D input.
  batch_norm,
  /// Inverted dropout (Srivastava et al. 2014): keep with probability 1 - rate, scale by
  /// 1 / (1 - rate).
  dropout,
  /// (N, C, H, W) -> (N, C*H*W).
  flatten,
  /// Fully connected (inner product) with bias, (N, K) -> (N, units).
  dense,
  /// Marks the output: softmax over the logits, trained with cross-entropy. Must be last.
  softmax,
};
inline constexpr std::array<EnumName<LayerKind>, 8> kLayerKinds = {{
    {LayerKind::conv, "conv"},
    {LayerKind::pool, "pool"},
    {LayerKind::activation, "activation"},
    {LayerKind::batch_norm, "batch_norm"},
    {LayerKind::dropout, "dropout"},
    {LayerKind::flatten, "flatten"},
    {LayerKind::dense, "dense"},
    {LayerKind::softmax, "softmax"},
}};

/// Element-wise activation of an `activation` layer.
enum class ActivationKind {
  relu,
  tanh,
  sigmoid,
  /// 1.7159 tanh(2a/3) (LeCun et al. 1998, appendix A).
  scaled_tanh,
};
inline constexpr std::array<EnumName<ActivationKind>, 4> kActivationKinds = {{
    {ActivationKind::relu, "relu"},
    {ActivationKind::tanh, "tanh"},
    {ActivationKind::sigmoid, "sigmoid"},
    {ActivationKind::scaled_tanh, "scaled_tanh"},
}};

/// Weight initialisation schemes (bias is always initialised to zero).
enum class InitKind {
  /// U(-l, l), l = sqrt(6 / (fan_in + fan_out)); Keras default (Glorot & Bengio 2010).
  glorot_uniform,
  /// U(-l, l), l = sqrt(6 / fan_in) (He et al. 2015).
  he_uniform,
  /// U(-2.4/fan_in, 2.4/fan_in) (LeCun et al. 1998, appendix C).
  lecun_uniform_1998,
  /// PyTorch default for Conv2d/Linear: kaiming_uniform(a=sqrt(5)) =
  /// U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
  kaiming_uniform_torch,
};
inline constexpr std::array<EnumName<InitKind>, 4> kInitKinds = {{
    {InitKind::glorot_uniform, "glorot_uniform"},
    {InitKind::he_uniform, "he_uniform"},
    {InitKind::lecun_uniform_1998, "lecun_uniform_1998"},
    {InitKind::kaiming_uniform_torch, "kaiming_uniform_torch"},
}};

struct LayerSpec {
  LayerKind kind = LayerKind::conv;
  SourceMark mark;  ///< where the layer was declared (for errors found later, e.g. shapes).

  // conv
  int filters = 0;
  int kernel = 0;  ///< square kernel size (conv and pool).
  int stride = 1;  ///< conv default 1; pool default = kernel.
  /// Explicit zero padding on each side; "same" resolves to kernel/2 (odd kernels only).
  int padding = 0;
  /// Optional partial connectivity (LeNet-5 C3, Table I): connection_map[o] lists the input
  /// channels output channel o sees. Empty = fully connected. Implemented as a fixed 0/1 mask on
  /// the weights.
  std::vector<std::vector<int>> connection_map;

  // pool
  bool pool_max = true;         ///< true: max pooling; false: average pooling (padding excluded).
  bool pool_trainable = false;  ///< LeNet-5 subsampling: y = coefficient[c] * avg + bias[c].

  // activation
  ActivationKind activation = ActivationKind::relu;

  // batch_norm (defaults of Keras BatchNormalization: momentum 0.99, epsilon 1e-3)
  /// running = momentum * running + (1 - momentum) * batch (Keras convention).
  double bn_momentum = 0.99;
  double bn_epsilon = 1e-3;

  // dropout
  double rate = 0.0;  ///< fraction of units dropped during training, in [0, 1).

  // dense
  int units = 0;

  /// Per-layer initialiser; unset = the architecture's default.
  bool has_init = false;
  InitKind init = InitKind::glorot_uniform;
};

/// Output size along one spatial dimension of a convolution or pooling window (oneDNN's formula,
/// no dilation): floor((in + 2 * padding - kernel) / stride) + 1, in 64 bits. Below 1: no fit.
constexpr int64_t conv_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t padding) {
  const int64_t span = in + 2 * padding - kernel;
  return span < 0 ? 0 : span / stride + 1;
}

/// lenetlab's limits on a network, checked when an architecture is loaded: values per image in any
/// layer's output (the engine's shapes are int) and parameters in all (1e8 = 400 MB of float32
/// weights, 1.2 GB with Adam's moments; LeNet-family networks have about 1e5 to 1e6).
inline constexpr int64_t kMaxElementsPerImage = 2147483647;
inline constexpr int64_t kMaxParameters = 100000000;

struct ArchSpec {
  std::string name;         ///< e.g. "lenet-relu".
  std::string description;  ///< one line.
  std::string source;       ///< citation of the paper / tutorial it reproduces.
  std::string file;         ///< path it was loaded from.
  std::string yaml;         ///< verbatim file text (stored with each run for reproducibility).
  int input_channels = 1;
  /// MNIST images (28x28) are zero-padded, centred, to this size (LeNet-5: 32).
  int input_height = 28;
  int input_width = 28;
  int num_classes = 10;
  InitKind init = InitKind::glorot_uniform;  ///< default initialiser of conv/dense weights.
  std::vector<LayerSpec> layers;
  /// Where the input shape was declared (the `input` key, else the file), for errors found later.
  SourceMark input_mark;
};

/// Names of the tables above (the spellings of architecture files).
const char* to_string(LayerKind kind);
const char* to_string(ActivationKind kind);
const char* to_string(InitKind kind);

/// What one image costs in a network built from an ArchSpec, computed from the shapes alone
/// (no oneDNN, no allocation): the same figures as Network::macs_per_image() and
/// Network::parameter_count().
struct ArchCost {
  /// Forward multiply-accumulates per image of the conv (one per connected weight per output
  /// position) and dense (inputs x units) layers.
  int64_t macs_per_image = 0;
  /// Parameters stored by the network: weights (without those a connection_map masks out) and
  /// biases, trainable pooling's coefficients and biases, batch norm's gamma, beta and moving
  /// mean and variance.
  int64_t parameters = 0;
};

/// Walks the layers with their output shapes (in 128-bit arithmetic) and returns the cost.
/// Throws ConfigError at the offending layer's mark (ArchSpec::input_mark for the input) when a
/// layer does not fit its input (a kernel larger than the padded input, a dense layer on an
/// unflattened input, a connection_map naming a missing channel) or when the network exceeds
/// kMaxElementsPerImage or kMaxParameters (counted with masked weights, as they are stored).
/// The architecture loader calls it, so an ArchSpec from load_architecture/parse_architecture
/// (or RunConfig::from_json) never throws here.
ArchCost arch_cost(const ArchSpec& arch);

}  // namespace lenetlab
