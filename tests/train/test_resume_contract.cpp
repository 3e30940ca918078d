// The resume contract (Trainer::try_resume): a last.ckpt is resumed only under the conditions it
// was written under. A run stopped after epoch 2 under 1 OpenMP thread is refused under 2 (one
// line naming both counts), starts over with restart_mismatched and then equals an uninterrupted
// 2-thread run, and resumed under 1 thread equals an uninterrupted 1-thread run. A format-1
// checkpoint (no conditions) is judged by the conditions the database recorded (legacy_conditions)
// and rewritten with them; without them it is refused.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "core/error.hpp"
#include "nn/shipped_architectures.hpp"
#include "temp_dir.hpp"
#include "train/checkpoint.hpp"
#include "train/trainer.hpp"
#include "train_test_util.hpp"

namespace lenetlab::test {
namespace {

/// Fails the run when epoch `fail_at` is delivered, after its checkpoint is written.
struct StopAfter : Recorder {
  int fail_at = 0;
  void on_epoch(const EpochRecord& e) override {
    if (e.epoch == fail_at) throw RunError("stop here");
    Recorder::on_epoch(e);
  }
};

RunResult uninterrupted(const RunConfig& config, const Dataset& data, int threads) {
  const OmpThreads scope(threads);
  Recorder rec;
  return train_run(config, data, rec);
}

/// Trains `config` under 1 thread into `dir` until its checkpoint after epoch 2 is written.
void interrupt_after_epoch_2(const RunConfig& config, const Dataset& data,
                             const std::filesystem::path& dir) {
  const OmpThreads scope(1);
  TrainOptions options;
  options.checkpoint_dir = dir;
  StopAfter first;
  first.fail_at = 2;
  CHECK_THROWS_AS(train_run(config, data, first, options), RunError);
  REQUIRE(std::filesystem::exists(checkpoint_path(dir, CheckpointKind::last)));
}

std::string refusal(const RunConfig& config, const Dataset& data, const TrainOptions& options) {
  Recorder rec;
  try {
    train_run(config, data, rec, options);
  } catch (const ResumeRefused& e) {
    CHECK(e.epoch() == 2);
    CHECK(rec.starts.empty());  // refused before anything was reported
    return e.what();
  }
  FAIL("the run was not refused");
  return "";
}

TEST_CASE("train: resume contract: other thread count refused, restart or the recorded count") {
  const Dataset data = make_dataset(300, 60);
  const RunConfig config = make_run(lenet5_bn(), "adam", 1e-3, 3);
  const RunResult one = uninterrupted(config, data, 1);
  const RunResult two = uninterrupted(config, data, 2);
  if (one.weights_hash == two.weights_hash)
    MESSAGE("1 and 2 threads give the same bits here; the contract is checked all the same");

  TempDir dir;
  interrupt_after_epoch_2(config, data, dir / "run");
  std::filesystem::copy(dir / "run", dir / "kept", std::filesystem::copy_options::recursive);
  const auto last = checkpoint_path(dir / "run", CheckpointKind::last);
  const TrainState before = load_checkpoint(last);
  REQUIRE(before.conditions.has_value());
  CHECK(before.conditions->threads == 1);

  TrainOptions options;
  options.checkpoint_dir = dir / "run";
  {
    const OmpThreads scope(2);
    const std::string message = refusal(config, data, options);
    CHECK(message ==
          "cannot resume after epoch 2: its checkpoint was computed with threads per "
          "run 1 (now 2)");
    // The checkpoint is left as it was.
    CHECK(load_checkpoint(last).weights_hash == before.weights_hash);

    options.restart_mismatched = true;
    Recorder rec;
    const RunResult restarted = train_run(config, data, rec, options);
    REQUIRE(rec.starts.size() == 1);
    CHECK(rec.starts[0].resumed_from_epoch == 0);
    CHECK(rec.starts[0].conditions.threads == 2);
    CHECK(restarted.resumed_from_epoch == 0);
    CHECK(rec.epochs.size() == 3);
    CHECK(restarted.weights_hash == two.weights_hash);
    REQUIRE(restarted.test.has_value());
    CHECK(restarted.test->loss == two.test->loss);
  }
  {
    const OmpThreads scope(1);
    TrainOptions kept;
    kept.checkpoint_dir = dir / "kept";
    Recorder rec;
    const RunResult resumed = train_run(config, data, rec, kept);
    CHECK(resumed.resumed_from_epoch == 2);
    CHECK(rec.epochs.size() == 1);
    CHECK(resumed.weights_hash == one.weights_hash);
    REQUIRE(resumed.test.has_value());
    CHECK(resumed.test->loss == one.test->loss);
  }
}

TEST_CASE("train: resume contract: other engine version refused, another commit of it resumed") {
  const Dataset data = make_dataset(300, 60);
  const RunConfig config = make_run(lenet5_relu(), "adam", 1e-3, 3);
  TempDir dir;
  interrupt_after_epoch_2(config, data, dir.path());
  const auto last = checkpoint_path(dir.path(), CheckpointKind::last);
  const OmpThreads scope(1);
  TrainOptions options;
  options.checkpoint_dir = dir.path();

  TrainState s = load_checkpoint(last);
  s.conditions->engine_version = "0.0.9";
  s.conditions->isa = "sse41-other";
  save_checkpoint(last, s);
  const std::string message = refusal(config, data, options);
  CHECK(message.find("engine version 0.0.9 (now ") != std::string::npos);
  CHECK(message.find("CPU ISA sse41-other (now ") != std::string::npos);

  s.conditions = RunConditions::current();
  s.conditions->engine_commit = "another-commit";
  save_checkpoint(last, s);
  Recorder rec;
  CHECK(train_run(config, data, rec, options).resumed_from_epoch == 2);
}

TEST_CASE("train: resume contract: a format-1 checkpoint uses the database's conditions") {
  const Dataset data = make_dataset(300, 60);
  const RunConfig config = make_run(lenet5_relu(), "adam", 1e-3, 3);
  const RunResult one = uninterrupted(config, data, 1);
  TempDir dir;
  interrupt_after_epoch_2(config, data, dir.path());
  const auto last = checkpoint_path(dir.path(), CheckpointKind::last);
  TrainState old = load_checkpoint(last);
  const RunConditions recorded = *old.conditions;
  old.conditions.reset();  // as efcfb97 wrote it
  save_checkpoint(last, old);
  CHECK_FALSE(load_checkpoint(last).conditions.has_value());

  const OmpThreads scope(1);
  TrainOptions options;
  options.checkpoint_dir = dir.path();
  CHECK(refusal(config, data, options).find("not recorded") != std::string::npos);

  // The database recorded 2 threads: refused, and the file now keeps those conditions.
  RunConditions two = recorded;
  two.threads = 2;
  options.legacy_conditions = two;
  CHECK(refusal(config, data, options).find("threads per run 2 (now 1)") != std::string::npos);
  REQUIRE(load_checkpoint(last).conditions.has_value());
  CHECK(load_checkpoint(last).conditions->threads == 2);

  // Recorded as 1 thread: resumed, the same bits as never stopped.
  old.conditions.reset();
  save_checkpoint(last, old);
  options.legacy_conditions = recorded;
  Recorder rec;
  const RunResult resumed = train_run(config, data, rec, options);
  CHECK(resumed.resumed_from_epoch == 2);
  CHECK(resumed.weights_hash == one.weights_hash);
}

}  // namespace
}  // namespace lenetlab::test
