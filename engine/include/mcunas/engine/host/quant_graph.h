// Host only. An int8 graph as plain C++ values: what the quantiser and the
// TFLite importer produce and what the model writer turns into a blob.
//
// Quantisation is given as TFLite gives it (float scales and zero points); the
// writer derives fixed-point multipliers exactly as TFLite Micro's Prepare
// does, so a model imported from .tflite requantises bit-exactly. Plain values;
// thread-compatible.
#ifndef MCUNAS_ENGINE_HOST_QUANT_GRAPH_H_
#define MCUNAS_ENGINE_HOST_QUANT_GRAPH_H_

#include <cstdint>
#include <string>
#include <vector>

#include "mcunas/engine/model_format.h"

namespace mcunas::engine {

struct QuantTensor {
  std::string name;
  TensorType type = TensorType::kInt8;
  std::vector<int32_t> shape;  // activations {1, H, W, C} or {1, C}
  float scale = 0.0f;          // activations; weights use channel_scales
  int32_t zero_point = 0;
  // Weights: one scale per output channel (size 1 = per-tensor). Empty else.
  std::vector<float> channel_scales;
  bool constant = false;      // weights or bias
  std::vector<int8_t> int8_data;    // constant int8 tensors
  std::vector<int32_t> int32_data;  // constant int32 tensors (bias)
};

struct QuantOp {
  OpType type = OpType::kConv2D;
  Activation activation = Activation::kNone;
  int32_t kernel_h = 1, kernel_w = 1;
  int32_t stride_h = 1, stride_w = 1;
  int32_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  int32_t depth_multiplier = 1;
  float beta = 1.0f;          // softmax: exp(beta * x)
  std::vector<int32_t> perm;  // transpose: output dim i = input dim perm[i]
  // Tensor indices. conv/depthwise/fc: {x, weights, bias (or -1)};
  // add: {a, b}; every other op: {x}. Pad pads with the output zero point
  // (pad_top..pad_right); reshape, softmax, mean and quantize take their
  // shapes and quantisation from their tensors.
  std::vector<int32_t> inputs;
  int32_t output = -1;
};

struct QuantGraph {
  std::vector<QuantTensor> tensors;
  std::vector<QuantOp> ops;  // in execution order
  std::vector<int32_t> inputs;
  std::vector<int32_t> outputs;
};

// TFLite "SAME" padding for one spatial dimension: output size and the
// padding before (after gets the rest). For builders and importers.
struct SamePadding {
  int32_t out;
  int32_t before;
  int32_t after;
};
SamePadding ComputeSamePadding(int32_t in, int32_t kernel, int32_t stride);

}  // namespace mcunas::engine

#endif  // MCUNAS_ENGINE_HOST_QUANT_GRAPH_H_
