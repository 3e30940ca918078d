#include "sweep/progress.hpp"

#include <fmt/format.h>

namespace lenetlab {

namespace {

std::string clock_text(double seconds) {
  if (!(seconds >= 0) || seconds > 99 * 3600) return "--:--";
  const auto s = static_cast<int64_t>(seconds + 0.5);
  return s >= 3600 ? fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
                   : fmt::format("{}:{:02}", s / 60, s % 60);
}

}  // namespace

Progress::Progress(std::FILE* out, bool live, int total_runs, std::string sweep_name)
    : out_(out),
      live_(live),
      total_runs_(total_runs),
      sweep_name_(std::move(sweep_name)),
      start_(std::chrono::steady_clock::now()) {}

std::string Progress::format(const Line& l) const {
  const double fraction = l.total ? double(l.done) / l.total : 0.0;
  // ETA of this run from its measured training speed (validation/test time not included).
  const double remaining_images = (l.epochs - l.epoch) * double(l.total) + (l.total - l.done);
  const double eta = l.images_per_second > 0 ? remaining_images / l.images_per_second : -1;
  return fmt::format(
      "[{:>3}/{}] {:<42.42} epoch {:>2}/{:<2} {:>3.0f}%  loss {:.4f}  acc {:6.2f}%  {:>6.0f} img/s "
      " ETA {}",
      l.index, total_runs_, l.name, l.epoch, l.epochs, 100 * fraction, l.loss, 100 * l.accuracy,
      l.images_per_second, clock_text(eta));
}

void Progress::redraw() {
  std::string text;
  for (int i = 0; i < drawn_lines_; ++i) text += "\x1b[1A\x1b[2K";  // up one line, clear it
  text += "\r\x1b[2K";
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  text +=
      fmt::format("sweep {}: {}/{} runs ended ({} not finished), {} active, elapsed {}\n",
                  sweep_name_, ended_, total_runs_, failed_, active_.size(), clock_text(elapsed));
  for (const auto& [id, line] : active_) text += format(line) + "\n";
  drawn_lines_ = static_cast<int>(active_.size()) + 1;
  std::fputs(text.c_str(), out_);
  std::fflush(out_);
}

void Progress::run_started(int64_t run_id, int index, const std::string& name, int epochs,
                           int64_t train_images) {
  std::lock_guard lock(mutex_);
  Line l;
  l.index = index;
  l.name = name;
  l.epochs = epochs;
  l.epoch = 1;
  l.total = train_images;
  l.started = std::chrono::steady_clock::now();
  active_[run_id] = l;
  if (live_) {
    redraw();
  } else {
    std::fprintf(out_, "[%d/%d] start %s (run %lld, %d epochs, %lld training images)\n", index,
                 total_runs_, name.c_str(), static_cast<long long>(run_id), epochs,
                 static_cast<long long>(train_images));
    std::fflush(out_);
  }
}

void Progress::batch(int64_t run_id, int epoch, int64_t done, int64_t total, double loss,
                     double accuracy) {
  std::lock_guard lock(mutex_);
  auto it = active_.find(run_id);
  if (it == active_.end()) return;
  Line& l = it->second;
  if (l.epoch != epoch || l.done > done) l.started = std::chrono::steady_clock::now();
  l.epoch = epoch;
  l.done = done;
  l.total = total;
  l.loss = loss;
  l.accuracy = accuracy;
  const double s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - l.started).count();
  if (s > 0 && done > 0) l.images_per_second = done / s;
  if (live_) redraw();
}

void Progress::epoch(int64_t run_id, const EpochRecord& r) {
  std::lock_guard lock(mutex_);
  auto it = active_.find(run_id);
  if (it == active_.end()) return;
  Line& l = it->second;
  l.epoch = r.epoch + 1 <= l.epochs ? r.epoch + 1 : r.epoch;
  l.done = 0;
  l.loss = r.train_loss;
  l.accuracy = r.train_accuracy;
  l.images_per_second = r.images_per_second;
  l.started = std::chrono::steady_clock::now();
  if (live_) {
    redraw();
  } else {
    std::string val = r.val_accuracy ? fmt::format("  val_loss {:.4f}  val_acc {:.2f}%",
                                                   *r.val_loss, 100 * *r.val_accuracy)
                                     : "";
    std::fprintf(out_, "[%d/%d] %s epoch %d/%d  loss %.4f  acc %.2f%%%s  %.1f s  %.0f img/s\n",
                 l.index, total_runs_, l.name.c_str(), r.epoch, l.epochs, r.train_loss,
                 100 * r.train_accuracy, val.c_str(), r.seconds, r.images_per_second);
    std::fflush(out_);
  }
}

void Progress::resumed(int64_t run_id, int epoch) {
  std::lock_guard lock(mutex_);
  auto it = active_.find(run_id);
  if (it == active_.end()) return;
  it->second.epoch = epoch + 1;
  if (live_) {
    redraw();
  } else {
    std::fprintf(out_, "[%d/%d] %s resumes after epoch %d (checkpoint)\n", it->second.index,
                 total_runs_, it->second.name.c_str(), epoch);
    std::fflush(out_);
  }
}

void Progress::run_ended(int64_t run_id, int index, const std::string& name, RunStatus status,
                         const std::string& detail) {
  std::lock_guard lock(mutex_);
  active_.erase(run_id);
  ++ended_;
  if (status != RunStatus::finished && status != RunStatus::stopped_early) ++failed_;
  const std::string text = fmt::format("[{}/{}] {} {}{}{}\n", index, total_runs_, to_string(status),
                                       name, detail.empty() ? "" : ": ", detail);
  if (live_) {
    for (int i = 0; i < drawn_lines_; ++i) std::fputs("\x1b[1A\x1b[2K", out_);
    drawn_lines_ = 0;
    std::fputs(text.c_str(), out_);
    redraw();
  } else {
    std::fputs(text.c_str(), out_);
    std::fflush(out_);
  }
}

void Progress::skipped(const std::string& name, const std::string& why) {
  std::lock_guard lock(mutex_);
  ++ended_;
  if (live_) {
    for (int i = 0; i < drawn_lines_; ++i) std::fputs("\x1b[1A\x1b[2K", out_);
    drawn_lines_ = 0;
  }
  std::fprintf(out_, "skip %s (%s)\n", name.c_str(), why.c_str());
  if (live_) redraw();
  std::fflush(out_);
}

void Progress::finish() {
  std::lock_guard lock(mutex_);
  if (live_) {
    for (int i = 0; i < drawn_lines_; ++i) std::fputs("\x1b[1A\x1b[2K", out_);
    drawn_lines_ = 0;
    std::fflush(out_);
  }
}

}  // namespace lenetlab
