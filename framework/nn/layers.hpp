// The concrete layers. Each is built by make_layer() from a LayerSpec; see config/architecture.hpp
// for the meaning of each spec field. Shapes are (N, C, H, W) or (N, K), f32, in the layouts the
// layers choose (nn/layer.hpp).
#pragma once

#include <memory>
#include <set>

#include "nn/layer.hpp"
#include "nn/rng.hpp"
#include "nn/window_pool.hpp"

namespace lenetlab {

class ActivationLayer;

/// 2-D convolution with bias (oneDNN convolution_forward / _backward_data / _backward_weights).
/// Params: weights (O, I, K, K) OIHW, bias (O). With a connection map, weights are multiplied by a
/// fixed 0/1 mask at initialisation and the weight gradient is masked after every backward pass, so
/// unconnected weights stay exactly zero under every optimizer (their gradient and state stay
/// zero).
class ConvLayer : public Layer {
 public:
  /// Weights from a.init_rng (a.spec's init, else a.default_init), bias zero.
  explicit ConvLayer(const LayerArgs& a);
  int64_t macs() const override;
  void backward(Context& ctx, int n) override;
  Fusion fuse(const dnnl::post_ops& post_ops) override {
    post_ops_ = post_ops;
    return Fusion::forward;
  }
  /// src: the forward's (e.g. plain NCHW for fewer than 16 input channels, where oneDNN 2.6's
  /// AVX-512 kernel reads the input unblocked); diff_src: the backward-data's (nChw16c there).
  SrcLayouts src_layouts(Context& ctx, int n) override;

 private:
  std::unique_ptr<Plan> make_plan(Context& ctx, int n, const dnnl::memory& src,
                                  const dnnl::memory& diff_src) override;
  /// The primitive descriptors of batch size n, every layout "any" (oneDNN picks).
  dnnl::convolution_forward::primitive_desc forward_pd(Context& ctx, int n) const;
  dnnl::convolution_backward_data::primitive_desc backward_data_pd(
      Context& ctx, int n, const dnnl::convolution_forward::primitive_desc& fwd_pd) const;
  int pad_ = 0;
};

/// Max or average pooling (oneDNN pooling_forward/backward). With non-overlapping windows on a
/// channel-blocked layout (every pooling of the shipped architectures) they are hand-written
/// instead (WindowPool, AVX-512 or SSE2), one pass each way in training and inference, the same
/// bits as oneDNN's (unit tests against it): max pooling (no workspace, no zero-fill) and 2x2
/// average pooling (a trainable one's coefficient and bias in the same pass). Average pooling
/// excludes padding. With spec.pool_trainable (LeNet-5 S2/S4, LeCun 1998 sec. II.B):
/// y[n,c] = coefficient[c] * avg_pool(x)[n,c] + bias[c]; params coefficient (C) init 1, bias (C)
/// init 0.
class PoolLayer : public Layer {
 public:
  explicit PoolLayer(const LayerArgs& a);
  void forward(Context& ctx, int n, bool training) override;
  void backward(Context& ctx, int n) override;
  /// Which passes of its neighbouring activations a pooling took over (absorb_activations).
  struct Absorbed {
    bool before = false, after = false;
    bool before_forward = false;  ///< the before's forward too (a fused scaled tanh's A y pass)
    bool after_forward = false;   ///< the after's first forward pass (a scaled tanh's S x)
  };
  /// For batch size n, makes the backward also apply the derivative of the activation right
  /// before this layer (its dst is this layer's src) and/or right after it (its diff_src would be
  /// this layer's diff_dst), so that they need not run their own pass over the tensor
  /// (ActivationLayer::drop_backward). Only the hand-written poolings can: max pooling a relu
  /// fused before it (diff_src = dy * 0 where the window's maximum is not > 0), average pooling
  /// LeNet's scaled tanh on either side (scaled_tanh_backward on each element, the activation's
  /// own operations); average pooling also takes the forward of a scaled tanh fused into the layer
  /// before it (its remaining pass, y = A t: WindowPool::src_scale) and the first pass of one after
  /// it (S x: WindowPool::dst_scale). Pass only activations whose can_drop_backward(n) holds (null:
  /// none); call after prepare(n). Returns which it took.
  Absorbed absorb_activations(int n, const ActivationLayer* before, const ActivationLayer* after);
  /// The layouts the layer that reads this pooling's dst wants (its src_layouts(), through
  /// element-wise activations in between, which keep the layout they get): when that is plain
  /// NCHW where the pooling computes on channel blocks (a convolution of fewer than 16 input
  /// channels, a flatten), the hand-written pooling writes dst in it directly and reads diff_dst
  /// in `wanted.diff_src` (also plain, or blocked like src), instead of a reorder each way in
  /// the next layer. Values are unchanged: the same operations, only stored elsewhere. Call before
  /// prepare(n).
  void prefer_dst_layouts(int n, const SrcLayouts& wanted) { preferred_[n] = wanted; }

 private:
  std::unique_ptr<Plan> make_plan(Context& ctx, int n, const dnnl::memory& src,
                                  const dnnl::memory& diff_src) override;
  std::map<int, SrcLayouts> preferred_;
};

/// Element-wise activation: relu, tanh, sigmoid on oneDNN eltwise; scaled_tanh
/// y = 1.7159 tanh(2a/3) (LeCun 1998, appendix A) as oneDNN eltwise linear/tanh/linear forward and
/// a hand-written backward dy/da = (2/3)(1.7159 - y^2/1.7159).
///
/// Fused (Network does it right after a convolution or dense layer, and for a relu after batch
/// norm), the forward is the previous layer's (post_ops()) and this layer's dst is the previous
/// layer's dst. A relu's forward then executes nothing; after a convolution or dense layer its
/// backward runs in place and takes the derivative from dst (dst > 0, the same mask as src > 0);
/// after batch norm the batch-norm backward applies it too (Fusion::forward_and_backward) and
/// this layer executes nothing at all. A scaled tanh's S x and tanh are the post-ops; its A y
/// stays a pass in place (with it as a third post-op oneDNN 2.6 computes other values), and its
/// backward runs in place. Each fusion gives the same bits as the unfused passes (oneDNN's post-ops
/// run the same jit code as its eltwise primitive; checked on every shipped architecture at 1 and
/// 2 threads, and by unit tests). tanh and sigmoid are not fused (not checked).
class ActivationLayer : public Layer {
 public:
  explicit ActivationLayer(const LayerArgs& a);
  void backward(Context& ctx, int n) override;
  /// The activation as a oneDNN eltwise post-op, for the previous layer (relu: see fusable()).
  dnnl::post_ops post_ops() const;
  /// Whether fusing keeps the values bit for bit (relu and scaled_tanh, see above).
  bool fusable() const {
    return spec_.activation == ActivationKind::relu ||
           spec_.activation == ActivationKind::scaled_tanh;
  }
  /// Records what the previous layer took over (its fuse() result; before prepare()).
  void set_fused(Fusion fusion) { fusion_ = fusion; }
  /// Whether batch size n's backward could be left to a neighbouring pooling
  /// (PoolLayer::absorb_activations): a relu fused forward into the layer before, its
  /// backward in place (diff_dst is diff_src), or a scaled tanh, with a diff_src to write; and not
  /// already left to another layer.
  bool can_drop_backward(int n) const;
  /// Executes nothing in batch size n's backward (a neighbouring layer applies the derivative).
  void drop_backward(int n) { dropped_backward_.insert(n); }
  /// Executes nothing in batch size n's forward: the next layer, the only reader of dst, applies
  /// what is left (a fused scaled tanh's A y; dst then holds tanh(S x)).
  void drop_forward(int n) { dropped_forward_.insert(n); }
  bool forward_dropped(int n) const { return dropped_forward_.count(n) != 0; }
  /// Leaves batch size n's first forward pass (an unfused scaled tanh's S x, src -> dst) to the
  /// layer before, which writes S x into this layer's dst.
  void drop_first_pass(int n) { first_pass_dropped_.insert(n); }
  bool first_pass_dropped(int n) const { return first_pass_dropped_.count(n) != 0; }
  void forward(Context& ctx, int n, bool training) override;
  bool backward_dropped(int n) const { return dropped_backward_.count(n) != 0; }
  bool fused() const { return fusion_ != Fusion::none; }

 private:
  std::unique_ptr<Plan> make_plan(Context& ctx, int n, const dnnl::memory& src,
                                  const dnnl::memory& diff_src) override;
  Fusion fusion_ = Fusion::none;
  std::set<int> dropped_backward_;    ///< batch sizes whose backward a neighbour does
  std::set<int> dropped_forward_;     ///< batch sizes whose forward the next layer finishes
  std::set<int> first_pass_dropped_;  ///< batch sizes whose first pass the previous layer does
};

/// Batch normalization (Ioffe & Szegedy 2015) on oneDNN, per channel (4-D) or per feature (2-D, run
/// as (N, K, 1, 1)). Params: gamma (C) init 1, beta (C) init 0, moving_mean (C) init 0 and
/// moving_variance (C) init 1 (non-trainable). Training normalises with the batch mean and biased
/// variance and updates moving = momentum * moving + (1 - momentum) * batch (Keras
/// BatchNormalization), the batch variance made unbiased (k / (k - 1), k = N*H*W values per
/// channel; Ioffe & Szegedy 2015 Algorithm 2, as PyTorch); inference uses the moving statistics
/// (use_global_stats). A relu right after a 4-D batch norm is fused into it (oneDNN
/// fuse_norm_relu: the forward writes max(y, 0), the backward masks diff_dst with the forward's
/// workspace bits), one pass over the tensor less each way.
///
/// Whole-batch mode (engine 2, nn/micro_batch.hpp; set before prepare): the batch is split into
/// micro-batches, each on its own copy of the network, and the statistics are those of the whole
/// batch, combined by the caller from each micro-batch's partial sums in a fixed order. Training
/// forward then normalises with the statistics given by set_batch_stats (oneDNN's forward with
/// use_global_stats) and leaves the moving statistics to update_moving_stats; backward is
/// hand-written from the whole batch's sums (set_backward_sums), for M = N*H*W values per channel
/// of the whole batch, xhat = (x - mean) / sqrt(var + epsilon), dy masked by the fused relu:
///   diff_gamma = sum(dy * xhat), diff_beta = sum(dy),
///   diff_src = gamma / sqrt(var + epsilon) * (dy - diff_beta / M - xhat * diff_gamma / M)
/// (Ioffe & Szegedy 2015, sec. 3, the chain rule through the batch mean and variance), with this
/// micro-batch's part of diff_gamma and diff_beta in its own gradients (the caller sums them).
/// The sums walk the tensor in memory order (batch_norm.cpp ChannelLayout), so their order depends
/// on its shape and layout only.
class BatchNormLayer : public Layer {
 public:
  explicit BatchNormLayer(const LayerArgs& a);
  void forward(Context& ctx, int n, bool training) override;
  void backward(Context& ctx, int n) override;
  /// Takes a relu (forward and backward) on (N, C, H, W) input; nothing else.
  Fusion fuse(const dnnl::post_ops& post_ops) override;

  void set_whole_batch() { whole_batch_ = true; }
  bool whole_batch() const { return whole_batch_; }
  /// Whole-batch mode, after the previous layers' forward of batch size n: per channel c, the mean
  /// of this micro-batch's src and the sum of squared deviations from it, in double
  /// (moments[2c], moments[2c + 1]), over its n*H*W values in a fixed order.
  void batch_moments(int n, std::vector<double>& moments) const;
  /// Whole-batch mode: the statistics the next training forward of batch size n normalises with
  /// (C values each; variance biased).
  void set_batch_stats(int n, const std::vector<float>& mean, const std::vector<float>& variance);
  /// moving = momentum * moving + (1 - momentum) * batch, the batch variance made unbiased over
  /// k values per channel (see the class comment).
  void update_moving_stats(const float* mean, const float* variance, int64_t k);
  /// Whole-batch mode, after the next layers' backward of batch size n: per channel, this
  /// micro-batch's sum(dy) and sum(dy * xhat) in double (sums[2c], sums[2c + 1]), kept for this
  /// micro-batch's gamma and beta gradients in the next backward.
  void backward_sums(int n, std::vector<double>& sums);
  /// Whole-batch mode: the whole batch's sums (as backward_sums) and its value count per channel,
  /// for the next backward.
  void set_backward_sums(const std::vector<double>& sums, int64_t count) {
    total_sums_ = sums;
    total_count_ = count;
  }

 private:
  std::unique_ptr<Plan> make_plan(Context& ctx, int n, const dnnl::memory& src,
                                  const dnnl::memory& diff_src) override;
  void whole_batch_backward(int n);
  bool fused_relu_ = false;
  bool whole_batch_ = false;
  std::vector<double> total_sums_;
  std::vector<double> own_sums_;  ///< the last backward_sums
  int64_t total_count_ = 0;
};

/// Inverted dropout (Srivastava et al. 2014): training keeps each unit with probability 1 - rate
/// and scales kept units by 1 / (1 - rate); inference is the identity. Masks come from the run's
/// dropout stream (seed, layer index), in element order.
///
/// Per-image mode (engine 2; set_image_keys before each training forward): image i's mask comes
/// from a stream of its own, Rng(key, RngStream::dropout) with key = splitmix64 of the layer's
/// seed, the epoch and the image's key (its dataset index), drawn over that image's elements in
/// memory order; so a mask does not depend on which batch, micro-batch or thread computes it.
class DropoutLayer : public Layer {
 public:
  /// Masks from the dropout stream of splitmix64(a.seed + a.index).
  explicit DropoutLayer(const LayerArgs& a);
  Rng* rng() override { return &rng_; }
  void forward(Context& ctx, int n, bool training) override;
  void backward(Context& ctx, int n) override;
  /// The keys of the next training forward's n images (valid until then) and the epoch.
  void set_image_keys(int epoch, const int64_t* keys) {
    epoch_ = epoch;
    keys_ = keys;
  }

 private:
  std::unique_ptr<Plan> make_plan(Context& ctx, int n, const dnnl::memory& src,
                                  const dnnl::memory& diff_src) override;
  Rng rng_;
  uint64_t seed_ = 0;  ///< splitmix64(run seed + index), the per-image streams' base
  int epoch_ = 0;
  const int64_t* keys_ = nullptr;
};

/// (N, C, H, W) -> (N, C*H*W): a view of the same buffer when the input is plain NCHW; after a
/// blocked layout (e.g. nChw16c) one reorder to NCHW forward and one back for the gradient.
class FlattenLayer : public Layer {
 public:
  explicit FlattenLayer(const LayerArgs& a);
  /// Plain NCHW both ways: dst and diff_dst are then views of src and diff_src, no copy.
  SrcLayouts src_layouts(Context& ctx, int n) override;

 private:
  std::unique_ptr<Plan> make_plan(Context& ctx, int n, const dnnl::memory& src,
                                  const dnnl::memory& diff_src) override;
};

/// Fully connected layer (oneDNN inner_product_*). Params: weights (units, K) OI, bias (units).
class DenseLayer : public Layer {
 public:
  /// Weights from a.init_rng (a.spec's init, else a.default_init), bias zero.
  explicit DenseLayer(const LayerArgs& a);
  int64_t macs() const override { return in_.size() * out_.c; }
  Fusion fuse(const dnnl::post_ops& post_ops) override {
    post_ops_ = post_ops;
    return Fusion::forward;
  }

 private:
  std::unique_ptr<Plan> make_plan(Context& ctx, int n, const dnnl::memory& src,
                                  const dnnl::memory& diff_src) override;
};

/// Output layer: dst = log-softmax(logits) over classes (oneDNN logsoftmax_forward). Its backward
/// is the fused softmax cross-entropy gradient written by Network::loss into this layer's diff_dst:
/// diff_logits = (softmax - onehot) / N; backward() copies it to diff_src (one reorder step).
class SoftmaxLayer : public Layer {
 public:
  explicit SoftmaxLayer(const LayerArgs& a);

 private:
  std::unique_ptr<Plan> make_plan(Context& ctx, int n, const dnnl::memory& src,
                                  const dnnl::memory& diff_src) override;
};

}  // namespace lenetlab
