// The charts of the benchmark section: throughput of matrix benches against threads and batch
// size, and profiled training steps as stacked bars (report/charts.hpp).
#include <fmt/format.h>

#include "report/charts.hpp"
#include "report/resources/chart_bench_profile.hpp"
#include "report/resources/chart_bench_scaling.hpp"

namespace lenetlab::report {

namespace {

using nlohmann::json;

/// "bench run 3 (2026-12-03T10:29)": how the charts name a bench run.
std::string bench_name(const BenchRunRow& run) {
  return fmt::format("bench run {} ({})", run.id, run.started_at.substr(0, 16));
}

/// The stage a profile part belongs to, for its colour.
std::string stage_of(const BenchProfileRow& row) {
  if (row.part == "data" || row.part == "loss" || row.part == "optimizer") return row.part;
  return row.direction == "forward" ? "forward" : "backward";
}

void add_scaling_charts(const ReportModel& model, json& charts) {
  json by_threads = json::array(), by_batch = json::array();
  for (const BenchRun& b : model.bench)
    for (const BenchResultRow& r : b.results) {
      const json row = {{"bench", bench_name(b.run)},
                        {"mode", r.mode},
                        {"architecture", r.architecture},
                        {"batch_size", r.batch_size},
                        {"threads", r.threads},
                        {"min", r.images_per_second_min},
                        {"median", r.images_per_second_median},
                        {"max", r.images_per_second_max}};
      json t = row, s = row;
      t["series"] = fmt::format("batch {}", r.batch_size);
      s["series"] = fmt::format("{} thread{}", r.threads, r.threads == 1 ? "" : "s");
      by_threads.push_back(std::move(t));
      by_batch.push_back(std::move(s));
    }
  if (by_threads.empty()) return;
  charts["chart-bench-threads"] =
      fill_template(resources::kChartBenchScaling, {{"rows", by_threads},
                                                    {"x", "threads"},
                                                    {"x_title", "threads (OpenMP, inside oneDNN)"},
                                                    {"series_title", "batch size"}});
  charts["chart-bench-batch"] =
      fill_template(resources::kChartBenchScaling, {{"rows", by_batch},
                                                    {"x", "batch_size"},
                                                    {"x_title", "batch size"},
                                                    {"series_title", "threads"}});
}

void add_profile_chart(const ReportModel& model, json& charts) {
  json parts = json::array(), whole = json::array(), order = json::array();
  for (const BenchRun& b : model.bench) {
    if (b.profile.empty()) continue;
    const BenchProfileRow& first = b.profile.front();
    const std::string step =
        fmt::format("{}: {} batch {} x {} thread{}", bench_name(b.run), first.architecture,
                    first.batch_size, first.threads, first.threads == 1 ? "" : "s");
    order.push_back(step);
    for (const BenchProfileRow& p : b.profile) {
      if (p.direction == "whole") whole.push_back({{"step", step}, {"ms", p.ms_per_step}});
      if (!p.in_sum) continue;
      parts.push_back({{"step", step},
                       {"position", p.position},
                       {"part", p.part},
                       {"direction", p.direction},
                       {"stage", stage_of(p)},
                       {"ms", std::max(0.0, p.ms_per_step)},
                       {"percent", p.percent_of_step}});
    }
  }
  if (parts.empty()) return;
  charts["chart-bench-profile"] = fill_template(
      resources::kChartBenchProfile, {{"parts", parts}, {"whole", whole}, {"order", order}});
}

}  // namespace

void add_bench_charts(const ReportModel& model, json& charts) {
  add_scaling_charts(model, charts);
  add_profile_chart(model, charts);
}

}  // namespace lenetlab::report
