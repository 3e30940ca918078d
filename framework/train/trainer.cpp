#include "train/trainer.hpp"

#include <chrono>
#include <cmath>
#include <numeric>
#include <optional>

#include <fmt/format.h>

#include "core/crash_point.hpp"
#include "core/error.hpp"
#include "nn/network.hpp"
#include "nn/rng.hpp"
#include "optim/optimizer.hpp"
#include "train/checkpoint.hpp"
#include "train/metrics.hpp"

namespace lenetlab {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

/// Keras EarlyStopping: tracks the best monitored value and epochs without improvement.
class EarlyStopping {
 public:
  explicit EarlyStopping(const EarlyStoppingConfig& c) : c_(c) {
    const bool is_accuracy = c.monitor.find("accuracy") != std::string::npos;
    maximize_ = c.mode == "max" || (c.mode == "auto" && is_accuracy);
  }
  /// Returns true when `value` is an improvement (and records it).
  bool update(double value, int epoch) {
    const bool better =
        !best_ || (maximize_ ? value > *best_ + c_.min_delta : value < *best_ - c_.min_delta);
    if (better) {
      best_ = value;
      best_epoch_ = epoch;
      wait_ = 0;
    } else {
      ++wait_;
    }
    return better;
  }
  /// Keras: stop only after a non-improving epoch, once `patience` of them have accumulated.
  bool should_stop() const { return c_.enabled && best_ && wait_ > 0 && wait_ >= c_.patience; }
  void save(TrainState& s) const {
    s.stopper_best = best_;
    s.stopper_best_epoch = best_epoch_;
    s.stopper_wait = wait_;
  }
  void restore(const TrainState& s) {
    best_ = s.stopper_best;
    best_epoch_ = s.stopper_best_epoch;
    wait_ = s.stopper_wait;
  }

 private:
  EarlyStoppingConfig c_;
  bool maximize_ = false;
  std::optional<double> best_;
  int best_epoch_ = 0;
  int wait_ = 0;
};

double monitored(const std::string& monitor, const EpochRecord& e) {
  if (monitor == "val_loss") return e.val_loss.value_or(NAN);
  if (monitor == "val_accuracy") return e.val_accuracy.value_or(NAN);
  if (monitor == "train_accuracy") return e.train_accuracy;
  return e.train_loss;
}

std::vector<Rng*> layer_rngs(Network& net) {
  std::vector<Rng*> rngs;
  for (const auto& layer : net.layers())
    if (Rng* r = layer->rng()) rngs.push_back(r);
  return rngs;
}

/// Loads last.ckpt when it belongs to this run and fits this network; nullopt otherwise.
std::optional<TrainState> resumable_state(const std::filesystem::path& file, const std::string& key,
                                          Network& net, const Optimizer& optimizer) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return std::nullopt;
  try {
    TrainState s = load_checkpoint(file);
    auto params = net.params();
    bool fits = s.run_key == key && s.kind == "last" && s.params.size() == params.size() &&
                s.layer_rngs.size() == layer_rngs(net).size();
    for (size_t i = 0; fits && i < params.size(); ++i)
      fits = int64_t(s.params[i].size()) == params[i]->size;
    if (fits) return s;
  } catch (const Error&) {
  }
  (void)optimizer;
  return std::nullopt;
}

}  // namespace

RunResult train_run(const RunConfig& config, const Dataset& data, TrainObserver& observer,
                    const TrainOptions& options) {
  const std::atomic<bool>* cancel = options.cancel;
  const auto t_run = Clock::now();
  const ArchSpec& arch = config.arch;
  if (arch.num_classes != data.num_classes)
    throw RunError(fmt::format("architecture '{}' has {} classes, dataset '{}' has {}", arch.name,
                               arch.num_classes, data.name, data.num_classes));
  if (config.batch_size <= 0) throw RunError("batch_size must be positive");

  Network net(arch, config.seed);
  const InputPipeline train_input(data.train, arch.input_channels, arch.input_height,
                                  arch.input_width, config.normalize_mean, config.normalize_std);
  const InputPipeline test_input(data.test, arch.input_channels, arch.input_height,
                                 arch.input_width, config.normalize_mean, config.normalize_std);

  // Split: validation indices drawn from the seed's split stream; both parts kept in ascending
  // order.
  int64_t n_all = data.train.n;
  if (config.train_limit > 0) n_all = std::min<int64_t>(n_all, config.train_limit);
  std::vector<int64_t> order(n_all);
  std::iota(order.begin(), order.end(), 0);
  std::vector<int64_t> train_idx, val_idx;
  const auto n_val = static_cast<int64_t>(std::llround(config.validation_split * double(n_all)));
  if (n_val > 0) {
    Rng split_rng(config.seed, RngStream::split);
    split_rng.shuffle(order);
    val_idx.assign(order.begin(), order.begin() + n_val);
    train_idx.assign(order.begin() + n_val, order.end());
    std::sort(val_idx.begin(), val_idx.end());
    std::sort(train_idx.begin(), train_idx.end());
  } else {
    train_idx = std::move(order);
  }
  if (train_idx.empty()) throw RunError("no training images left after the validation split");
  int64_t n_test = data.test.n;
  if (config.test_limit > 0) n_test = std::min<int64_t>(n_test, config.test_limit);
  std::vector<int64_t> test_idx(n_test);
  std::iota(test_idx.begin(), test_idx.end(), 0);

  observer.on_built({net.parameter_count(), net.trainable_parameter_count(), net.macs_per_image()},
                    static_cast<int64_t>(train_idx.size()), static_cast<int64_t>(val_idx.size()));

  std::vector<ParamView> views;
  for (Param* p : net.params())
    if (p->trainable) views.push_back({p->value(), p->gradient(), p->size});
  auto optimizer = make_optimizer(config.optimizer, std::move(views));

  Rng shuffle_rng(config.seed, RngStream::shuffle);
  EarlyStopping stopper(config.early_stopping);
  std::optional<std::vector<std::vector<float>>> best_weights;
  const bool track_best =
      config.early_stopping.enabled && config.early_stopping.restore_best_weights;
  RunResult result;
  std::vector<uint8_t> labels(config.batch_size);
  const int bs = config.batch_size;
  const int64_t n_train = static_cast<int64_t>(train_idx.size());
  const std::string key = config.key();
  const bool checkpoints = !options.checkpoint_dir.empty();
  const auto last_file = options.checkpoint_dir / "last.ckpt";

  int first_epoch = 1;
  if (checkpoints && options.resume) {
    if (auto s = resumable_state(last_file, key, net, *optimizer)) {
      net.restore(s->params);
      optimizer->state() = s->optimizer_state;
      optimizer->set_steps(s->optimizer_steps);
      shuffle_rng.set_state(s->shuffle_rng);
      auto rngs = layer_rngs(net);
      for (size_t i = 0; i < rngs.size(); ++i) rngs[i]->set_state(s->layer_rngs[i]);
      train_idx = s->train_order;
      val_idx = s->val_indices;
      stopper.restore(*s);
      best_weights = s->best_params;
      result.best_val_accuracy = s->best_val_accuracy;
      result.best_epoch = s->best_epoch;
      result.epochs_completed = s->epoch;
      result.resumed_from_epoch = s->epoch;
      first_epoch = s->epoch + 1;
      observer.on_resumed(s->epoch, s->record);
      // Killed after the checkpoint of the last epoch (the loop below then does not run) or of the
      // epoch where early stopping decided to stop: nothing left to train, only the evaluation.
      if (s->epoch < config.epochs && stopper.should_stop()) {
        result.status = RunStatus::stopped_early;
        first_epoch = config.epochs + 1;
      }
    }
  }

  for (int epoch = first_epoch; epoch <= config.epochs; ++epoch) {
    const double learning_rate =
        config.optimizer.learning_rate * config.learning_rate_schedule.factor(epoch);
    optimizer->set_learning_rate(learning_rate);
    if (config.shuffle) shuffle_rng.shuffle(train_idx);
    const auto t_epoch = Clock::now();
    auto t_report = t_epoch;
    double loss_sum = 0;
    int64_t correct = 0, seen = 0;
    for (int64_t start = 0; start < n_train; start += bs) {
      const int n = static_cast<int>(std::min<int64_t>(bs, n_train - start));
      if (n < bs && config.drop_last) break;
      if (cancel && cancel->load(std::memory_order_relaxed)) {
        result.status = RunStatus::interrupted;
        result.error = fmt::format("interrupted during epoch {}", epoch);
        result.seconds = seconds_since(t_run);
        return result;
      }
      if (options.time_limit_seconds > 0 && seconds_since(t_run) > options.time_limit_seconds) {
        result.status = RunStatus::failed;
        result.error = fmt::format("time limit of {:g} s exceeded in epoch {}",
                                   options.time_limit_seconds, epoch);
        result.seconds = seconds_since(t_run);
        return result;
      }
      net.prepare(n);
      train_input.fill(net.input(n), train_idx.data() + start, n, labels.data());
      net.forward(n, true);
      const BatchLoss b = net.loss(n, labels.data(), true);
      if (!std::isfinite(b.loss_sum)) {
        result.status = RunStatus::diverged;
        result.diverged_epoch = epoch;
        result.error = fmt::format("loss became non-finite ({}) in epoch {} at image {} of {}",
                                   b.loss_sum, epoch, start + n, n_train);
        result.epochs_completed = epoch - 1;
        result.seconds = seconds_since(t_run);
        result.weights_hash = net.weights_hash();
        return result;
      }
      net.backward(n);
      optimizer->step();
      crash_point("step");
      loss_sum += b.loss_sum;
      correct += b.correct;
      seen += n;
      if (std::chrono::duration<double>(Clock::now() - t_report).count() >= 0.25) {
        t_report = Clock::now();
        observer.on_batch(epoch, seen, n_train, loss_sum / seen, double(correct) / seen);
      }
    }
    EpochRecord record;
    record.epoch = epoch;
    record.seconds = seconds_since(t_epoch);
    record.train_loss = loss_sum / std::max<int64_t>(seen, 1);
    record.train_accuracy = double(correct) / std::max<int64_t>(seen, 1);
    record.learning_rate = learning_rate;
    record.images_per_second = record.seconds > 0 ? seen / record.seconds : 0.0;
    if (!val_idx.empty()) {
      const EvalMetrics v = evaluate(net, train_input, val_idx, bs);
      record.val_loss = v.loss;
      record.val_accuracy = v.accuracy;
      if (!result.best_val_accuracy || v.accuracy > *result.best_val_accuracy) {
        result.best_val_accuracy = v.accuracy;
        if (!config.early_stopping.enabled) result.best_epoch = epoch;
      }
    }
    result.epochs_completed = epoch;
    bool stop = false;
    if (config.early_stopping.enabled) {
      if (stopper.update(monitored(config.early_stopping.monitor, record), epoch)) {
        result.best_epoch = epoch;
        if (track_best) best_weights = net.snapshot();
      }
      stop = stopper.should_stop() && epoch < config.epochs;
    }
    // Checkpoint first (it carries the record), then the database row: a row in the database
    // always has its checkpoint, so resuming never drops a committed row, and a checkpoint whose
    // row was not committed yet gives its row back on resume (TrainObserver::on_resumed).
    if (checkpoints) {
      TrainState s;
      s.run_key = key;
      s.kind = "last";
      s.epoch = epoch;
      s.params = net.snapshot();
      s.weights_hash = net.weights_hash();
      s.optimizer_steps = optimizer->steps();
      s.optimizer_state = optimizer->state();
      s.shuffle_rng = shuffle_rng.state();
      for (Rng* r : layer_rngs(net)) s.layer_rngs.push_back(r->state());
      s.train_order = train_idx;
      s.val_indices = val_idx;
      stopper.save(s);
      s.best_params = best_weights;
      s.best_val_accuracy = result.best_val_accuracy;
      s.best_epoch = result.best_epoch;
      s.record = record;
      save_checkpoint(last_file, s);
    }
    observer.on_epoch(record);
    crash_point("epoch-committed");
    if (stop) {
      result.status = RunStatus::stopped_early;
      break;
    }
  }
  if (track_best && best_weights) {
    net.restore(*best_weights);
    if (checkpoints) {
      TrainState best;
      best.run_key = key;
      best.kind = "best";
      best.epoch = result.best_epoch.value_or(0);
      best.params = *best_weights;
      best.weights_hash = net.weights_hash();
      save_checkpoint(options.checkpoint_dir / "best.ckpt", best);
    }
  }
  result.test = evaluate(net, test_input, test_idx, bs);
  result.weights_hash = net.weights_hash();
  if (checkpoints) {
    TrainState final_state;
    final_state.run_key = key;
    final_state.kind = "final";
    final_state.epoch = result.epochs_completed;
    final_state.params = net.snapshot();
    final_state.weights_hash = result.weights_hash;
    save_checkpoint(options.checkpoint_dir / "final.ckpt", final_state);
  }
  result.seconds = seconds_since(t_run);
  return result;
}

}  // namespace lenetlab
