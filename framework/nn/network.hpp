// A network built from an ArchSpec: the layer stack, its oneDNN context (engine, stream, user-owned
// scratchpad), and the softmax cross-entropy loss. One network per run, used by one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config/architecture.hpp"
#include "nn/layer.hpp"

namespace lenetlab {

class PoolLayer;

/// Sums over one batch.
struct BatchLoss {
  double loss_sum = 0;  ///< sum over the batch of -log softmax(logits)[label] (nats).
  int64_t correct = 0;  ///< images whose arg-max class (lowest index on ties) equals the label.
};

class Network {
 public:
  /// Builds every layer (shape checks raise RunError with the YAML position) and initialises the
  /// parameters from the run's init stream. Must be called on the thread that will run it, after
  /// the OpenMP thread count is set (oneDNN notes: the count at primitive creation is the one
  /// used). `window_isa`: the hand-written poolings' instructions (Context; the same bits with
  /// either); throws RunError when the CPU lacks them.
  Network(const ArchSpec& arch, uint64_t seed, WindowIsa window_isa = best_window_isa());
  ~Network();
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  /// Creates the primitives for batch size n (once; later calls are no-ops). Each distinct batch
  /// size (the training batch, the tail batch, evaluation batches) has its own primitive set,
  /// because a oneDNN primitive is fixed to its shapes (oneDNN notes, pitfall 1).
  void prepare(int n);

  /// Input buffer of batch size n: (n, C, H, W) f32, NCHW. Valid after prepare(n).
  float* input(int n);
  Shape input_shape() const { return input_shape_; }
  int num_classes() const { return num_classes_; }

  /// Runs every layer forward. Returns the log-probabilities (n, classes), row-major, valid until
  /// the next forward of any batch size: the plans of all batch sizes share their activation
  /// buffers (Layer::make_memory), so forward(n), loss(n), backward(n) go together, in order.
  const float* forward(int n, bool training);
  /// Forward through layers [begin, end) only (engine 2 stops at each batch norm).
  void forward(int n, bool training, size_t begin, size_t end);
  /// Softmax cross-entropy of the last forward against labels (n values in [0, classes)). When
  /// `gradient`, writes d(mean loss)/d(logits) = (softmax - onehot) / mean_over into the output
  /// layer: the gradient of the mean loss over mean_over images (0: n, this batch; engine 2 gives
  /// its whole batch, of which these n images are a micro-batch).
  BatchLoss loss(int n, const uint8_t* labels, bool gradient, int mean_over = 0);
  /// Backward through every layer; parameter gradients are of the mean batch loss.
  void backward(int n);
  /// Backward through layers [begin, end) only, the last first.
  void backward(int n, size_t begin, size_t end);

  /// Engine 2 (nn/micro_batch.hpp), before the first prepare: every parameter value of this
  /// network is `master`'s (the same memory; gradients stay this network's own).
  void share_values(Network& master);
  /// Engine 2, before the first prepare: batch norms in whole-batch mode (BatchNormLayer).
  void set_whole_batch();
  /// Engine 2: the dropout layers' per-image keys for the next training forward (DropoutLayer).
  void set_image_keys(int epoch, const int64_t* keys);

  /// All parameters in layer order (trainable and running statistics).
  std::vector<Param*> params();
  const std::vector<std::unique_ptr<Layer>>& layers() const { return layers_; }
  Context& context() { return *ctx_; }

  /// Parameters, batch-norm running statistics included, masked (C3) weights excluded.
  int64_t parameter_count() const;
  /// Parameters without the running statistics and masked weights.
  int64_t trainable_parameter_count() const;
  /// Forward multiply-accumulates per image of the conv and dense layers.
  int64_t macs_per_image() const;

  /// Copy of every parameter value (for restore_best_weights).
  std::vector<std::vector<float>> snapshot();
  void restore(const std::vector<std::vector<float>>& values);
  /// XXH3-64 (hex) over every parameter value in layer order.
  std::string weights_hash();

 private:
  void bind_scratchpad();
  /// Tells the pooling layers_[i] the layouts the layer reading its dst wants for batch n.
  void prefer_layouts(PoolLayer& pool, size_t i, int n);

  std::unique_ptr<Context> ctx_;
  std::vector<std::unique_ptr<Layer>> layers_;
  Shape input_shape_;
  int num_classes_ = 0;
  std::map<int, dnnl::memory> inputs_;
  std::vector<uint8_t> scratchpad_;
};

}  // namespace lenetlab
