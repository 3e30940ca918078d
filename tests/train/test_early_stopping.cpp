// Early stopping (train/early_stopping.hpp) against keras.callbacks.EarlyStopping's rules, and the
// conditions a checkpoint must match to resume (train/run_conditions.hpp).
#include <doctest/doctest.h>

#include <cmath>

#include "train/early_stopping.hpp"
#include "train/run_conditions.hpp"

namespace lenetlab::test {
namespace {

EarlyStoppingConfig stopping(const char* monitor, int patience, double min_delta = 0,
                             const char* mode = "auto") {
  EarlyStoppingConfig c;
  c.enabled = true;
  c.monitor = value_of(kEarlyStoppingMonitors, monitor).value();
  c.patience = patience;
  c.min_delta = min_delta;
  c.mode = value_of(kEarlyStoppingModes, mode).value();
  return c;
}

TEST_CASE("train: early stopping: loss falls, accuracy rises, min_delta and patience") {
  EarlyStopping loss(stopping("val_loss", 2, 0.1));
  CHECK(loss.update(1.0, 1));         // the first value is always the best
  CHECK_FALSE(loss.update(0.95, 2));  // better, but not by more than min_delta
  CHECK_FALSE(loss.should_stop());
  CHECK(loss.update(0.85, 3));
  CHECK(loss.state().best == 0.85);
  CHECK(loss.state().best_epoch == 3);
  CHECK_FALSE(loss.update(0.9, 4));
  CHECK_FALSE(loss.should_stop());
  CHECK_FALSE(loss.update(0.9, 5));
  CHECK(loss.should_stop());
  CHECK(loss.state().wait == 2);

  EarlyStopping accuracy(stopping("val_accuracy", 1));
  CHECK(accuracy.update(0.5, 1));
  CHECK(accuracy.update(0.6, 2));
  CHECK_FALSE(accuracy.update(0.4, 3));
  CHECK(accuracy.should_stop());

  EarlyStopping forced_min(stopping("val_accuracy", 1, 0, "min"));
  CHECK(forced_min.update(0.5, 1));
  CHECK(forced_min.update(0.4, 2));
}

TEST_CASE(
    "train: early stopping: patience 0 stops only after a non-improving epoch, NaN never "
    "improves") {
  EarlyStopping s(stopping("train_loss", 0));
  CHECK(s.update(1.0, 1));
  CHECK_FALSE(s.should_stop());
  CHECK_FALSE(s.update(NAN, 2));
  CHECK(s.should_stop());

  EarlyStoppingConfig off = stopping("train_loss", 0);
  off.enabled = false;
  EarlyStopping disabled(off);
  disabled.update(1.0, 1);
  disabled.update(2.0, 2);
  CHECK_FALSE(disabled.should_stop());
}

TEST_CASE("train: early stopping: state restores exactly, monitored values") {
  EarlyStopping a(stopping("val_loss", 3));
  a.update(1.0, 1);
  a.update(2.0, 2);
  EarlyStopping b(stopping("val_loss", 3));
  b.restore(a.state());
  CHECK(b.state().best == 1.0);
  CHECK(b.state().wait == 1);
  CHECK(a.update(0.5, 3) == b.update(0.5, 3));

  EpochRecord r;
  r.train_loss = 1;
  r.train_accuracy = 2;
  r.val_loss = 3;
  CHECK(monitored_value(EarlyStoppingMonitor::train_loss, r) == 1);
  CHECK(monitored_value(EarlyStoppingMonitor::train_accuracy, r) == 2);
  CHECK(monitored_value(EarlyStoppingMonitor::val_loss, r) == 3);
  CHECK(std::isnan(monitored_value(EarlyStoppingMonitor::val_accuracy, r)));
}

TEST_CASE("train: run conditions: the engine commit is information, everything else must match") {
  const RunConditions now = RunConditions::current();
  CHECK(now.threads >= 1);
  CHECK_FALSE(now.isa.empty());
  CHECK(now.engine_version == current_engine_version());
  CHECK(condition_differences(now, now).empty());
  RunConditions other = now;
  other.engine_commit = "0000000";
  CHECK(condition_differences(other, now).empty());
  other.threads = now.threads + 1;
  other.isa = "sse41";
  const auto d = condition_differences(other, now);
  REQUIRE(d.size() == (now.isa == "sse41" ? 1u : 2u));
  CHECK(d[0] == "threads per run " + std::to_string(now.threads + 1) + " (now " +
                    std::to_string(now.threads) + ")");
  other = now;
  other.engine_version = "0.0.1";
  CHECK(condition_differences(other, now).size() == 1);
}

}  // namespace
}  // namespace lenetlab::test
