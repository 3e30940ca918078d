#include "train/trainer.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/crash_point.hpp"
#include "core/error.hpp"
#include "nn/micro_batch.hpp"
#include "nn/network.hpp"
#include "optim/optimizer.hpp"
#include "train/distortion.hpp"
#include "train/metrics.hpp"

namespace lenetlab {

namespace {

std::vector<Rng*> layer_rngs(Network& net) {
  std::vector<Rng*> rngs;
  for (const auto& layer : net.layers())
    if (Rng* r = layer->rng()) rngs.push_back(r);
  return rngs;
}

/// True when every buffer of `values` has the size of the corresponding one of `like`.
template <typename A, typename B, typename Size>
bool same_sizes(const A& values, const B& like, Size size_of) {
  if (values.size() != like.size()) return false;
  for (size_t i = 0; i < values.size(); ++i)
    if (int64_t(values[i].size()) != int64_t(size_of(like[i]))) return false;
  return true;
}

bool indices_below(const std::vector<int64_t>& indices, int64_t n) {
  return std::all_of(indices.begin(), indices.end(), [n](int64_t i) { return i >= 0 && i < n; });
}

}  // namespace

ResumeRefused::ResumeRefused(int epoch, std::optional<RunConditions> recorded,
                             RunConditions current, const std::vector<std::string>& differences)
    : RunError(fmt::format("cannot resume after epoch {}: its checkpoint was computed with {}",
                           epoch, fmt::join(differences, ", "))),
      epoch_(epoch),
      recorded_(std::move(recorded)),
      current_(std::move(current)) {}

RunResult train_run(const RunConfig& config, const Dataset& data, TrainObserver& observer,
                    const TrainOptions& options) {
  return Trainer(config, data, observer, options).run();
}

Trainer::Trainer(const RunConfig& config, const Dataset& data, TrainObserver& observer,
                 const TrainOptions& options)
    : config_(config),
      data_(data),
      observer_(observer),
      options_(options),
      t_run_(Clock::now()),
      conditions_(RunConditions::current()),
      shuffle_rng_(config.seed, RngStream::shuffle),
      stopper_(config.early_stopping),
      track_best_(config.early_stopping.enabled && config.early_stopping.restore_best_weights) {
  const ArchSpec& arch = config.arch;
  if (arch.num_classes != data.num_classes &&
      !(data.num_classes_from_labels && arch.num_classes > data.num_classes))
    throw RunError(
        fmt::format("architecture '{}' has {} classes, dataset '{}' has {}{}", arch.name,
                    arch.num_classes, data.name, data.num_classes,
                    data.num_classes_from_labels
                        ? " (from its labels; an architecture may declare more, not fewer)"
                        : ""));
  if (!data.train.labelled)
    throw RunError(fmt::format("dataset '{}': its training images have no labels", data.name));
  if (config.batch_size <= 0) throw RunError("batch_size must be positive");
  net_ = std::make_unique<Network>(arch, config.seed);
  if (config.engine == 2) {
    if (config.micro_batch <= 0) throw RunError("micro_batch must be positive");
    micro_ = std::make_unique<MicroBatchNetwork>(arch, config.seed, *net_, config.micro_batch,
                                                 conditions_.threads);
  }
  conditions_.engine_version = engine_version_of(config.engine);
  train_input_ = std::make_unique<InputPipeline>(data.train, arch.input_channels, arch.input_height,
                                                 arch.input_width, config.normalize_mean,
                                                 config.normalize_std);
  test_input_ = std::make_unique<InputPipeline>(data.test, arch.input_channels, arch.input_height,
                                                arch.input_width, config.normalize_mean,
                                                config.normalize_std);
  if (config.augment.enabled())
    distorter_ =
        std::make_unique<Distorter>(config.augment, config.seed, data.train.rows, data.train.cols);
  std::vector<ParamView> views;
  for (Param* p : net_->params())
    if (p->trainable) views.push_back({p->value(), p->gradient(), p->size});
  optimizer_ = make_optimizer(config.optimizer, std::move(views));
  labels_.resize(static_cast<size_t>(config.batch_size));
  key_ = options.run_key.empty() ? config.key() : options.run_key;
}

Trainer::~Trainer() = default;

double Trainer::seconds() const {
  return std::chrono::duration<double>(Clock::now() - t_run_).count();
}

RunResult Trainer::run() {
  split();
  if (!options_.checkpoint_dir.empty()) remove_partial_checkpoints(options_.checkpoint_dir);
  if (options_.resume && !options_.checkpoint_dir.empty())
    if (const auto state = read_last_checkpoint()) try_resume(*state);
  observer_.on_started(start_facts());
  const int last =
      options_.epoch_budget > 0 ? std::min(options_.epoch_budget, config_.epochs) : config_.epochs;
  for (int epoch = first_epoch_; epoch <= last; ++epoch) {
    const std::optional<EpochRecord> record = run_epoch(epoch);
    if (!record) return result_;
    // Checkpoint first (it carries the record), then the database row: a row in the database
    // always has its checkpoint, so resuming never drops a committed row, and a checkpoint whose
    // row was not committed yet gives its row back on resume (RunStart::resumed_record).
    if (!options_.checkpoint_dir.empty())
      save_checkpoint(checkpoint_path(options_.checkpoint_dir, CheckpointKind::last),
                      snapshot(CheckpointKind::last));
    observer_.on_epoch(*record);
    crash_point("epoch-committed");
    if (stop_) {
      result_.status = RunStatus::stopped_early;
      break;
    }
  }
  if (last < config_.epochs && result_.status != RunStatus::stopped_early) {
    result_.status = RunStatus::paused;
    result_.error = fmt::format("paused after epoch {} of {} (epoch budget)",
                                result_.epochs_completed, config_.epochs);
    result_.seconds = seconds();
    return result_;
  }
  return finish();
}

void Trainer::split() {
  int64_t n_all = data_.train.n;
  if (config_.train_limit > 0) n_all = std::min<int64_t>(n_all, config_.train_limit);
  std::vector<int64_t> order(static_cast<size_t>(n_all));
  std::iota(order.begin(), order.end(), 0);
  train_idx_.clear();
  val_idx_.clear();
  const auto n_val = static_cast<int64_t>(std::llround(config_.validation_split * double(n_all)));
  if (n_val > 0) {
    Rng split_rng(config_.seed, RngStream::split);
    split_rng.shuffle(order);
    val_idx_.assign(order.begin(), order.begin() + n_val);
    train_idx_.assign(order.begin() + n_val, order.end());
    std::sort(val_idx_.begin(), val_idx_.end());
    std::sort(train_idx_.begin(), train_idx_.end());
  } else {
    train_idx_ = std::move(order);
  }
  if (train_idx_.empty()) throw RunError("no training images left after the validation split");
  int64_t n_test = data_.test.n;
  if (config_.test_limit > 0) n_test = std::min<int64_t>(n_test, config_.test_limit);
  test_idx_.resize(static_cast<size_t>(n_test));
  std::iota(test_idx_.begin(), test_idx_.end(), 0);
}

std::optional<TrainState> Trainer::read_last_checkpoint() const {
  const auto file = checkpoint_path(options_.checkpoint_dir, CheckpointKind::last);
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return std::nullopt;
  std::optional<TrainState> state;
  try {
    state = load_checkpoint(file);
  } catch (const Error&) {
    return std::nullopt;
  }
  if (!state->conditions && options_.legacy_conditions && state->run_key == key_) {
    // Format 1: the conditions the database recorded go into the file, which thereby keeps them
    // when the database's are reset (Store::prepare_run) before the run resumes.
    state->conditions = options_.legacy_conditions;
    state->conditions->engine_version = kFormat1EngineVersion;
    save_checkpoint(file, *state);
  }
  return state;
}

bool Trainer::fits(const TrainState& s) {
  const auto params = net_->params();
  const auto param_size = [](const Param* p) { return p->size; };
  const auto buffer_size = [](const std::vector<float>& b) { return b.size(); };
  return s.run_key == key_ && s.kind == CheckpointKind::last &&
         same_sizes(s.params, params, param_size) &&
         (!s.best_params || same_sizes(*s.best_params, params, param_size)) &&
         same_sizes(s.optimizer_state, optimizer_->state(), buffer_size) &&
         s.layer_rngs.size() == layer_rngs(*net_).size() &&
         s.train_order.size() == train_idx_.size() && s.val_indices.size() == val_idx_.size() &&
         indices_below(s.train_order, data_.train.n) && indices_below(s.val_indices, data_.train.n);
}

bool Trainer::try_resume(const TrainState& s) {
  if (!fits(s)) return false;
  const std::vector<std::string> differences =
      s.conditions ? condition_differences(*s.conditions, conditions_)
                   : std::vector<std::string>{
                         "conditions that were not recorded (checkpoint format 1, and the results "
                         "database has none for the run)"};
  if (!differences.empty()) {
    if (options_.restart_mismatched) return false;
    throw ResumeRefused(s.epoch, s.conditions, conditions_, differences);
  }
  net_->restore(s.params);
  optimizer_->state() = s.optimizer_state;
  optimizer_->set_steps(s.optimizer_steps);
  shuffle_rng_.set_state(s.shuffle_rng);
  const auto rngs = layer_rngs(*net_);
  for (size_t i = 0; i < rngs.size(); ++i) rngs[i]->set_state(s.layer_rngs[i]);
  train_idx_ = s.train_order;
  val_idx_ = s.val_indices;
  stopper_.restore(s.stopper);
  best_weights_ = s.best_params;
  result_.best_val_accuracy = s.best_val_accuracy;
  result_.best_epoch = s.best_epoch;
  result_.epochs_completed = s.epoch;
  result_.resumed_from_epoch = s.epoch;
  first_epoch_ = s.epoch + 1;
  resumed_record_ = s.record;
  // Killed after the checkpoint of the last epoch (no epoch is left to train) or of the epoch
  // where early stopping decided to stop: only the evaluation is left.
  if (s.epoch < config_.epochs && stopper_.should_stop()) {
    result_.status = RunStatus::stopped_early;
    first_epoch_ = config_.epochs + 1;
  }
  return true;
}

RunStart Trainer::start_facts() const {
  RunStart start;
  start.stats = {net_->parameter_count(), net_->trainable_parameter_count(),
                 net_->macs_per_image()};
  start.train_images = static_cast<int64_t>(train_idx_.size());
  start.val_images = static_cast<int64_t>(val_idx_.size());
  start.conditions = conditions_;
  start.resumed_from_epoch = result_.resumed_from_epoch;
  start.resumed_record = resumed_record_;
  return start;
}

bool Trainer::should_end(int epoch) {
  if (options_.cancel && options_.cancel->load(std::memory_order_relaxed)) {
    result_.status = RunStatus::interrupted;
    result_.error = fmt::format("interrupted during epoch {}", epoch);
  } else if (options_.time_limit_seconds > 0 && seconds() > options_.time_limit_seconds) {
    result_.status = RunStatus::failed;
    result_.error = fmt::format("time limit of {:g} s exceeded in epoch {}",
                                options_.time_limit_seconds, epoch);
  } else {
    return false;
  }
  result_.seconds = seconds();
  return true;
}

std::optional<EpochRecord> Trainer::run_epoch(int epoch) {
  const double learning_rate =
      config_.optimizer.learning_rate * config_.learning_rate_schedule.factor(epoch);
  optimizer_->set_learning_rate(learning_rate);
  if (config_.shuffle) shuffle_rng_.shuffle(train_idx_);
  const std::string data_hash = epoch_data_hash(train_idx_, config_, epoch);
  const int bs = config_.batch_size;
  const auto n_train = static_cast<int64_t>(train_idx_.size());
  const auto t_epoch = Clock::now();
  auto t_report = t_epoch;
  double loss_sum = 0;
  int64_t correct = 0, seen = 0;
  for (int64_t start = 0; start < n_train; start += bs) {
    const int n = static_cast<int>(std::min<int64_t>(bs, n_train - start));
    if (n < bs && config_.drop_last) break;
    if (should_end(epoch)) return std::nullopt;
    const BatchLoss b = train_forward(epoch, start, n);
    if (!std::isfinite(b.loss_sum)) {
      result_.status = RunStatus::diverged;
      result_.diverged_epoch = epoch;
      result_.error = fmt::format("loss became non-finite ({}) in epoch {} at image {} of {}",
                                  b.loss_sum, epoch, start + n, n_train);
      result_.epochs_completed = epoch - 1;
      result_.seconds = seconds();
      result_.weights_hash = net_->weights_hash();
      return std::nullopt;
    }
    if (micro_) {
      micro_->backward(n);
    } else {
      net_->backward(n);
    }
    optimizer_->step();
    crash_point("step");
    loss_sum += b.loss_sum;
    correct += b.correct;
    seen += n;
    if (std::chrono::duration<double>(Clock::now() - t_report).count() >= 0.25) {
      t_report = Clock::now();
      observer_.on_batch(epoch, seen, n_train, loss_sum / seen, double(correct) / seen);
    }
  }
  EpochRecord record;
  record.epoch = epoch;
  record.seconds = std::chrono::duration<double>(Clock::now() - t_epoch).count();
  record.train_loss = loss_sum / std::max<int64_t>(seen, 1);
  record.train_accuracy = double(correct) / std::max<int64_t>(seen, 1);
  record.learning_rate = learning_rate;
  record.images_per_second = record.seconds > 0 ? seen / record.seconds : 0.0;
  record.data_hash = data_hash;
  end_epoch(record);
  return record;
}

BatchLoss Trainer::train_forward(int epoch, int64_t start, int n) {
  const int64_t* idx = train_idx_.data() + start;
  const auto fill = [&](float* input, const int64_t* images, int count, uint8_t* labels) {
    if (distorter_) {
      train_input_->fill(input, images, count, labels, *distorter_, epoch);
    } else {
      train_input_->fill(input, images, count, labels);
    }
  };
  if (micro_) {
    return micro_->forward_loss(
        n,
        [&](int first, int count, float* input, uint8_t* labels) {
          fill(input, idx + first, count, labels);
        },
        epoch, idx);
  }
  net_->prepare(n);
  fill(net_->input(n), idx, n, labels_.data());
  net_->forward(n, true);
  return net_->loss(n, labels_.data(), true);
}

EvalMetrics Trainer::evaluate_on(const InputPipeline& input, const std::vector<int64_t>& idx) {
  if (micro_) return evaluate(*micro_, net_->num_classes(), input, idx, config_.batch_size);
  return evaluate(*net_, input, idx, config_.batch_size);
}

void Trainer::end_epoch(EpochRecord& record) {
  const int epoch = record.epoch;
  if (!val_idx_.empty()) {
    const EvalMetrics v = evaluate_on(*train_input_, val_idx_);
    record.val_loss = v.loss;
    record.val_accuracy = v.accuracy;
    if (!result_.best_val_accuracy || v.accuracy > *result_.best_val_accuracy) {
      result_.best_val_accuracy = v.accuracy;
      if (!config_.early_stopping.enabled) result_.best_epoch = epoch;
    }
  }
  result_.epochs_completed = epoch;
  stop_ = false;
  if (config_.early_stopping.enabled) {
    if (stopper_.update(monitored_value(config_.early_stopping.monitor, record), epoch)) {
      result_.best_epoch = epoch;
      if (track_best_) best_weights_ = net_->snapshot();
    }
    stop_ = stopper_.should_stop() && epoch < config_.epochs;
  }
  last_record_ = record;
}

TrainState Trainer::snapshot(CheckpointKind kind) {
  TrainState s;
  s.run_key = key_;
  s.kind = kind;
  s.conditions = conditions_;
  s.weights_hash = net_->weights_hash();
  if (kind == CheckpointKind::best && best_weights_) {
    s.epoch = result_.best_epoch.value_or(0);
    s.params = *best_weights_;
    return s;
  }
  s.epoch = result_.epochs_completed;
  s.params = net_->snapshot();
  if (kind != CheckpointKind::last) return s;
  s.optimizer_steps = optimizer_->steps();
  s.optimizer_state = optimizer_->state();
  s.shuffle_rng = shuffle_rng_.state();
  for (Rng* r : layer_rngs(*net_)) s.layer_rngs.push_back(r->state());
  s.train_order = train_idx_;
  s.val_indices = val_idx_;
  s.stopper = stopper_.state();
  s.best_params = best_weights_;
  s.best_val_accuracy = result_.best_val_accuracy;
  s.best_epoch = result_.best_epoch;
  s.record = last_record_;
  return s;
}

RunResult Trainer::finish() {
  const bool checkpoints = !options_.checkpoint_dir.empty();
  if (track_best_ && best_weights_) {
    net_->restore(*best_weights_);
    if (checkpoints)
      save_checkpoint(checkpoint_path(options_.checkpoint_dir, CheckpointKind::best),
                      snapshot(CheckpointKind::best));
  }
  // A prediction set (no labels) and a tuning run (evaluate_test false) give no test metrics;
  // the final weights are kept for predict.
  if (data_.test.labelled && config_.evaluate_test)
    result_.test = evaluate_on(*test_input_, test_idx_);
  result_.weights_hash = net_->weights_hash();
  if (checkpoints)
    save_checkpoint(checkpoint_path(options_.checkpoint_dir, CheckpointKind::final),
                    snapshot(CheckpointKind::final));
  result_.seconds = seconds();
  return result_;
}

}  // namespace lenetlab
