// The settings of a run, described once. Each row of the tables in run_settings.cpp gives a
// setting's YAML key, JSON key, type and range, default and a doc line; from the rows come the
// sweep loader's parsing of base/recipes/grid (config/sweep_builder.cpp), RunConfig::to_json and
// RunConfig::from_json (config/run_config.cpp), and the test that sweeps/README.md documents every
// key (tests/config/test_run_settings.cpp). sweeps/README.md is the user document of the format.
//
// Adding a setting: a member of RunConfig (or OptimizerConfig, EarlyStoppingConfig) with its
// default, a row in the matching table of run_settings.cpp, and a row in the sweeps/README.md
// table. A setting of a new kind of value (not an integer, number or boolean) also gets its own
// parse/write/read functions beside the row. The JSON key of a new setting must be written only
// when it differs from its default (as learning_rate_schedule is), so that the keys of existing
// runs do not change.
#pragma once

#include <string_view>
#include <vector>

namespace lenetlab {

/// The documentation of one key, as sweeps/README.md shows it.
struct SettingDoc {
  /// YAML key.
  std::string_view name;
  /// Key in RunConfig::to_json() ("" when the setting is folded into another, as learning_rate
  /// is into optimizer.learning_rate).
  std::string_view json_key;
  /// Type and range, e.g. "integer > 0".
  std::string_view value;
  std::string_view default_value;
  std::string_view doc;
};

/// Keys of base, a recipe and the grid, in table order.
std::vector<SettingDoc> run_setting_docs();
/// Keys of an optimizer mapping (`name` included).
std::vector<SettingDoc> optimizer_setting_docs();
/// Keys of an early_stopping mapping.
std::vector<SettingDoc> early_stopping_setting_docs();

}  // namespace lenetlab
