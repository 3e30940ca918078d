// The augment setting of a run (config/augment_settings.hpp): its keys, parsing, JSON.
#include "config/augment_settings.hpp"

#include <fmt/format.h>

#include <array>
#include <optional>
#include <string>

#include "config/run_settings.hpp"

namespace lenetlab::sweep_detail {
namespace {

using nlohmann::json;
using yaml::Range;
using yaml::YamlReader;

/// A number-valued key of an augment part (these parts hold only numbers).
template <typename S>
struct NumberRow {
  SettingDoc doc;
  double S::*member;
  Range range;
};

using AA = AffineAugment;
using EA = ElasticAugment;
// clang-format off
const std::array<NumberRow<AA>, 4> kAffineRows = {{
  {{"translate", "translate", ">= 0", "2", "pixels; dx and dy each uniform in [-t, t]"}, &AA::translate, Range::non_negative},
  {{"scale", "scale", "in [0, 1)", "0.1", "both axes times 1 + s, s uniform in [-scale, scale]"}, &AA::scale, Range::unit_interval},
  {{"squeeze", "squeeze", "in [0, 1)", "0.1", "x times 1 + q and y times 1 / (1 + q), q uniform in [-squeeze, squeeze]"}, &AA::squeeze, Range::unit_interval},
  {{"shear", "shear", ">= 0", "0.1", "x += h y (y from the centre), h uniform in [-shear, shear]"}, &AA::shear, Range::non_negative},
}};
const std::array<NumberRow<EA>, 2> kElasticRows = {{
  {{"alpha", "alpha", ">= 0", "34", "scale of the smoothed field (pixels)"}, &EA::alpha, Range::non_negative},
  {{"sigma", "sigma", "> 0", "4", "standard deviation of the Gaussian smoothing (pixels)"}, &EA::sigma, Range::positive},
}};
// clang-format on

template <typename S, std::size_t N>
json write_numbers(const std::array<NumberRow<S>, N>& rows, const S& s) {
  json j = json::object();
  for (const NumberRow<S>& row : rows) j[std::string(row.doc.json_key)] = s.*row.member;
  return j;
}
template <typename S, std::size_t N>
S read_numbers(const std::array<NumberRow<S>, N>& rows, const json& j) {
  S s;
  for (const NumberRow<S>& row : rows)
    s.*row.member = j.at(std::string(row.doc.json_key)).template get<double>();
  return s;
}

const yaml::Names kAugmentKeys = {"affine", "elastic"};

/// One part of augment: true (defaults), false (off) or a mapping of `rows` keys (others default).
template <typename S, std::size_t N>
std::optional<S> parse_augment_part(const YamlReader& r, const Field& part,
                                    const std::array<NumberRow<S>, N>& rows) {
  const YAML::Node& node = part.value.node;
  if (node.IsScalar() && yaml::parse_bool(node.Scalar()))
    return *yaml::parse_bool(node.Scalar()) ? std::optional<S>(S{}) : std::nullopt;
  const std::string where = "augment." + part.name;
  yaml::Names names;
  for (const NumberRow<S>& row : rows) names.push_back(row.doc.name);
  if (!node.IsMap()) {
    r.fail(node, fmt::format("expected a mapping ({}) or true/false for '{}', found {}",
                             yaml::join(names), where, yaml::describe(node)));
  }
  S s;
  for (const Field& f : part.value.fields) {
    const NumberRow<S>* row = nullptr;
    for (const NumberRow<S>& candidate : rows)
      if (candidate.doc.name == f.name) row = &candidate;
    if (row == nullptr) r.unknown_key(f.key, where, names);
    s.*row->member = r.number(f.value.node, f.name, row->range);
  }
  return s;
}

}  // namespace

AugmentConfig parse_augment(const YamlReader& r, const ExpandedValue& value) {
  AugmentConfig augment;
  if (value.node.IsScalar() && yaml::parse_bool(value.node.Scalar()) &&
      !*yaml::parse_bool(value.node.Scalar()))
    return augment;
  if (!value.node.IsMap()) {
    r.fail(value.node, fmt::format("expected a mapping (affine, elastic) or false for 'augment', "
                                   "found {}",
                                   yaml::describe(value.node)));
  }
  for (const Field& f : value.fields) {
    if (!yaml::contains(kAugmentKeys, f.name)) r.unknown_key(f.key, "augment", kAugmentKeys);
    if (f.name == "affine") augment.affine = parse_augment_part(r, f, kAffineRows);
    if (f.name == "elastic") augment.elastic = parse_augment_part(r, f, kElasticRows);
  }
  return augment;
}

void write_augment(const AugmentConfig& augment, json& j) {
  if (!augment.enabled()) return;
  json a = json::object();
  if (augment.affine) a["affine"] = write_numbers(kAffineRows, *augment.affine);
  if (augment.elastic) a["elastic"] = write_numbers(kElasticRows, *augment.elastic);
  j["augment"] = std::move(a);
}

AugmentConfig read_augment(const json& j) {
  AugmentConfig augment;
  if (!j.contains("augment")) return augment;
  const json& a = j.at("augment");
  if (a.contains("affine")) augment.affine = read_numbers(kAffineRows, a.at("affine"));
  if (a.contains("elastic")) augment.elastic = read_numbers(kElasticRows, a.at("elastic"));
  return augment;
}

}  // namespace lenetlab::sweep_detail
