#include "nn/micro_batch.hpp"

#include <omp.h>

#include <algorithm>

#include "nn/layers.hpp"

namespace lenetlab {

namespace {

/// Elements per gradient-reduction task.
constexpr int64_t kReduceChunk = int64_t{1} << 14;

}  // namespace

MicroBatchNetwork::MicroBatchNetwork(const ArchSpec& arch, uint64_t seed, Network& master,
                                     int micro_batch, int threads)
    : arch_(arch),
      seed_(seed),
      m_(std::max(1, micro_batch)),
      saved_omp_threads_(omp_get_max_threads()),
      pool_(std::max(1, threads), [] { omp_set_num_threads(1); }) {
  omp_set_num_threads(1);
  master.set_whole_batch();
  replicas_.push_back(&master);
  const auto& layers = master.layers();
  for (size_t i = 0; i < layers.size(); ++i)
    if (dynamic_cast<BatchNormLayer*>(layers[i].get()) != nullptr) norms_.push_back(i);
}

MicroBatchNetwork::~MicroBatchNetwork() { omp_set_num_threads(saved_omp_threads_); }

void MicroBatchNetwork::ensure(int count) {
  while (static_cast<int>(replicas_.size()) < count) {
    owned_.push_back(std::make_unique<Network>(arch_, seed_));
    owned_.back()->share_values(*replicas_[0]);
    owned_.back()->set_whole_batch();
    replicas_.push_back(owned_.back().get());
  }
  labels_.resize(replicas_.size(), std::vector<uint8_t>(size_t(m_)));
  partial_.resize(replicas_.size());
  losses_.resize(replicas_.size());
}

BatchNormLayer& MicroBatchNetwork::norm(int j, size_t layer) {
  return static_cast<BatchNormLayer&>(*replicas_[j]->layers()[layer]);
}

BatchLoss MicroBatchNetwork::forward_loss(int n, const Fill& fill, int epoch, const int64_t* keys) {
  const int k = count_of(n);
  ensure(k);
  const size_t layers = replicas_[0]->layers().size();
  for (size_t s = 0; s <= norms_.size(); ++s) {
    const size_t begin = s == 0 ? 0 : norms_[s - 1];
    const size_t end = s < norms_.size() ? norms_[s] : layers;
    pool_.run(k, [&](int j) {
      Network& r = *replicas_[j];
      const int nj = size_of(n, j);
      if (s == 0) {
        r.prepare(nj);
        fill(j * m_, nj, r.input(nj), labels_[j].data());
        r.set_image_keys(epoch, keys + int64_t{j} * m_);
      }
      r.forward(nj, true, begin, end);
      if (end < layers) {
        norm(j, end).batch_moments(nj, partial_[j]);
      } else {
        losses_[j] = r.loss(nj, labels_[j].data(), true, n);
      }
    });
    if (end < layers) combine_moments(n, end);
  }
  BatchLoss total;
  for (int j = 0; j < k; ++j) {
    total.loss_sum += losses_[j].loss_sum;
    total.correct += losses_[j].correct;
  }
  return total;
}

void MicroBatchNetwork::combine_moments(int n, size_t layer) {
  const Shape in = replicas_[0]->layers()[layer]->in_shape();
  const int64_t plane = int64_t{in.h} * in.w;
  std::vector<float> mean(size_t(in.c)), variance(size_t(in.c));
  for (int c = 0; c < in.c; ++c) {
    double count = double(size_of(n, 0) * plane), mu = partial_[0][2 * c],
           m2 = partial_[0][2 * c + 1];
    for (int j = 1; j < count_of(n); ++j) {
      const double count_j = double(size_of(n, j) * plane), total = count + count_j;
      const double delta = partial_[j][2 * c] - mu;
      mu += delta * count_j / total;
      m2 += partial_[j][2 * c + 1] + delta * delta * count * count_j / total;
      count = total;
    }
    mean[c] = static_cast<float>(mu);
    variance[c] = static_cast<float>(m2 / count);
  }
  for (int j = 0; j < count_of(n); ++j)
    norm(j, layer).set_batch_stats(size_of(n, j), mean, variance);
  norm(0, layer).update_moving_stats(mean.data(), variance.data(), int64_t{n} * plane);
}

void MicroBatchNetwork::combine_sums(int n, size_t layer) {
  const Shape in = replicas_[0]->layers()[layer]->in_shape();
  std::vector<double> total = partial_[0];
  for (int j = 1; j < count_of(n); ++j)
    for (size_t i = 0; i < total.size(); ++i) total[i] += partial_[j][i];
  for (int j = 0; j < count_of(n); ++j)
    norm(j, layer).set_backward_sums(total, int64_t{n} * in.h * in.w);
}

void MicroBatchNetwork::backward(int n) {
  const int k = count_of(n);
  const size_t layers = replicas_[0]->layers().size();
  for (size_t s = norms_.size() + 1; s-- > 0;) {
    // Segment s ends before the batch norm that segment s + 1 starts with; each segment but the
    // first ends with the backward sums of the batch norm at its lower end.
    const size_t end = s == norms_.size() ? layers : norms_[s] + 1;
    const size_t begin = s == 0 ? 0 : norms_[s - 1] + 1;
    pool_.run(k, [&](int j) {
      const int nj = size_of(n, j);
      replicas_[j]->backward(nj, begin, end);
      if (s > 0) norm(j, begin - 1).backward_sums(nj, partial_[j]);
    });
    if (s > 0) combine_sums(n, begin - 1);
  }
  reduce_gradients(n);
}

void MicroBatchNetwork::reduce_gradients(int n) {
  const int k = count_of(n);
  if (k == 1) return;
  struct Chunk {
    size_t param;
    int64_t begin, end;
  };
  std::vector<std::vector<Param*>> params;
  for (int j = 0; j < k; ++j) params.push_back(replicas_[j]->params());
  std::vector<Chunk> chunks;
  for (size_t p = 0; p < params[0].size(); ++p) {
    if (!params[0][p]->trainable) continue;
    for (int64_t b = 0; b < params[0][p]->size; b += kReduceChunk)
      chunks.push_back({p, b, std::min(params[0][p]->size, b + kReduceChunk)});
  }
  pool_.run(static_cast<int>(chunks.size()), [&](int c) {
    const Chunk& chunk = chunks[size_t(c)];
    float* sum = params[0][chunk.param]->gradient();
    for (int j = 1; j < k; ++j) {
      const float* g = params[size_t(j)][chunk.param]->gradient();
      for (int64_t e = chunk.begin; e < chunk.end; ++e) sum[e] += g[e];
    }
  });
}

void MicroBatchNetwork::infer(int n, const Fill& fill, const Output& output) {
  const int k = count_of(n);
  ensure(k);
  pool_.run(k, [&](int j) {
    Network& r = *replicas_[j];
    const int nj = size_of(n, j);
    r.prepare(nj);
    fill(j * m_, nj, r.input(nj), labels_[j].data());
    output(j * m_, nj, r.forward(nj, false), labels_[j].data());
  });
}

}  // namespace lenetlab
