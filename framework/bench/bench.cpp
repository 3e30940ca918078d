// Measurement side of `lenetlab bench`: BenchSession, bench_case, profile_training.
#include "bench/bench.hpp"

#include <fmt/format.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <numeric>
#include <thread>

#include "core/error.hpp"
#include "nn/micro_batch.hpp"
#include "nn/network.hpp"
#include "nn/rng.hpp"
#include "optim/optimizer.hpp"
#include "stats/summary.hpp"
#include "train/metrics.hpp"

namespace lenetlab {

namespace {

using Clock = std::chrono::steady_clock;

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

/// Runs f() on a new thread whose OpenMP thread count is set first, and returns its result; an
/// exception of f is rethrown here.
template <typename F>
auto on_worker(int threads, F&& f) {
  decltype(f()) result{};
  std::exception_ptr error;
  std::thread worker([&] {
    try {
      omp_set_num_threads(threads);  // before any primitive is created on this thread
      result = f();
    } catch (...) {
      error = std::current_exception();
    }
  });
  worker.join();
  if (error) std::rethrow_exception(error);
  return result;
}

void check_settings(int batch_size, int threads, const BenchSettings& s) {
  if (batch_size < 1 || threads < 1 || s.warmup_steps < 0 || s.steps < 1 || s.repetitions < 1)
    throw Error(
        fmt::format("bench: batch size ({}), threads ({}), steps ({}) and repetitions ({}) "
                    "must be at least 1 and warm-up steps ({}) at least 0",
                    batch_size, threads, s.steps, s.repetitions, s.warmup_steps));
  if ((s.engine != 1 && s.engine != 2) || s.micro_batch < 1)
    throw Error(
        fmt::format("bench: engine must be 1 or 2 (found {}) and micro_batch at least 1 "
                    "(found {})",
                    s.engine, s.micro_batch));
}

/// images/s of each of `repetitions` groups of `steps` calls of step().
template <typename Step>
std::vector<double> timed_repetitions(const BenchSettings& s, int batch_size, Step&& step) {
  for (int i = 0; i < s.warmup_steps; ++i) step();
  std::vector<double> rates;
  for (int r = 0; r < s.repetitions; ++r) {
    const auto t0 = Clock::now();
    for (int i = 0; i < s.steps; ++i) step();
    const double seconds = ms_between(t0, Clock::now()) / 1e3;
    rates.push_back(seconds > 0 ? double(s.steps) * batch_size / seconds : 0.0);
  }
  return rates;
}

BenchResult summarize(const ArchSpec& arch, int batch_size, int threads, BenchMode mode,
                      const BenchSettings& s, int64_t macs, std::vector<double> samples) {
  BenchResult r;
  r.architecture = arch.name;
  r.batch_size = batch_size;
  r.threads = threads;
  r.mode = mode;
  r.engine = s.engine;
  r.micro_batch = s.engine == 2 ? s.micro_batch : 0;
  r.warmup_steps = s.warmup_steps;
  r.steps = s.steps;
  r.repetitions = s.repetitions;
  r.macs_per_image = macs;
  r.images_per_second_min = *std::min_element(samples.begin(), samples.end());
  r.images_per_second_max = *std::max_element(samples.begin(), samples.end());
  r.images_per_second_median = stats::median(samples);
  r.samples = std::move(samples);
  return r;
}

// ---- locating a layer's backward primitives among the network's steps --------------------------

dnnl_prop_kind_t prop_kind_of(const dnnl::primitive& p) {
  dnnl_prop_kind_t kind = dnnl_prop_kind_undef;
  if (dnnl_primitive_desc_query(p.get_primitive_desc(), dnnl_query_prop_kind, 0, &kind) !=
      dnnl_success)
    return dnnl_prop_kind_undef;
  return kind;
}

const void* handle_of(const Step& step, int arg) {
  const auto it = step.args.find(arg);
  return it == step.args.end() ? nullptr : it->second.get_data_handle();
}

/// The backward-data and backward-weights primitives of a convolution or dense layer.
struct BackwardSplit {
  size_t layer = 0;
  Step* data = nullptr;
  Step* weights = nullptr;
};

/// Finds, in the steps of a network prepared for one batch size only, the backward-weights
/// primitive of layers[i] (it writes the bias gradient) and its backward-data primitive (it writes
/// layers[i-1]'s diff_dst, directly or through one reorder). Layers without both are left out.
std::vector<BackwardSplit> find_backward_splits(Network& net, int n) {
  std::vector<BackwardSplit> out;
  const auto& layers = net.layers();
  auto& steps = net.context().steps;
  auto is_weighted = [](const Step& s) {
    const auto k = s.primitive.get_kind();
    return k == dnnl::primitive::kind::convolution || k == dnnl::primitive::kind::inner_product;
  };
  for (size_t i = 1; i < layers.size(); ++i) {
    Layer& layer = *layers[i];
    const auto kind = layer.spec().kind;
    if ((kind != LayerKind::conv && kind != LayerKind::dense) || layer.params().size() < 2)
      continue;
    const void* bias_grad = layer.params()[1].gradient();
    const void* target = layers[i - 1]->diff_dst(n).get_data_handle();
    BackwardSplit split{i, nullptr, nullptr};
    for (Step* s : steps) {
      if (!is_weighted(*s)) continue;
      const auto prop = prop_kind_of(s->primitive);
      if (prop == dnnl_backward_weights && handle_of(*s, DNNL_ARG_DIFF_BIAS) == bias_grad)
        split.weights = s;
      if (prop != dnnl_backward_data) continue;
      const void* dx = handle_of(*s, DNNL_ARG_DIFF_SRC);
      bool writes_target = dx == target;
      for (const Step* r : steps)
        if (!writes_target && r->primitive.get_kind() == dnnl::primitive::kind::reorder &&
            handle_of(*r, DNNL_ARG_FROM) == dx && handle_of(*r, DNNL_ARG_TO) == target)
          writes_target = true;
      if (writes_target) split.data = s;
    }
    if (split.data && split.weights) out.push_back(split);
  }
  return out;
}

}  // namespace

// ---- vocabulary: one {enum, name} table each --------------------------------------------------

namespace {

template <typename E>
struct Named {
  E value;
  const char* name;
};

constexpr Named<BenchMode> kBenchModes[] = {{BenchMode::training, "training"},
                                            {BenchMode::inference, "inference"}};
constexpr Named<BenchKind> kBenchKinds[] = {{BenchKind::matrix, "matrix"},
                                            {BenchKind::profile, "profile"}};
constexpr Named<ProfileDirection> kProfileDirections[] = {
    {ProfileDirection::forward, "forward"},
    {ProfileDirection::backward, "backward"},
    {ProfileDirection::backward_data, "backward_data"},
    {ProfileDirection::backward_weights, "backward_weights"},
    {ProfileDirection::backward_other, "backward_other"},
    {ProfileDirection::step, "step"},
    {ProfileDirection::whole, "whole"},
};

template <typename E, size_t N>
const char* name_of(const Named<E> (&table)[N], E value) {
  for (const Named<E>& entry : table)
    if (entry.value == value) return entry.name;
  return "unknown";
}

template <typename E, size_t N>
E value_of(const Named<E> (&table)[N], std::string_view name, const char* what) {
  std::string valid;
  for (const Named<E>& entry : table) {
    if (name == entry.name) return entry.value;
    valid += (valid.empty() ? "" : ", ") + std::string(entry.name);
  }
  throw Error(fmt::format("unknown {} '{}'; expected one of {}", what, name, valid));
}

}  // namespace

const char* to_string(BenchMode mode) { return name_of(kBenchModes, mode); }
const char* to_string(BenchKind kind) { return name_of(kBenchKinds, kind); }
const char* to_string(ProfileDirection direction) { return name_of(kProfileDirections, direction); }
BenchMode bench_mode_from_string(std::string_view name) {
  return value_of(kBenchModes, name, "bench mode");
}
BenchKind bench_kind_from_string(std::string_view name) {
  return value_of(kBenchKinds, name, "bench kind");
}
ProfileDirection profile_direction_from_string(std::string_view name) {
  return value_of(kProfileDirections, name, "profile direction");
}

// ---- measurement ---------------------------------------------------------------------------------

double BenchResult::gflops() const {
  const double factor = mode == BenchMode::training ? 3.0 : 1.0;
  return 2.0 * factor * double(macs_per_image) * images_per_second_median / 1e9;
}

// ---- BenchSession ------------------------------------------------------------------------------

struct BenchSession::Impl {
  Impl(const ImageSet& images, const ArchSpec& arch, uint64_t seed)
      : input(images, arch.input_channels, arch.input_height, arch.input_width, 0.0, 1.0),
        rng(seed, RngStream::shuffle),
        order(static_cast<size_t>(images.n)) {
    std::iota(order.begin(), order.end(), int64_t{0});
    rng.shuffle(order);
  }
  /// The next n image indices of the shuffled order (reshuffled when used up).
  const int64_t* next(int n) {
    if (cursor + static_cast<size_t>(n) > order.size()) {
      rng.shuffle(order);
      cursor = 0;
    }
    const int64_t* first = order.data() + cursor;
    cursor += static_cast<size_t>(n);
    return first;
  }
  /// Engine 2's fill of a batch whose image indices start at `idx`.
  MicroBatchNetwork::Fill fill_from(const int64_t* idx) {
    return [this, idx](int first, int count, float* in, uint8_t* batch_labels) {
      input.fill(in, idx + first, count, batch_labels);
    };
  }
  InputPipeline input;
  Rng rng;
  std::vector<int64_t> order;  ///< training image indices, shuffled
  size_t cursor = 0;
  std::vector<uint8_t> labels;
  std::unique_ptr<Optimizer> optimizer;
};

BenchSession::BenchSession(const ArchSpec& arch, const Dataset& data, int batch_size, uint64_t seed,
                           int engine, int micro_batch, int threads)
    : batch_size_(batch_size) {
  if (batch_size < 1) throw RunError("bench: the batch size must be at least 1");
  if (arch.num_classes != data.num_classes)
    throw RunError(fmt::format("architecture '{}' has {} classes, dataset '{}' has {}", arch.name,
                               arch.num_classes, data.name, data.num_classes));
  if (data.train.n < batch_size)
    throw RunError(fmt::format("dataset '{}' has {} training images, fewer than one batch of {}",
                               data.name, data.train.n, batch_size));
  net_ = std::make_unique<Network>(arch, seed);
  impl_ = std::make_unique<Impl>(data.train, arch, seed);
  if (engine == 2) {
    micro_ = std::make_unique<MicroBatchNetwork>(arch, seed, *net_, micro_batch, threads);
  } else {
    net_->prepare(batch_size);
  }
  impl_->labels.resize(static_cast<size_t>(batch_size));
  std::vector<ParamView> views;
  for (Param* p : net_->params())
    if (p->trainable) views.push_back({p->value(), p->gradient(), p->size});
  impl_->optimizer = make_optimizer(OptimizerConfig{}, std::move(views));  // SGD, lr 0.01
}

BenchSession::~BenchSession() = default;

void BenchSession::fill_next() {
  Impl& s = *impl_;
  s.input.fill(net_->input(batch_size_), s.next(batch_size_), batch_size_, s.labels.data());
}

void BenchSession::loss_with_gradient() { net_->loss(batch_size_, impl_->labels.data(), true); }

void BenchSession::optimizer_step() { impl_->optimizer->step(); }

void BenchSession::train_step() {
  if (micro_) {
    const int64_t* idx = impl_->next(batch_size_);
    micro_->forward_loss(batch_size_, impl_->fill_from(idx), 0, idx);
    micro_->backward(batch_size_);
    optimizer_step();
    return;
  }
  fill_next();
  net_->forward(batch_size_, true);
  loss_with_gradient();
  net_->backward(batch_size_);
  optimizer_step();
}

void BenchSession::infer_step() {
  if (micro_) {
    micro_->infer(batch_size_, impl_->fill_from(impl_->next(batch_size_)),
                  [](int, int, const float*, const uint8_t*) {});
    return;
  }
  fill_next();
  net_->forward(batch_size_, false);
}

// ---- bench_case --------------------------------------------------------------------------------

std::vector<BenchResult> bench_case(const ArchSpec& arch, int batch_size, int threads,
                                    const BenchSettings& settings, const Dataset& data) {
  check_settings(batch_size, threads, settings);
  return on_worker(threads, [&] {
    BenchSession session(arch, data, batch_size, settings.seed, settings.engine,
                         settings.micro_batch, threads);
    const int64_t macs = session.network().macs_per_image();
    std::vector<BenchResult> results;
    results.push_back(
        summarize(arch, batch_size, threads, BenchMode::training, settings, macs,
                  timed_repetitions(settings, batch_size, [&] { session.train_step(); })));
    results.push_back(
        summarize(arch, batch_size, threads, BenchMode::inference, settings, macs,
                  timed_repetitions(settings, batch_size, [&] { session.infer_step(); })));
    return results;
  });
}

// ---- profile_training --------------------------------------------------------------------------

namespace {

/// A profile's parts in step order: data, the forward of each layer, loss, the backward of each
/// layer (last first), optimizer.
struct ProfileParts {
  size_t layers = 0;
  size_t count() const { return 2 * layers + 3; }
  size_t forward(size_t i) const { return 1 + i; }
  size_t loss() const { return 1 + layers; }
  size_t backward(size_t i) const { return 2 + layers + (layers - 1 - i); }
  size_t optimizer() const { return count() - 1; }
};

/// Per repetition, the mean milliseconds per step of each part, of each split layer's backward
/// primitives, and of a whole uninstrumented step.
struct ProfileSamples {
  std::vector<std::vector<double>> part_ms, split_data_ms, split_weights_ms;
  std::vector<double> whole_ms;
};

/// One repetition's instrumented steps, adding each part's time to `acc` (and the splits').
void time_instrumented_steps(BenchSession& session, const std::vector<BackwardSplit>& splits,
                             int steps, const ProfileParts& parts, std::vector<double>& acc,
                             std::vector<double>& acc_data, std::vector<double>& acc_weights) {
  Network& net = session.network();
  Context& ctx = net.context();
  const auto& layers = net.layers();
  const int n = session.batch_size();
  for (int step = 0; step < steps; ++step) {
    auto t = Clock::now();
    auto lap = [&t](double& into) {
      const auto now = Clock::now();
      into += ms_between(t, now);
      t = now;
    };
    session.fill_next();
    lap(acc[0]);
    for (size_t i = 0; i < layers.size(); ++i) {
      layers[i]->forward(ctx, n, true);
      lap(acc[parts.forward(i)]);
    }
    session.loss_with_gradient();
    lap(acc[parts.loss()]);
    for (size_t i = layers.size(); i-- > 0;) {
      layers[i]->backward(ctx, n);
      lap(acc[parts.backward(i)]);
    }
    session.optimizer_step();
    lap(acc[parts.optimizer()]);
    // After the update: what these write is recomputed by the next step before it is read.
    for (size_t k = 0; k < splits.size(); ++k) {
      t = Clock::now();
      ctx.execute(*splits[k].data);
      lap(acc_data[k]);
      ctx.execute(*splits[k].weights);
      lap(acc_weights[k]);
    }
  }
}

ProfileSamples sample_profile(BenchSession& session, const std::vector<BackwardSplit>& splits,
                              const BenchSettings& settings, const ProfileParts& parts) {
  ProfileSamples s;
  s.part_ms.resize(parts.count());
  s.split_data_ms.resize(splits.size());
  s.split_weights_ms.resize(splits.size());
  for (int r = 0; r < settings.repetitions; ++r) {
    std::vector<double> acc(parts.count(), 0.0), acc_data(splits.size(), 0.0),
        acc_weights(splits.size(), 0.0);
    time_instrumented_steps(session, splits, settings.steps, parts, acc, acc_data, acc_weights);
    for (size_t p = 0; p < parts.count(); ++p) s.part_ms[p].push_back(acc[p] / settings.steps);
    for (size_t k = 0; k < splits.size(); ++k) {
      s.split_data_ms[k].push_back(acc_data[k] / settings.steps);
      s.split_weights_ms[k].push_back(acc_weights[k] / settings.steps);
    }
    const auto t0 = Clock::now();
    for (int step = 0; step < settings.steps; ++step) session.train_step();
    s.whole_ms.push_back(ms_between(t0, Clock::now()) / settings.steps);
  }
  return s;
}

/// The profile's rows (medians over repetitions) in step order, with their share of the step.
void add_profile_rows(const Network& net, const std::vector<BackwardSplit>& splits,
                      const ProfileSamples& s, const ProfileParts& parts, ProfileResult& result) {
  using D = ProfileDirection;
  const auto& layers = net.layers();
  auto add = [&](std::string part, D direction, double ms, bool in_sum) {
    result.rows.push_back({std::move(part), direction, ms, 0.0, in_sum});
    if (in_sum) result.sum_of_parts_ms += ms;
  };
  add("data", D::step, stats::median(s.part_ms[0]), true);
  for (size_t i = 0; i < layers.size(); ++i)
    add(layers[i]->name(), D::forward, stats::median(s.part_ms[parts.forward(i)]), true);
  add("loss", D::step, stats::median(s.part_ms[parts.loss()]), true);
  for (size_t i = layers.size(); i-- > 0;) {
    const double backward = stats::median(s.part_ms[parts.backward(i)]);
    add(layers[i]->name(), D::backward, backward, true);
    for (size_t k = 0; k < splits.size(); ++k) {
      if (splits[k].layer != i) continue;
      const double d = stats::median(s.split_data_ms[k]), w = stats::median(s.split_weights_ms[k]);
      add(layers[i]->name(), D::backward_data, d, false);
      add(layers[i]->name(), D::backward_weights, w, false);
      add(layers[i]->name(), D::backward_other, backward - d - w, false);
    }
  }
  add("optimizer", D::step, stats::median(s.part_ms[parts.optimizer()]), true);
  add("step", D::whole, result.whole_step_ms, false);
  for (ProfileRow& row : result.rows)
    row.percent_of_step =
        result.whole_step_ms > 0 ? 100.0 * row.ms_per_step / result.whole_step_ms : 0.0;
}

}  // namespace

ProfileResult profile_training(const ArchSpec& arch, int batch_size, int threads,
                               const BenchSettings& settings, const Dataset& data) {
  check_settings(batch_size, threads, settings);
  if (settings.engine != 1) throw Error(kProfileEngine1Only);
  return on_worker(threads, [&] {
    BenchSession session(arch, data, batch_size, settings.seed);
    const ProfileParts parts{session.network().layers().size()};
    const std::vector<BackwardSplit> splits = find_backward_splits(session.network(), batch_size);
    for (int i = 0; i < std::max(1, settings.warmup_steps); ++i) session.train_step();
    const ProfileSamples samples = sample_profile(session, splits, settings, parts);

    ProfileResult result;
    result.architecture = arch.name;
    result.batch_size = batch_size;
    result.threads = threads;
    result.steps = settings.steps;
    result.repetitions = settings.repetitions;
    result.whole_step_ms = stats::median(samples.whole_ms);
    add_profile_rows(session.network(), splits, samples, parts, result);
    return result;
  });
}

// ---- helpers -----------------------------------------------------------------------------------

Dataset synthetic_dataset(int64_t train_images, int64_t test_images, uint64_t seed) {
  Rng rng(seed, RngStream::init);
  auto make = [&rng](int64_t n) {
    ImageSet set;
    set.n = n;
    set.rows = set.cols = 28;
    set.images.resize(static_cast<size_t>(n) * 28 * 28);
    for (uint8_t& px : set.images) px = static_cast<uint8_t>(rng.next() >> 56);
    set.labels.resize(static_cast<size_t>(n));
    for (uint8_t& label : set.labels) label = static_cast<uint8_t>(rng.below(10));
    return set;
  };
  Dataset d;
  d.name = "synthetic";
  d.sha256 = "synthetic";
  d.num_classes = 10;
  d.train = make(train_images);
  d.test = make(test_images);
  return d;
}

}  // namespace lenetlab
