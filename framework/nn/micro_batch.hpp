// Engine 2: a batch trained as fixed-size micro-batches, each on one thread with one-thread
// primitives, so that a run gives the same bits for any thread count (issue 16, section 1).
//
// A batch of n images is split into micro-batches of m images (the run's micro_batch; the last
// one holds the rest), a split that depends on n and m only. Micro-batch j runs on replica j, a
// copy of the network that shares the master's parameter values and owns its primitives (created
// with one OpenMP thread), activations and gradients; any thread may run any replica, and the
// results do not depend on which. What needs the whole batch is combined on the calling thread,
// in micro-batch order:
// - batch norm (whole-batch mode, BatchNormLayer): each micro-batch's per-channel mean and sum of
//   squared deviations, combined by Chan, Golub & LeVeque's pairwise update (1983, eq. 2.1) into
//   the whole batch's mean and biased variance; in backward, the per-channel sums of dy and
//   dy * xhat;
// - the loss (sums of -log p) and the number of correct images;
// - the parameter gradients: master = g_0 + g_1 + ... + g_{k-1} (left to right), element-wise.
// Dropout masks come from per-image streams (DropoutLayer). Memory: one replica per micro-batch
// of the largest batch (activations as for the whole batch at once, plus one gradient copy per
// micro-batch).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "config/architecture.hpp"
#include "core/worker_pool.hpp"
#include "nn/network.hpp"

namespace lenetlab {

class BatchNormLayer;

class MicroBatchNetwork {
 public:
  /// Writes images [first, first + count) of the batch into `input` ((count, C, H, W) f32 NCHW)
  /// and their labels; called on any thread, concurrently for distinct ranges.
  using Fill = std::function<void(int first, int count, float* input, uint8_t* labels)>;
  /// Receives the log-probabilities ((count, classes) row-major) and labels of images
  /// [first, first + count) of an evaluated batch; called on any thread, concurrently.
  using Output =
      std::function<void(int first, int count, const float* log_p, const uint8_t* labels)>;

  /// `master` is replica 0, not prepared yet; its parameters are the run's (the optimizer's).
  /// `micro_batch` >= 1 images; `threads` >= 1 (the calling thread included). Call on the run's
  /// thread, and destroy there; replicas are built from `arch` and `seed` as the master was.
  /// While this object lives, the calling thread's OpenMP thread count is 1 (restored at the
  /// end): the run's only parallelism is this pool. An OpenMP team started on the run's thread
  /// (the optimizer's loops) would leave its idle threads spinning (libgomp's GOMP_SPINCOUNT,
  /// about 300,000 iterations when OMP_WAIT_POLICY is unset) on the cores the micro-batches need:
  /// measured, 2 threads then trained lenet5-relu 1.1x as fast as 1, instead of 1.6x.
  MicroBatchNetwork(const ArchSpec& arch, uint64_t seed, Network& master, int micro_batch,
                    int threads);
  ~MicroBatchNetwork();
  MicroBatchNetwork(const MicroBatchNetwork&) = delete;
  MicroBatchNetwork& operator=(const MicroBatchNetwork&) = delete;

  /// Training forward of a batch of n images and the loss: returns the batch's sums (loss in
  /// nats, correct images) and leaves d(mean loss over n)/d(logits) in each replica. `keys`: the
  /// n images' dataset indices (dropout streams) for `epoch`.
  BatchLoss forward_loss(int n, const Fill& fill, int epoch, const int64_t* keys);
  /// Backward of the last forward_loss; the master's gradients are the batch's.
  void backward(int n);
  /// Inference forward of a batch of n images (moving batch-norm statistics, no dropout).
  void infer(int n, const Fill& fill, const Output& output);

  int micro_batch() const { return m_; }

 private:
  int count_of(int n) const { return (n + m_ - 1) / m_; }
  int size_of(int n, int j) const { return std::min(m_, n - j * m_); }
  /// Replicas 0..count-1 exist.
  void ensure(int count);
  BatchNormLayer& norm(int j, size_t layer);
  /// The whole batch's statistics of the batch norm at `layer` from partial_ (moments).
  void combine_moments(int n, size_t layer);
  /// The whole batch's backward sums of the batch norm at `layer` from partial_.
  void combine_sums(int n, size_t layer);
  void reduce_gradients(int n);

  ArchSpec arch_;
  uint64_t seed_;
  int m_;
  int saved_omp_threads_;  ///< the calling thread's OpenMP thread count, restored at the end
  WorkerPool pool_;
  std::vector<std::unique_ptr<Network>> owned_;
  std::vector<Network*> replicas_;
  std::vector<std::vector<uint8_t>> labels_;
  std::vector<std::vector<double>> partial_;
  std::vector<BatchLoss> losses_;
  std::vector<size_t> norms_;  ///< indices of the batch-norm layers
};

}  // namespace lenetlab
