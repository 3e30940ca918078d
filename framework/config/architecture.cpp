#include "config/architecture.hpp"

namespace lenetlab {

const char* to_string(LayerKind kind) {
  switch (kind) {
    case LayerKind::conv:
      return "conv";
    case LayerKind::pool:
      return "pool";
    case LayerKind::activation:
      return "activation";
    case LayerKind::batch_norm:
      return "batch_norm";
    case LayerKind::dropout:
      return "dropout";
    case LayerKind::flatten:
      return "flatten";
    case LayerKind::dense:
      return "dense";
    case LayerKind::softmax:
      return "softmax";
  }
  return "unknown";
}

const char* to_string(InitKind kind) {
  switch (kind) {
    case InitKind::glorot_uniform:
      return "glorot_uniform";
    case InitKind::he_uniform:
      return "he_uniform";
    case InitKind::lecun_uniform_1998:
      return "lecun_uniform_1998";
    case InitKind::kaiming_uniform_torch:
      return "kaiming_uniform_torch";
  }
  return "unknown";
}

}  // namespace lenetlab
