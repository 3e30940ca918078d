#include "config/architecture_loader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "config/yaml_reader.hpp"

namespace lenetlab {
namespace {

namespace fs = std::filesystem;
using namespace yaml;
using Reader = YamlReader;

const Names kArchKeys = {"name", "description", "source", "input", "init", "num_classes", "layers"};
const Names kInputKeys = {"channels", "height", "width"};
const Names kConvKeys = {"filters", "kernel", "stride", "padding", "connection_map", "init"};
const Names kPoolKeys = {"type", "size", "stride", "trainable"};
const Names kPoolTypes = {"max", "avg"};
const Names kBatchNormKeys = {"momentum", "epsilon"};
const Names kDropoutKeys = {"rate"};
const Names kDenseKeys = {"units", "init"};

InitKind parse_init(const Reader& r, const YAML::Node& v) {
  return kInitKinds[r.one_of(v, "initializer", names_of(kInitKinds))].value;
}

void parse_connection_map(const Reader& r, const YAML::Node& v, LayerSpec& layer) {
  if (!v.IsSequence() || v.size() == 0) {
    r.fail(v, fmt::format("expected a list (one list of input channels per filter) for "
                          "'connection_map', found {}",
                          describe(v)));
  }
  for (const YAML::Node& entry : v) {
    if (!entry.IsSequence() || entry.size() == 0) {
      r.fail(entry, fmt::format("expected a non-empty list of input channel indices in "
                                "'connection_map', found {}",
                                describe(entry)));
    }
    std::vector<int> channels;
    for (const YAML::Node& index : entry) {
      const int c = static_cast<int>(r.integer(index, "connection_map", 0));
      if (std::find(channels.begin(), channels.end(), c) != channels.end()) {
        r.fail(index, fmt::format("input channel {} listed twice in this connection_map entry", c));
      }
      channels.push_back(c);
    }
    layer.connection_map.push_back(std::move(channels));
  }
}

void parse_conv(const Reader& r, const YAML::Node& params, LayerSpec& layer) {
  r.expect_map(params, "conv");
  std::optional<YAML::Node> filters, kernel, padding, map;
  r.for_each_field(params, "conv", kConvKeys,
                   [&](const std::string& k, const YAML::Node&, const YAML::Node& v) {
                     if (k == "filters") {
                       layer.filters = static_cast<int>(r.integer(v, k, 1));
                       filters.emplace(v);
                     } else if (k == "kernel") {
                       layer.kernel = static_cast<int>(r.integer(v, k, 1));
                       kernel.emplace(v);
                     } else if (k == "stride") {
                       layer.stride = static_cast<int>(r.integer(v, k, 1));
                     } else if (k == "padding") {
                       padding.emplace(v);
                     } else if (k == "connection_map") {
                       map.emplace(v);
                     } else if (k == "init") {
                       layer.init = parse_init(r, v);
                       layer.has_init = true;
                     }
                   });
  if (!filters) r.fail(params, "conv needs 'filters' (number of output channels)");
  if (!kernel) r.fail(params, "conv needs 'kernel' (square kernel size)");
  if (padding) {
    const YAML::Node& v = *padding;
    const std::string text = v.IsScalar() ? v.Scalar() : std::string();
    if (text == "same") {
      if (layer.kernel % 2 == 0) {
        r.fail(v, fmt::format("padding 'same' needs an odd kernel, found kernel {}; give the "
                              "padding as a number",
                              layer.kernel));
      }
      layer.padding = layer.kernel / 2;
    } else if (text == "valid") {
      layer.padding = 0;
    } else {
      const std::optional<int64_t> p = v.IsScalar() ? parse_int(text) : std::nullopt;
      if (!p || *p < 0 || *p > kMaxInt) {
        r.fail(v, fmt::format("expected 'same', 'valid' or a non-negative integer for 'padding', "
                              "found {}",
                              describe(v)));
      }
      layer.padding = static_cast<int>(*p);
    }
  }
  if (map) {
    parse_connection_map(r, *map, layer);
    if (static_cast<int>(layer.connection_map.size()) != layer.filters) {
      r.fail(*map, fmt::format("connection_map has {} entries but the layer has {} filters; give "
                               "one list of input channels per filter",
                               layer.connection_map.size(), layer.filters));
    }
  }
}

void parse_pool(const Reader& r, const YAML::Node& params, LayerSpec& layer) {
  r.expect_map(params, "pool");
  std::optional<YAML::Node> type, size, stride, trainable;
  r.for_each_field(params, "pool", kPoolKeys,
                   [&](const std::string& k, const YAML::Node&, const YAML::Node& v) {
                     if (k == "type") {
                       layer.pool_max = r.one_of(v, "pool type", kPoolTypes) == 0;
                       type.emplace(v);
                     } else if (k == "size") {
                       layer.kernel = static_cast<int>(r.integer(v, k, 1));
                       size.emplace(v);
                     } else if (k == "stride") {
                       layer.stride = static_cast<int>(r.integer(v, k, 1));
                       stride.emplace(v);
                     } else if (k == "trainable") {
                       layer.pool_trainable = r.boolean(v, k);
                       trainable.emplace(v);
                     }
                   });
  if (!type) r.fail(params, "pool needs 'type' (max or avg)");
  if (!size) r.fail(params, "pool needs 'size' (square window size)");
  if (!stride) layer.stride = layer.kernel;
  if (layer.pool_trainable && layer.pool_max) {
    r.fail(*trainable,
           "'trainable' applies to average pooling only (LeNet-5 subsampling); use "
           "type: avg");
  }
}

void parse_batch_norm(const Reader& r, const YAML::Node& params, LayerSpec& layer) {
  if (params.IsNull()) return;
  r.expect_map(params, "batch_norm");
  r.for_each_field(params, "batch_norm", kBatchNormKeys,
                   [&](const std::string& k, const YAML::Node&, const YAML::Node& v) {
                     if (k == "momentum") layer.bn_momentum = r.number(v, k, Range::unit_interval);
                     if (k == "epsilon") layer.bn_epsilon = r.number(v, k, Range::positive);
                   });
}

void parse_dropout(const Reader& r, const YAML::Node& params, LayerSpec& layer) {
  if (params.IsScalar()) {
    layer.rate = r.number(params, "dropout", Range::unit_interval);
    return;
  }
  if (!params.IsMap()) {
    r.fail(params,
           fmt::format("expected a rate in [0, 1) or {{rate: RATE}} for 'dropout', found {}",
                       describe(params)));
  }
  bool has_rate = false;
  r.for_each_field(params, "dropout", kDropoutKeys,
                   [&](const std::string& k, const YAML::Node&, const YAML::Node& v) {
                     layer.rate = r.number(v, k, Range::unit_interval);
                     has_rate = true;
                   });
  if (!has_rate) r.fail(params, "dropout needs 'rate' (fraction dropped, in [0, 1))");
}

/// Returns the node of 'units' (for the output-layer check).
YAML::Node parse_dense(const Reader& r, const YAML::Node& params, LayerSpec& layer) {
  r.expect_map(params, "dense");
  std::optional<YAML::Node> units;
  r.for_each_field(params, "dense", kDenseKeys,
                   [&](const std::string& k, const YAML::Node&, const YAML::Node& v) {
                     if (k == "units") {
                       layer.units = static_cast<int>(r.integer(v, k, 1));
                       units.emplace(v);
                     } else if (k == "init") {
                       layer.init = parse_init(r, v);
                       layer.has_init = true;
                     }
                   });
  if (!units) r.fail(params, "dense needs 'units' (number of outputs)");
  return *units;
}

/// One item of `layers`: a plain kind name or a single-key mapping `kind: params`.
/// A dense layer's `units` node is stored in `units_node` (for the output-layer check).
LayerSpec parse_layer(const Reader& r, const YAML::Node& item,
                      std::optional<YAML::Node>& units_node) {
  LayerSpec layer;
  layer.mark = r.at(item);
  if (!item.IsScalar() && !(item.IsMap() && item.size() >= 1)) {
    r.fail(item, fmt::format("expected a layer ('kind: parameters' or a plain kind such as "
                             "flatten), found {}",
                             describe(item)));
  }
  if (item.IsMap() && item.size() > 1) {
    const YAML::Node second = std::next(item.begin())->first;
    r.fail(second, fmt::format("a layer is one 'kind: parameters' pair; found a second key {} "
                               "(check the indentation)",
                               describe(second)));
  }
  // Note: YAML::Node's operator= rebinds shared node data, so nodes are only ever copy-constructed.
  const YAML::Node kind_node = item.IsScalar() ? item : item.begin()->first;
  const YAML::Node params = item.IsScalar() ? YAML::Node() : item.begin()->second;  // Null: plain
  if (!kind_node.IsScalar()) {
    r.fail(kind_node, fmt::format("expected a layer kind, found {}", describe(kind_node)));
  }
  const std::string& kind = kind_node.Scalar();
  const std::optional<LayerKind> found = value_of(kLayerKinds, kind);
  if (!found) {
    const Names kinds = names_of(kLayerKinds);
    r.fail(kind_node, fmt::format("unknown layer kind '{}'; valid kinds: {}{}", kind, join(kinds),
                                  suggestion(kind, kinds)));
  }
  layer.kind = *found;
  const bool plain = params.IsNull();
  const auto needs_params = [&](const char* example) {
    if (plain) {
      r.fail(item, fmt::format("layer '{}' needs parameters, e.g. '- {}'", kind, example));
    }
  };
  switch (layer.kind) {
    case LayerKind::conv:
      needs_params("conv: {filters: 6, kernel: 5}");
      parse_conv(r, params, layer);
      break;
    case LayerKind::pool:
      needs_params("pool: {type: max, size: 2}");
      parse_pool(r, params, layer);
      break;
    case LayerKind::activation:
      needs_params("activation: relu");
      layer.activation =
          kActivationKinds[r.one_of(params, "activation", names_of(kActivationKinds))].value;
      break;
    case LayerKind::batch_norm:
      parse_batch_norm(r, params, layer);
      break;
    case LayerKind::dropout:
      needs_params("dropout: 0.5");
      parse_dropout(r, params, layer);
      break;
    case LayerKind::dense:
      needs_params("dense: {units: 10}");
      units_node.emplace(parse_dense(r, params, layer));
      break;
    case LayerKind::flatten:
    case LayerKind::softmax:
      if (!plain) {
        r.fail(params, fmt::format("'{}' takes no parameters; write '- {}'", kind, kind));
      }
      break;
  }
  return layer;
}

/// The output must be: ..., dense(num_classes), softmax -- softmax exactly once, last.
void check_output(const Reader& r, const YAML::Node& layers_node, const ArchSpec& arch,
                  const std::vector<YAML::Node>& nodes, const std::vector<YAML::Node>& blame) {
  const std::size_t n = arch.layers.size();
  for (std::size_t i = 0; i + 1 < n; ++i) {
    if (arch.layers[i].kind == LayerKind::softmax) {
      r.fail(nodes[i],
             fmt::format("softmax must be the last layer (it is layer {} of {})", i + 1, n));
    }
  }
  if (n == 0) r.fail(layers_node, "'layers' is empty");
  if (arch.layers[n - 1].kind != LayerKind::softmax) {
    r.fail(nodes[n - 1], fmt::format("the last layer must be softmax (the network's output), found "
                                     "'{}'",
                                     to_string(arch.layers[n - 1].kind)));
  }
  if (n < 2 || arch.layers[n - 2].kind != LayerKind::dense) {
    r.fail(nodes[n - 1],
           fmt::format("softmax must directly follow a dense layer with num_classes ({}) units, "
                       "found {} before it",
                       arch.num_classes,
                       n < 2 ? std::string("nothing")
                             : fmt::format("'{}'", to_string(arch.layers[n - 2].kind))));
  }
  if (arch.layers[n - 2].units != arch.num_classes) {
    r.fail(blame[n - 2], fmt::format("the output dense layer has {} units but num_classes is {}",
                                     arch.layers[n - 2].units, arch.num_classes));
  }
}

void parse_input(const Reader& r, const YAML::Node& v, ArchSpec& arch) {
  arch.input_mark = r.at(v);
  r.expect_map(v, "input");
  int seen = 0;
  r.for_each_field(v, "input", kInputKeys,
                   [&](const std::string& k, const YAML::Node&, const YAML::Node& iv) {
                     const int value = static_cast<int>(r.integer(iv, k, 1));
                     if (k == "channels") arch.input_channels = value;
                     if (k == "height") arch.input_height = value;
                     if (k == "width") arch.input_width = value;
                     ++seen;
                   });
  if (seen != 3) r.fail(v, "input needs channels, height and width");
}

/// One top-level key of an architecture file (`layers` is parsed by the caller).
void parse_arch_field(const Reader& r, const std::string& k, const YAML::Node& v, ArchSpec& arch) {
  if (k == "name") {
    arch.name = r.string(v, k);
    if (!is_simple_name(arch.name)) {
      r.fail(v, fmt::format("invalid architecture name '{}'; use letters, digits, '_', '.' and '-'",
                            arch.name));
    }
  } else if (k == "description") {
    arch.description = r.string(v, k);
  } else if (k == "source") {
    arch.source = r.string(v, k);
  } else if (k == "input") {
    parse_input(r, v, arch);
  } else if (k == "init") {
    arch.init = parse_init(r, v);
  } else if (k == "num_classes") {
    arch.num_classes = static_cast<int>(r.integer(v, k, 2));
  }
}

}  // namespace

ArchSpec load_architecture(const fs::path& file) {
  return parse_architecture(read_yaml_file(file), file.string());
}

ArchSpec parse_architecture(const std::string& text, const std::string& file_name) {
  const YAML::Node root = parse_document(text, file_name);
  const Reader r(file_name);
  ArchSpec arch;
  arch.file = file_name;
  arch.yaml = text;
  arch.input_mark = r.at(root);
  std::optional<YAML::Node> name, layers;
  r.for_each_field(root, "architecture", kArchKeys,
                   [&](const std::string& k, const YAML::Node&, const YAML::Node& v) {
                     if (k == "name") name.emplace(v);
                     if (k == "layers") layers.emplace(v);
                     parse_arch_field(r, k, v, arch);
                   });
  if (!name) r.fail(root, "missing required key 'name' in architecture");
  if (!layers) r.fail(root, "missing required key 'layers' in architecture");
  if (!layers->IsSequence()) {
    r.fail(*layers,
           fmt::format("expected a list of layers for 'layers', found {}", describe(*layers)));
  }
  std::vector<YAML::Node> nodes, blame;
  for (const YAML::Node& item : *layers) {
    std::optional<YAML::Node> units;
    arch.layers.push_back(parse_layer(r, item, units));
    nodes.push_back(item);
    blame.push_back(units ? *units : item);
  }
  check_output(r, *layers, arch, nodes, blame);
  arch_cost(arch);  // the shapes: throws at the layer that does not fit
  return arch;
}

}  // namespace lenetlab
