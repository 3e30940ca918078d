// The report's charts: Vega-Lite specs filled from the model. The specs are templates in
// report/resources/*.vl.json, embedded at build time; a template marks each place the model fills
// with a string "@name" (the whole JSON value), and its "$comment" says what each one holds.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "report/model.hpp"

namespace lenetlab::report {

/// Parses `template_text` and replaces every string value "@name" by values.at("name"); drops the
/// top-level "$comment". Throws std::logic_error naming the placeholder when a value is missing
/// or a value is not used (a template and its caller disagree), nlohmann::json::parse_error when
/// the template is not JSON.
nlohmann::json fill_template(std::string_view template_text,
                             const std::map<std::string, nlohmann::json>& values);

/// The specs of the charts the model has data for, keyed by the id of the element each one draws
/// into: "chart-accuracy" (configurations with a test accuracy), "chart-loss" and
/// "chart-curve-accuracy" (runs with epochs), "chart-confusion" (a best run with cells).
nlohmann::json chart_specs(const ReportModel& model);

}  // namespace lenetlab::report
