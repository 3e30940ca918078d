// A fixed set of worker threads that run the tasks of one call (indices 0..count-1) and return when
// all are done: engine 2's micro-batches (nn/micro_batch.hpp). The calling thread works too, so a
// pool of one thread runs everything on the caller.
//
// Waiting: an idle worker, and the caller waiting for the last task, first spin for up to
// kSpinSeconds (checking an atomic, with the CPU's pause hint), then block on a condition
// variable. A step calls run() several times, a few hundred microseconds apart; waking a blocked
// thread costs a futex call and, on a virtual machine whose idle vCPU halted, a wake-up of that
// vCPU: measured on a 2-vCPU VM, lenet5-relu with 2 threads trained 1.1x as fast as with 1 when
// every wait blocked. libgomp's idle threads spin in the same way (GOMP_SPINCOUNT).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace lenetlab {

class WorkerPool {
 public:
  /// `threads` >= 1 in all, the caller included; `thread_init` runs once on each of the
  /// threads - 1 workers when it starts (e.g. to set its OpenMP thread count).
  explicit WorkerPool(int threads, std::function<void()> thread_init = {});
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  int threads() const { return static_cast<int>(workers_.size()) + 1; }

  /// How long an idle thread spins before it blocks (seconds).
  static constexpr double kSpinSeconds = 1e-3;

  /// Runs task(i) for every i in [0, count), each exactly once, on any thread (dynamically: the
  /// next free thread takes the next index), and returns when all are done. Which thread runs
  /// which index must not matter to the results: tasks write only their own index's data. When
  /// tasks throw, the exception of the lowest index is rethrown (after all have ended).
  void run(int count, const std::function<void(int)>& task);

 private:
  void work();
  /// Takes indices until none is left; returns when the current call has no index to hand out.
  void drain();

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  const std::function<void(int)>* task_ = nullptr;
  int count_ = 0, next_ = 0;
  std::atomic<int> finished_{0};
  std::atomic<uint64_t> generation_{0};  ///< written under mutex_; read without it to spin
  std::atomic<bool> stop_{false};
  int error_index_ = -1;
  std::exception_ptr error_;
};

}  // namespace lenetlab
