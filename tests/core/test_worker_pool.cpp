// core/worker_pool: every index runs exactly once per call, on the caller too, across many calls
// back to back (the spin-then-block hand-over between calls, and calls longer than the spin), and
// the exception of the lowest failing index reaches the caller.
#include "core/worker_pool.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <mutex>
#include <vector>

using lenetlab::WorkerPool;

namespace {

/// Runs `calls` calls of `count` tasks; each task counts its index. Returns the counts.
std::vector<int> count_runs(WorkerPool& pool, int calls, int count) {
  std::vector<std::atomic<int>> hits(static_cast<size_t>(count));
  for (int c = 0; c < calls; ++c) pool.run(count, [&](int i) { ++hits[static_cast<size_t>(i)]; });
  std::vector<int> out;
  for (auto& h : hits) out.push_back(h.load());
  return out;
}

}  // namespace

TEST_CASE("worker pool: every index exactly once per call, for 1, 2 and 4 threads") {
  for (int threads : {1, 2, 4}) {
    CAPTURE(threads);
    WorkerPool pool(threads);
    CHECK(pool.threads() == threads);
    for (int count : {1, 2, 3, 7, 64}) {
      CAPTURE(count);
      CHECK(count_runs(pool, 500, count) == std::vector<int>(static_cast<size_t>(count), 500));
    }
  }
}

TEST_CASE("worker pool: a call after the workers went to sleep still runs on them") {
  WorkerPool pool(2);
  std::this_thread::sleep_for(
      std::chrono::duration<double>(20 * WorkerPool::kSpinSeconds));  // past the spin: blocked
  std::set<std::thread::id> ran_on;
  std::atomic<int> started{0};
  std::mutex m;
  pool.run(2, [&](int) {
    {
      std::lock_guard<std::mutex> lock(m);
      ran_on.insert(std::this_thread::get_id());
    }
    // Each task waits (bounded) for the other to start: two threads must take the two indices.
    ++started;
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (started.load() < 2 && std::chrono::steady_clock::now() < until)
      std::this_thread::yield();
  });
  CHECK(started.load() == 2);
  CHECK(ran_on.size() == 2);
}

TEST_CASE(
    "worker pool: the lowest failing index's exception reaches the caller, and the pool goes on") {
  WorkerPool pool(2);
  for (int round = 0; round < 50; ++round) {
    try {
      pool.run(8, [](int i) {
        if (i == 3 || i == 6) throw std::runtime_error("task " + std::to_string(i));
      });
      FAIL("no exception");
    } catch (const std::runtime_error& e) {
      CHECK(std::string(e.what()) == "task 3");
    }
  }
  CHECK(count_runs(pool, 10, 5) == std::vector<int>(5, 10));
}
