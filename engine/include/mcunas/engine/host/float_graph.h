// Host only. A float32 model as plain C++ values: what the model builders
// (random MBNet models, the supernet) produce and what the float reference
// runs and the quantiser turns into a QuantGraph.
//
// Tensors are activations only, batch 1: {1, H, W, C} (NHWC) or {1, C}.
// Weights, bias and batch norm live in the op that uses them. Ops are stored
// in execution order; every op input is the graph input or the output of an
// earlier op. Plain values; thread-compatible.
//
//   FloatGraph g;
//   int32_t x = AddGraphInput(&g, "image", {1, 32, 32, 3});
//   FloatOp conv;
//   conv.type = FloatOpType::kConv2D;
//   conv.kernel_h = conv.kernel_w = 3;
//   conv.out_channels = 16;
//   conv.weights = ...;  // OHWI, 16 * 3 * 3 * 3 values
//   conv.inputs = {x};
//   absl::StatusOr<int32_t> y = AppendOp(&g, std::move(conv), "stem");
//   if (y.ok()) g.output = *y;
#ifndef MCUNAS_ENGINE_HOST_FLOAT_GRAPH_H_
#define MCUNAS_ENGINE_HOST_FLOAT_GRAPH_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mcunas/engine/model_format.h"

namespace mcunas::engine {

enum class FloatOpType {
  // SAME padding (TFLite's, see ComputeSamePadding). weights OHWI
  // [out_channels][kernel_h][kernel_w][C_in].
  kConv2D,
  // Depth multiplier 1, SAME padding. weights [kernel_h][kernel_w][C].
  kDepthwiseConv2D,
  // Element-wise sum of two tensors of the same shape.
  kAdd,
  // Mean over the whole H x W of a {1, H, W, C} tensor; output {1, 1, 1, C}.
  kGlobalAveragePool,
  // Input flattened (any shape); weights [out_channels][elements]; output
  // {1, out_channels}.
  kFullyConnected,
};

// Inference-mode batch norm after a convolution, per output channel:
//   y = gamma * (x - mean) / sqrt(var + eps) + beta.
struct BatchNorm {
  std::vector<float> gamma;
  std::vector<float> beta;
  std::vector<float> mean;
  std::vector<float> var;
  float eps = 1e-3f;
};

struct FloatTensor {
  std::string name;
  std::vector<int32_t> shape;  // {1, H, W, C} or {1, C}
};

struct FloatOp {
  FloatOpType type = FloatOpType::kConv2D;
  std::string name;  // for messages; may be empty
  // Applied last: after bias and batch norm (or after the sum for add).
  Activation activation = Activation::kNone;
  int32_t kernel_h = 1, kernel_w = 1;  // conv and depthwise
  int32_t stride_h = 1, stride_w = 1;  // conv and depthwise
  int32_t out_channels = 0;            // conv and fully connected
  std::vector<int32_t> inputs;  // tensor indices; add has two, others one
  int32_t output = -1;
  std::vector<float> weights;           // conv, depthwise, fully connected
  std::vector<float> bias;              // [C_out], or empty for none
  std::optional<BatchNorm> batch_norm;  // conv and depthwise only
};

struct FloatGraph {
  std::vector<FloatTensor> tensors;
  std::vector<FloatOp> ops;  // in execution order
  int32_t input = -1;
  int32_t output = -1;
};

// "conv", "depthwise conv", ...
const char* FloatOpTypeName(FloatOpType type);

// Product of the dimensions (1 for an empty shape).
int64_t ShapeElements(const std::vector<int32_t>& shape);

// Channels of a weighted op's output (out_channels, or C for depthwise);
// 0 for ops without weights. REQUIRES: op's inputs are valid tensor indices.
int32_t OutputChannels(const FloatGraph& graph, const FloatOp& op);

// Adds an activation tensor, makes it the graph input and returns its index.
int32_t AddGraphInput(FloatGraph* graph, std::string name,
                      std::vector<int32_t> shape);

// Checks `op` against the tensors it reads (input count and shapes, weight,
// bias and batch-norm sizes, finite values) and returns the shape its output
// must have. Does not look at op.output. The error names the op.
absl::StatusOr<std::vector<int32_t>> InferOutputShape(const FloatGraph& graph,
                                                      const FloatOp& op);

// Validates `op`, adds its output tensor (named `output_name`, shape
// inferred), sets op.output, appends the op and returns the output index. On
// failure `*graph` is unchanged.
absl::StatusOr<int32_t> AppendOp(FloatGraph* graph, FloatOp op,
                                 std::string output_name);

// Validates the whole graph: tensor shapes, input/output indices, every op
// (as InferOutputShape, plus its output shape), execution order (inputs
// defined before use) and that each tensor is produced once. The error names
// the op or tensor that is wrong.
absl::Status ValidateFloatGraph(const FloatGraph& graph);

}  // namespace mcunas::engine

#endif  // MCUNAS_ENGINE_HOST_FLOAT_GRAPH_H_
