// A fixed set of worker threads that run the tasks of one call (indices 0..count-1) and return when
// all are done: engine 2's micro-batches (nn/micro_batch.hpp). The calling thread works too, so a
// pool of one thread runs everything on the caller.
#pragma once

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
  int count_ = 0, next_ = 0, finished_ = 0;
  uint64_t generation_ = 0;
  bool stop_ = false;
  int error_index_ = -1;
  std::exception_ptr error_;
};

}  // namespace lenetlab
