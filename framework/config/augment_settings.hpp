// The augment run setting: `{affine: {translate, scale, squeeze, shear} | true | false,
// elastic: {alpha, sigma} | true | false}` or false (sweeps/README.md "Distortions (`augment`)"). Its keys and
// defaults come from LeCun et al. 1998 sec. III-B (affine) and Simard et al. 2003 sec. 2 (elastic);
// the augment row of config/run_settings.cpp calls these.
#pragma once

#include <nlohmann/json.hpp>

#include "config/run_config.hpp"
#include "config/sweep_values.hpp"

namespace lenetlab::sweep_detail {

/// Parses a sweep's augment value: false (none), or a mapping of affine/elastic parts, each true
/// (its defaults), false (off) or a mapping of its keys (the others default). Throws ConfigError
/// (file:line:column) for an unknown key, a value out of range or another kind of node.
AugmentConfig parse_augment(const yaml::YamlReader& r, const ExpandedValue& value);
/// Writes `augment` into `j` only when some distortion is on, so that runs without keep the keys
/// they had before the setting existed.
void write_augment(const AugmentConfig& augment, nlohmann::json& j);
/// Inverse of write_augment (none when `j` has no augment key). Throws nlohmann::json::exception
/// for a part without one of its keys.
AugmentConfig read_augment(const nlohmann::json& j);

}  // namespace lenetlab::sweep_detail
