// A small results database for the query tests: two sweeps, five runs in different states.
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "store/store.hpp"
#include "store/store_test_util.hpp"

namespace lenetlab::test {

/// Sweep "alpha":
///   A lenet-relu/sgd   finished  test_accuracy 0.98  test_loss 0.05  seconds 10  (3 epochs)
///   B lenet-relu/adam  finished  test_accuracy 0.99  test_loss 0.06  seconds 20
///   C lenet5/sgd       failed    (no test metrics)                   seconds 1
///   D lenet5/adam      finished  test_accuracy 0.97  test_loss 0.04  seconds 5   (2 epochs, no
///   val)
/// Sweep "beta":
///   E lenet-relu/sgd seed 2, running (1 epoch)
struct QueryTestDb {
  TempDir dir;
  std::filesystem::path path = dir / "results.db";
  std::map<char, RunConfig> configs;
  std::map<char, int64_t> ids;

  QueryTestDb() {
    Store store(path);
    const int64_t alpha = store.upsert_sweep("alpha", "alpha.yaml", "name: alpha");
    const int64_t beta = store.upsert_sweep("beta", "beta.yaml", "name: beta");
    configs['A'] = make_config("lenet-relu", "sgd", 0.01, 64, 1);
    configs['B'] = make_config("lenet-relu", "adam", 0.001, 64, 1);
    configs['C'] = make_config("lenet5", "sgd", 0.01, 64, 1);
    configs['D'] = make_config("lenet5", "adam", 0.001, 64, 1);
    configs['E'] = make_config("lenet-relu", "sgd", 0.01, 64, 2);
    for (char run : {'A', 'B', 'C', 'D'}) {
      ids[run] = store.prepare_run(alpha, configs[run]);
      store.start_run(ids[run], Environment{}, ModelStats{}, "sha");
    }
    ids['E'] = store.prepare_run(beta, configs['E']);
    store.start_run(ids['E'], Environment{}, ModelStats{}, "sha");

    for (int e = 1; e <= 3; ++e) store.record_epoch(ids['A'], make_epoch(e));
    store.finish_run(ids['A'], make_result(0.98, 0.05, 10));
    store.finish_run(ids['B'], make_result(0.99, 0.06, 20));
    RunResult failed;
    failed.status = RunStatus::failed;
    failed.error = "shape mismatch";
    failed.seconds = 1;
    store.finish_run(ids['C'], failed);
    for (int e = 1; e <= 2; ++e) store.record_epoch(ids['D'], make_epoch(e, /*validation=*/false));
    store.finish_run(ids['D'], make_result(0.97, 0.04, 5));
    store.record_epoch(ids['E'], make_epoch(1));
  }
};

}  // namespace lenetlab::test
