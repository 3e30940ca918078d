// Layer base class of the training engine. A layer owns its parameters (with their gradients) and,
// for every batch size it is prepared for, the oneDNN primitives and the dst / diff_dst buffers of
// that batch size. Tensors between layers are f32 of shape (N, C, H, W), or (N, K) after flatten
// and dense, in the layout the layer that writes them chooses (often channel-blocked, nChw16c or
// nChw8c, after a convolution); a layer reorders only where its primitive needs another layout
// (Plan, src_layouts). Parameters and their gradients are plain (OIHW, OI, X).
//
// Life cycle (driven by nn::Network):
//   1. constructor: shapes are checked (RunError with the layer's file:line on mismatch),
//      parameters allocated and initialised;
//   2. prepare(N, src, diff_src): primitives for batch size N are created once (never per batch);
//   3. forward(N, training) / backward(N) execute them on the network's stream.
// Not thread-safe: one run (one thread) owns a network. Engine overview: framework/nn/README.md.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <dnnl.hpp>

#include "config/architecture.hpp"
#include "core/parallel.hpp"
#include "nn/window_pool.hpp"

namespace lenetlab {

class Rng;

/// Shape of one image's activation: (C, H, W) for feature maps, (K, 1, 1) with flat=true for
/// vectors.
struct Shape {
  int c = 0, h = 1, w = 1;
  bool flat = false;
  int64_t size() const { return int64_t{c} * h * w; }
  /// oneDNN dims for batch size n: {n, c, h, w} or {n, c}.
  dnnl::memory::dims dims(int n) const;
  dnnl::memory::format_tag tag() const;
  std::string str() const;
};

/// A parameter tensor with its gradient, both plain f32 of `size` elements (layout documented by
/// the owning layer: conv weights OIHW, dense weights OI, vectors X).
struct Param {
  std::string name;         ///< e.g. "conv1.weights".
  dnnl::memory data;        ///< value.
  dnnl::memory grad;        ///< gradient of the mean batch loss (empty for non-trainable).
  std::vector<float> mask;  ///< optional fixed 0/1 mask (C3 connection map); empty = none.
  bool trainable = true;    ///< false for batch-norm running statistics.
  int64_t size = 0;
  float* value() const { return static_cast<float*>(data.get_data_handle()); }
  float* gradient() const { return static_cast<float*>(grad.get_data_handle()); }
  /// Number of free parameters: mask non-zeros when masked, else size.
  int64_t count() const;
};

/// One primitive with its arguments bound at preparation time.
struct Step {
  dnnl::primitive primitive;
  std::unordered_map<int, dnnl::memory> args;
  dnnl::memory::desc scratchpad;  ///< user scratchpad this primitive needs (may be zero-sized).
};

/// Per-run context shared by all layers of a network: oneDNN's engine and stream, and the
/// instruction set of the hand-written poolings, chosen once when the run's context is made.
struct Context {
  /// Throws RunError when the CPU cannot run `window_isa` (window_isa_supported).
  explicit Context(WindowIsa window_isa = best_window_isa());

  /// The hand-written poolings' instructions (PoolLayer copies it into each WindowPool). Either
  /// gives the same bits; tests make a context of each to check that.
  const WindowIsa window_isa;
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  /// Attribute with scratchpad_mode::user (oneDNN notes, pitfall 3: never the global scratchpad).
  dnnl::primitive_attr attr() const;
  /// Steps whose scratchpad the network binds (registered by Layer::prepare from each plan's
  /// lists).
  std::vector<Step*> steps;
  void execute(Step& step) {
    step.primitive.execute(stream, step.args);
    stream.wait();
  }
};

/// What make_layer hands every layer's constructor (one type, so that a new layer kind needs no
/// new make_layer signature).
struct LayerArgs {
  Context& ctx;
  const LayerSpec& spec;
  std::string name;       ///< e.g. "conv1" (kind and its 1-based count in the architecture)
  int index = 0;          ///< position in the architecture, 0-based
  Shape in;               ///< one image's input shape
  InitKind default_init;  ///< the architecture's initialiser (a spec's own init overrides it)
  Rng& init_rng;          ///< the run's init stream: weights are drawn in layer order
  uint64_t seed = 0;      ///< the run's seed (dropout derives its stream from it and index)
};

class Layer {
 public:
  /// Primitives and buffers of one batch size; layers derive their own plan type from it.
  /// dst / diff_dst may be in a blocked layout chosen by oneDNN (e.g. nChw16c after a convolution);
  /// the next layer takes whatever layout it gets and reorders only where its primitive needs
  /// another. train / infer / bwd are executed in order by the default forward()/backward().
  struct Plan {
    virtual ~Plan() = default;
    dnnl::memory src, diff_src, dst, diff_dst;
    std::vector<Step> train, infer, bwd;
  };

  explicit Layer(const LayerArgs& a) : spec_(a.spec), name_(a.name), in_(a.in) {}
  virtual ~Layer() = default;
  Layer(const Layer&) = delete;
  Layer& operator=(const Layer&) = delete;

  const std::string& name() const { return name_; }
  const LayerSpec& spec() const { return spec_; }
  Shape in_shape() const { return in_; }
  Shape out_shape() const { return out_; }
  std::vector<Param>& params() { return params_; }
  /// Forward multiply-accumulates per image (conv and dense layers; 0 for the others).
  virtual int64_t macs() const { return 0; }
  /// The layer's own random stream (dropout masks), or null; exposed for checkpoints.
  virtual Rng* rng() { return nullptr; }

  /// How much of a following element-wise activation a layer took over (fuse()).
  enum class Fusion {
    none,     ///< the activation runs its own forward and backward
    forward,  ///< a post-op of this layer's forward; the activation's backward still runs
    forward_and_backward,  ///< this layer's forward and backward primitives both apply it
  };
  /// Fuses the element-wise activation `post_ops` (see ActivationLayer::post_ops) into this layer:
  /// dst = activation(layer(src)) in one pass, no extra read and write of dst. Call before
  /// prepare(). The default takes nothing; convolution and dense layers take the forward (oneDNN
  /// post-ops), batch norm a relu forward and backward (oneDNN fuse_norm_relu).
  virtual Fusion fuse(const dnnl::post_ops& post_ops) {
    (void)post_ops;
    return Fusion::none;
  }

  /// Layouts in which this layer's primitives read src and write diff_src for batch size n, so that
  /// a layer before it that is free to choose its dst and diff_dst layouts can give them without a
  /// reorder (PoolLayer::prefer_dst_layouts). Empty descriptors: no preference (the default).
  struct SrcLayouts {
    dnnl::memory::desc src, diff_src;
  };
  virtual SrcLayouts src_layouts(Context& ctx, int n) {
    (void)ctx;
    (void)n;
    return {};
  }

  /// Creates the primitives and buffers for batch size n. `src` is the previous layer's dst (or the
  /// network input); `diff_src` the previous layer's diff_dst, or an empty memory for the first
  /// layer (backward-data is then skipped: oneDNN notes, conv bwd-data for IC=1 costs 13x the
  /// forward).
  void prepare(Context& ctx, int n, const dnnl::memory& src, const dnnl::memory& diff_src);

  /// dst / diff_dst of batch size n (after prepare).
  const dnnl::memory& dst(int n) const { return plans_.at(n)->dst; }
  const dnnl::memory& diff_dst(int n) const { return plans_.at(n)->diff_dst; }
  /// diff_src of batch size n: the previous layer's diff_dst, empty for the first layer.
  const dnnl::memory& diff_src(int n) const { return plans_.at(n)->diff_src; }

  /// Forward pass; training selects batch statistics (BN) and dropout masks.
  virtual void forward(Context& ctx, int n, bool training);
  /// Backward pass: computes parameter gradients and, if the layer has a diff_src, diff_src.
  virtual void backward(Context& ctx, int n);

  /// Copies `m` (batch n, logical shape `shape`, any layout) into a plain NCHW / NC vector.
  static std::vector<float> to_plain(Context& ctx, const dnnl::memory& m, int n, Shape shape);
  /// Writes plain NCHW / NC values into `m` (any layout).
  static void from_plain(Context& ctx, const std::vector<float>& values, const dnnl::memory& m,
                         int n, Shape shape);

 protected:
  /// Subclasses create their primitives into a Plan (a subclass of Plan with their steps).
  virtual std::unique_ptr<Plan> make_plan(Context& ctx, int n, const dnnl::memory& src,
                                          const dnnl::memory& diff_src) = 0;
  template <typename P>
  P& plan(int n) {
    return static_cast<P&>(*plans_.at(n));
  }
  /// Adds a parameter of `size` floats (zero-filled) with a gradient when trainable.
  Param& add_param(Context& ctx, const std::string& suffix, int64_t size, bool trainable);
  /// Plain memory for (n, shape), zero-filled (see the descriptor overload).
  dnnl::memory make_memory(Context& ctx, int n, Shape shape);
  /// Memory of the given descriptor for the plan being made, zero-filled when new. The k-th buffer
  /// a plan asks for shares its bytes with the k-th buffer of the layer's other plans when the
  /// layouts are the same but for the batch size N, the outermost dimension of every activation
  /// layout here: the smaller tensor is then a prefix of the larger, its padding (of blocked
  /// layouts) at the same places, still zero. Plans run one at a time and write every buffer
  /// before reading it within a step, so a run keeps one set of activation buffers instead of one
  /// per batch size (full batch, training tail, test tail).
  dnnl::memory make_memory(Context& ctx, const dnnl::memory::desc& desc);
  /// `from` itself when it already has layout `desc`; otherwise a new memory of `desc` filled by a
  /// reorder appended to `steps` (to run before the primitive that reads it).
  dnnl::memory convert(Context& ctx, const dnnl::memory& from, const dnnl::memory::desc& desc,
                       std::vector<Step>& steps);
  /// `to` itself when it already has layout `desc`; otherwise a new memory of `desc` for a
  /// primitive to write, and a reorder new -> `to` appended to `after` (to run after that
  /// primitive).
  dnnl::memory convert_back(Context& ctx, const dnnl::memory& to, const dnnl::memory::desc& desc,
                            std::vector<Step>& after);
  /// Plain descriptor (NCHW or NC) of batch n.
  static dnnl::memory::desc plain_desc(int n, Shape shape);
  /// ctx.attr() plus the fused post-ops, for the forward primitive of a layer that accepts fuse().
  dnnl::primitive_attr forward_attr(const Context& ctx) const;

  LayerSpec spec_;
  std::string name_;
  Shape in_, out_;
  std::vector<Param> params_;
  std::map<int, std::unique_ptr<Plan>> plans_;
  dnnl::post_ops post_ops_;  ///< fused activation (empty: none)

 private:
  std::vector<dnnl::memory> buffers_;  ///< k-th buffer of the largest plan so far, per k
  size_t next_buffer_ = 0;             ///< k of the next make_memory() of the plan being made
};

/// Builds the layer for `spec` on input shape `in` and initialises its parameters from `rng`.
/// Throws RunError "<file:line:col>: <layer>: ..." when the shape does not fit.
/// `seed` is the run's seed (dropout masks derive their stream from it and the layer index).
std::unique_ptr<Layer> make_layer(Context& ctx, const LayerSpec& spec, const std::string& name,
                                  int index, Shape in, InitKind default_init, Rng& init_rng,
                                  uint64_t seed);

}  // namespace lenetlab
