#include "core/worker_pool.hpp"

#include <chrono>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace lenetlab {

namespace {

void cpu_pause() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#else
  std::this_thread::yield();
#endif
}

/// Spins until done() or for WorkerPool::kSpinSeconds; returns done().
template <class Done>
bool spin_until(const Done& done) {
  using Clock = std::chrono::steady_clock;
  const auto limit = Clock::now() + std::chrono::duration<double>(WorkerPool::kSpinSeconds);
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (done()) return true;
      cpu_pause();
    }
    if (Clock::now() >= limit) return done();
  }
}

}  // namespace

WorkerPool::WorkerPool(int threads, std::function<void()> thread_init) {
  for (int i = 1; i < threads; ++i)
    workers_.emplace_back([this, thread_init] {
      if (thread_init) thread_init();
      work();
    });
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void WorkerPool::drain() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (task_ != nullptr && next_ < count_) {
    const int i = next_++;
    const auto* task = task_;
    lock.unlock();
    std::exception_ptr error;
    try {
      (*task)(i);
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    if (error && (error_index_ < 0 || i < error_index_)) {
      error_index_ = i;
      error_ = error;
    }
    if (finished_.fetch_add(1) + 1 == count_) done_.notify_all();
  }
}

void WorkerPool::work() {
  uint64_t seen = 0;
  for (;;) {
    if (!spin_until([&] { return stop_.load() || generation_.load() != seen; })) {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
    }
    if (stop_) return;
    seen = generation_;
    drain();
  }
}

void WorkerPool::run(int count, const std::function<void(int)>& task) {
  if (count <= 0) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    task_ = &task;
    count_ = count;
    next_ = finished_ = 0;
    error_index_ = -1;
    error_ = nullptr;
    ++generation_;
  }
  if (!workers_.empty() && count > 1) wake_.notify_all();
  drain();
  std::exception_ptr error;
  if (!workers_.empty()) spin_until([&] { return finished_.load() == count; });
  {
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [&] { return finished_ == count_; });
    task_ = nullptr;
    error = error_;
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace lenetlab
