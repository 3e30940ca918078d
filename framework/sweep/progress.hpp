// Progress output of a sweep. On a terminal: one live line per active run (run, epoch/total,
// progress, loss, accuracy, images/s, ETA) under a sweep header, redrawn in place. Otherwise: plain
// log lines (run started, each epoch, run ended). Thread-safe: every run's thread reports here.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>

#include "core/records.hpp"

namespace lenetlab {

class Progress {
 public:
  /// `live`: redraw lines in place with ANSI escapes (use when `out` is a terminal).
  Progress(std::FILE* out, bool live, int total_runs, std::string sweep_name);

  void run_started(int64_t run_id, int index, const std::string& name, int epochs,
                   int64_t train_images);
  void batch(int64_t run_id, int epoch, int64_t done, int64_t total, double loss, double accuracy);
  void epoch(int64_t run_id, const EpochRecord& record);
  /// The run continues from a checkpoint after `epoch`.
  void resumed(int64_t run_id, int epoch);
  /// The run ended (also when it ended before run_started, e.g. refused or not buildable).
  void run_ended(int64_t run_id, int index, const std::string& name, RunStatus status,
                 const std::string& detail);
  /// A run skipped, e.g. "already finished" or "running in another lenetlab process".
  void skipped(const std::string& name, const std::string& why);
  /// Erases the live block (call before printing the summary).
  void finish();

 private:
  struct Line {
    int index = 0;
    std::string name;
    int epochs = 0;
    int epoch = 0;
    int64_t done = 0, total = 0;
    double loss = 0, accuracy = 0, images_per_second = 0;
    std::chrono::steady_clock::time_point started;
  };
  void redraw();  // caller holds mutex_
  std::string format(const Line& line) const;

  std::FILE* out_;
  bool live_;
  int total_runs_;
  std::string sweep_name_;
  int ended_ = 0, failed_ = 0;
  int drawn_lines_ = 0;
  std::map<int64_t, Line> active_;
  std::chrono::steady_clock::time_point start_;
  std::mutex mutex_;
};

}  // namespace lenetlab
