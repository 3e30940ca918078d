#include "config/architecture.hpp"

#include <fmt/format.h>

namespace lenetlab {

const char* to_string(LayerKind kind) { return name_of(kLayerKinds, kind).data(); }
const char* to_string(ActivationKind kind) { return name_of(kActivationKinds, kind).data(); }
const char* to_string(InitKind kind) { return name_of(kInitKinds, kind).data(); }

namespace {

// 128-bit: every value is below 2^31, but products of three (c * h * w, filters * c * k * k)
// overflow 64 bits before the limits catch them.
__extension__ typedef __int128 Wide;  // GCC and Clang; __extension__: no -Wpedantic note

/// The running shape of the walk, and what has been counted so far.
struct Walk {
  Wide c, h, w;
  bool flat = false;
  Wide stored = 0;  // parameters as stored (masked weights included): the limit's count
  Wide parameters = 0;
  Wide macs = 0;

  std::string shape() const {
    return flat ? fmt::format("({})", c) : fmt::format("({}, {}, {})", c, h, w);
  }
};

void walk_conv(const LayerSpec& l, Walk& s) {
  const Wide oh = conv_output_size(static_cast<int64_t>(s.h), l.kernel, l.stride, l.padding);
  const Wide ow = conv_output_size(static_cast<int64_t>(s.w), l.kernel, l.stride, l.padding);
  if (oh < 1 || ow < 1) {
    throw ConfigError(l.mark, fmt::format("kernel {} with padding {} does not fit the input {}",
                                          l.kernel, l.padding, s.shape()));
  }
  Wide connected = l.connection_map.empty() ? Wide{l.filters} * s.c : 0;
  for (std::size_t o = 0; o < l.connection_map.size(); ++o) {
    connected += static_cast<Wide>(l.connection_map[o].size());
    for (const int channel : l.connection_map[o]) {
      if (channel >= s.c) {
        throw ConfigError(l.mark, fmt::format("connection_map[{}] names input channel {}, the "
                                              "input has {} channels",
                                              o, channel, s.c));
      }
    }
  }
  const Wide kk = Wide{l.kernel} * l.kernel;
  s.stored += Wide{l.filters} * (s.c * kk + 1);
  s.parameters += connected * kk + l.filters;
  s.macs += connected * kk * oh * ow;
  s.c = l.filters, s.h = oh, s.w = ow;
}

void walk_pool(const LayerSpec& l, Walk& s) {
  const Wide oh = conv_output_size(static_cast<int64_t>(s.h), l.kernel, l.stride, 0);
  const Wide ow = conv_output_size(static_cast<int64_t>(s.w), l.kernel, l.stride, 0);
  if (oh < 1 || ow < 1) {
    throw ConfigError(l.mark, fmt::format("pool size {} does not fit the input {}: a dimension "
                                          "would be zero",
                                          l.kernel, s.shape()));
  }
  if (l.pool_trainable) s.stored += 2 * s.c, s.parameters += 2 * s.c;
  s.h = oh, s.w = ow;
}

/// One layer's step of the walk: its output shape and what it adds to the counts.
void walk_layer(const LayerSpec& l, Walk& s) {
  const char* kind = to_string(l.kind);
  if (s.flat && (l.kind == LayerKind::conv || l.kind == LayerKind::pool)) {
    throw ConfigError(l.mark, fmt::format("{} needs a (C, H, W) input, but its input is flat {} "
                                          "(after flatten or dense)",
                                          kind, s.shape()));
  }
  switch (l.kind) {
    case LayerKind::conv:
      walk_conv(l, s);
      break;
    case LayerKind::pool:
      walk_pool(l, s);
      break;
    case LayerKind::batch_norm:
      s.stored += 4 * s.c, s.parameters += 4 * s.c;  // gamma, beta, moving mean, moving variance
      break;
    case LayerKind::flatten:
      s.c = s.c * s.h * s.w, s.h = 1, s.w = 1, s.flat = true;
      break;
    case LayerKind::dense:
      if (!s.flat) {
        throw ConfigError(l.mark, fmt::format("dense needs a flat input; add `- flatten` before "
                                              "it (its input is {})",
                                              s.shape()));
      }
      s.stored += (s.c + 1) * l.units, s.parameters += (s.c + 1) * l.units;
      s.macs += s.c * l.units;
      s.c = l.units;
      break;
    case LayerKind::activation:
    case LayerKind::dropout:
    case LayerKind::softmax:
      break;
  }
  if (s.c * s.h * s.w > kMaxElementsPerImage) {
    throw ConfigError(l.mark, fmt::format("{} outputs {} = {} values per image, more than "
                                          "lenetlab's limit of {}",
                                          kind, s.shape(), s.c * s.h * s.w, kMaxElementsPerImage));
  }
  if (s.stored > kMaxParameters) {
    throw ConfigError(l.mark,
                      fmt::format("the network has {} parameters up to this {} layer, "
                                  "more than lenetlab's limit of {} ({} MB of float32 "
                                  "weights)",
                                  s.stored, kind, kMaxParameters, kMaxParameters * 4 / 1000000));
  }
}

}  // namespace

ArchCost arch_cost(const ArchSpec& arch) {
  Walk s{arch.input_channels, arch.input_height, arch.input_width};
  if (s.c * s.h * s.w > kMaxElementsPerImage) {
    throw ConfigError(arch.input_mark, fmt::format("the input has {} values per image, more than "
                                                   "lenetlab's limit of {}",
                                                   s.c * s.h * s.w, kMaxElementsPerImage));
  }
  for (const LayerSpec& layer : arch.layers) walk_layer(layer, s);
  return ArchCost{static_cast<int64_t>(s.macs), static_cast<int64_t>(s.parameters)};
}

}  // namespace lenetlab
