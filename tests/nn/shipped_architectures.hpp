// Hand-built ArchSpecs that mirror experiments/architectures/*.yaml, for the engine and training
// tests (tests/nn, tests/train).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "config/architecture.hpp"
#include "nn/layers.hpp"  // before nn_test_util.hpp, which uses it
#include "nn_test_util.hpp"

namespace lenetlab::test {

inline ArchSpec make_arch(const std::string& name, int height, InitKind init,
                          std::vector<LayerSpec> layers) {
  ArchSpec a;
  a.name = name;
  a.file = "experiments/architectures/" + name + ".yaml";
  a.input_channels = 1;
  a.input_height = a.input_width = height;
  a.num_classes = 10;
  a.init = init;
  a.layers = std::move(layers);
  return a;
}

/// experiments/architectures/lenet-relu.yaml
inline ArchSpec lenet_relu() {
  return make_arch(
      "lenet-relu", 28, InitKind::glorot_uniform,
      {conv_spec(20, 5, 1, 2), activation_spec("relu"), pool_spec(true, 2), conv_spec(50, 5, 1, 2),
       activation_spec("relu"), pool_spec(true, 2), flatten_spec(), dense_spec(500),
       activation_spec("relu"), dense_spec(10), softmax_spec()});
}

/// experiments/architectures/lenet5-relu.yaml
inline ArchSpec lenet5_relu() {
  return make_arch("lenet5-relu", 28, InitKind::glorot_uniform,
                   {conv_spec(6, 5), activation_spec("relu"), pool_spec(true, 2), conv_spec(16, 5),
                    activation_spec("relu"), pool_spec(true, 2), flatten_spec(), dense_spec(120),
                    activation_spec("relu"), dense_spec(84), activation_spec("relu"),
                    dense_spec(10), softmax_spec()});
}

/// experiments/architectures/lenet5-bn.yaml
inline ArchSpec lenet5_bn() {
  return make_arch("lenet5-bn", 28, InitKind::glorot_uniform,
                   {conv_spec(6, 5), batch_norm_spec(), activation_spec("relu"),
                    pool_spec(false, 2), batch_norm_spec(), conv_spec(16, 5), batch_norm_spec(),
                    activation_spec("relu"), pool_spec(false, 2), batch_norm_spec(), flatten_spec(),
                    dense_spec(120), activation_spec("relu"), batch_norm_spec(), dense_spec(84),
                    activation_spec("relu"), batch_norm_spec(), dense_spec(10), softmax_spec()});
}

/// experiments/architectures/lenet5-bn-dropout.yaml
inline ArchSpec lenet5_bn_dropout() {
  return make_arch("lenet5-bn-dropout", 28, InitKind::glorot_uniform,
                   {conv_spec(6, 5, 1, 2), activation_spec("relu"), pool_spec(true, 2),
                    batch_norm_spec(), dropout_spec(0.1), conv_spec(16, 5), activation_spec("relu"),
                    pool_spec(true, 2), batch_norm_spec(), dropout_spec(0.3), flatten_spec(),
                    dense_spec(120), activation_spec("relu"), dense_spec(84),
                    activation_spec("relu"), dense_spec(10), softmax_spec()});
}

/// experiments/architectures/lenet5.yaml: LeNet-5 of LeCun et al. 1998 (32x32 input, scaled tanh,
/// trainable subsampling, C3 connection table, LeCun's uniform initialisation).
inline ArchSpec lenet5_1998() {
  LayerSpec c3 = conv_spec(16, 5);
  c3.connection_map = lenet5_c3_map();
  const auto act = [] { return activation_spec("scaled_tanh"); };
  return make_arch("lenet5", 32, InitKind::lecun_uniform_1998,
                   {conv_spec(6, 5), act(), pool_spec(false, 2, 2, true), act(), c3, act(),
                    pool_spec(false, 2, 2, true), act(), flatten_spec(), dense_spec(120), act(),
                    dense_spec(84), act(), dense_spec(10), softmax_spec()});
}

}  // namespace lenetlab::test
