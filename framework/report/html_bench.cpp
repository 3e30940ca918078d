// The benchmark section: the environment of each `lenetlab bench` run, the throughput table of
// matrix benches with its charts against threads and batch size, and profiled training steps.
#include <fmt/format.h>

#include "report/html_sections.hpp"

namespace lenetlab::report {

namespace {

Html environment_rows(const ReportModel& model) {
  Html rows;
  for (const BenchRun& b : model.bench) {
    const BenchRunRow& r = b.run;
    rows += html(
        "<tr><td class=\"num\">{}</td><td>{}</td><td class=\"mono\">{}</td><td>{}</td><td>{}</td>"
        "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"mono\">{}</td><td>{}</td>"
        "<td>{}</td><td>{}</td><td class=\"mono\">{}</td><td class=\"mono\">{}</td><td>{}</td>"
        "</tr>\n",
        r.id, r.kind, r.started_at, r.finished_at.value_or("(did not finish)"),
        r.host + " / " + r.cpu_model, r.cores,
        r.load_average ? fmt::format("{:.2f}", *r.load_average) : std::string("\u2014"), r.isa,
        r.onednn_version, r.tbb_version, r.compiler + " " + r.build_type, r.build_flags,
        r.git_commit, r.dataset);
  }
  return rows;
}

Html throughput_rows(const ReportModel& model) {
  Html rows;
  for (const BenchRun& b : model.bench)
    for (const BenchResultRow& r : b.results)
      rows += html(
          "<tr><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}"
          "</td><td>{}</td><td class=\"num\">{:.0f}</td><td class=\"num\">{:.0f}</td>"
          "<td class=\"num\">{:.0f}</td><td class=\"num\">{} x {}</td></tr>\n",
          b.run.id, r.architecture, r.batch_size, r.threads, r.mode, r.images_per_second_min,
          r.images_per_second_median, r.images_per_second_max, r.repetitions, r.steps);
  return rows;
}

}  // namespace

Html bench_section(const ReportModel& model, const nlohmann::json& charts) {
  if (model.bench.empty()) return {};
  Html out(
      "<section id=\"bench\">\n<h2>Benchmark</h2>\n<p class=\"note\">From <code>lenetlab bench"
      "</code> (experiments/bench/README.md): every bench run in the database, whichever sweep "
      "this report is about. Throughput is images per second over timed repetitions of a fixed "
      "number of steps; the load average says how busy the machine was when the run "
      "started.</p>\n<h3>Environment of each bench run</h3>\n<div class=\"scroll\">"
      "<table id=\"bench-runs\"><thead><tr><th class=\"num\">run</th><th>kind</th>"
      "<th>started</th><th>finished</th><th>host / CPU</th><th class=\"num\">cores</th>"
      "<th class=\"num\">load avg.</th><th>ISA</th><th>oneDNN</th><th>TBB</th>"
      "<th>compiler, build</th><th>flags</th><th>git commit</th><th>dataset</th></tr></thead>"
      "<tbody>\n");
  out += environment_rows(model);
  out += "</tbody></table></div>\n";
  if (charts.contains("chart-bench-threads")) {
    out +=
        "<h3>Throughput</h3>\n<p class=\"note\">Training: a full step (input fill, forward, loss, "
        "backward, SGD update); inference: input fill and forward. Median of the repetitions, "
        "with their minimum and maximum.</p>\n<h3>Scaling with threads</h3>\n<div "
        "class=\"chart\" id=\"chart-bench-threads\"></div>\n<h3>Scaling with batch size</h3>\n"
        "<div class=\"chart\" id=\"chart-bench-batch\"></div>\n<details><summary>Table of "
        "every case</summary><div class=\"scroll\"><table id=\"bench-table\" class=\"sortable\">"
        "<thead><tr><th class=\"num\">run</th><th>architecture</th><th class=\"num\">batch</th>"
        "<th class=\"num\">threads</th><th>mode</th><th class=\"num\">min images/s</th>"
        "<th class=\"num\">median images/s</th><th class=\"num\">max images/s</th>"
        "<th class=\"num\">repetitions x steps</th></tr></thead><tbody>\n";
    out += throughput_rows(model);
    out += "</tbody></table></div></details>\n";
  }
  if (charts.contains("chart-bench-profile"))
    out +=
        "<h3>Training step, part by part</h3>\n<p class=\"note\">Profile benches (<code>lenetlab "
        "bench --profile ARCH</code>): the disjoint parts of a step, median milliseconds per "
        "step; the black tick is the uninstrumented whole step (timing each part adds "
        "overhead, so the parts may sum to more).</p>\n<div class=\"chart\" "
        "id=\"chart-bench-profile\"></div>\n";
  out += "</section>\n";
  return out;
}

}  // namespace lenetlab::report
