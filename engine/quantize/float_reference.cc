#include "mcunas/engine/host/float_reference.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "mcunas/common/status_macros.h"
#include "mcunas/engine/host/quant_graph.h"

namespace mcunas::engine {
namespace {

double Activate(Activation activation, double x) {
  switch (activation) {
    case Activation::kNone:
      return x;
    case Activation::kRelu:
      return std::max(x, 0.0);
    case Activation::kRelu6:
      return std::min(std::max(x, 0.0), 6.0);
  }
  return x;
}

// Bias, batch norm and activation for output channel `c` of a weighted op.
double Finish(const FloatOp& op, int32_t c, double acc) {
  if (!op.bias.empty()) acc += op.bias[c];
  if (op.batch_norm.has_value()) {
    const BatchNorm& bn = *op.batch_norm;
    acc = bn.gamma[c] * (acc - bn.mean[c]) /
              std::sqrt(static_cast<double>(bn.var[c]) + bn.eps) +
          bn.beta[c];
  }
  return Activate(op.activation, acc);
}

struct Dims {
  int32_t h, w, c;
};

Dims DimsOf(const std::vector<int32_t>& shape) {
  if (shape.size() == 4) return {shape[1], shape[2], shape[3]};
  return {1, 1, shape.back()};
}

// Conv (OHWI weights) or depthwise ([kh][kw][C] weights), SAME padding.
// O(out elements * kernel area * (C_in for conv, 1 for depthwise)).
void Convolve(const FloatOp& op, bool depthwise, Dims in,
              const std::vector<float>& x, Dims out, std::vector<float>* y) {
  const SamePadding pad_h = ComputeSamePadding(in.h, op.kernel_h, op.stride_h);
  const SamePadding pad_w = ComputeSamePadding(in.w, op.kernel_w, op.stride_w);
  for (int32_t oy = 0; oy < out.h; ++oy) {
    for (int32_t ox = 0; ox < out.w; ++ox) {
      for (int32_t oc = 0; oc < out.c; ++oc) {
        double acc = 0.0;
        for (int32_t ky = 0; ky < op.kernel_h; ++ky) {
          const int32_t iy = oy * op.stride_h - pad_h.before + ky;
          if (iy < 0 || iy >= in.h) continue;  // zero padding
          for (int32_t kx = 0; kx < op.kernel_w; ++kx) {
            const int32_t ix = ox * op.stride_w - pad_w.before + kx;
            if (ix < 0 || ix >= in.w) continue;
            const float* pixel = &x[(iy * in.w + ix) * in.c];
            if (depthwise) {
              acc += double{pixel[oc]} *
                     op.weights[(ky * op.kernel_w + kx) * in.c + oc];
            } else {
              const float* w =
                  &op.weights[((oc * op.kernel_h + ky) * op.kernel_w + kx) *
                              in.c];
              for (int32_t ic = 0; ic < in.c; ++ic) {
                acc += double{pixel[ic]} * w[ic];
              }
            }
          }
        }
        (*y)[(oy * out.w + ox) * out.c + oc] =
            static_cast<float>(Finish(op, oc, acc));
      }
    }
  }
}

}  // namespace

absl::Status RunFloatOp(const FloatGraph& graph, const FloatOp& op,
                        FloatTensorValues* values) {
  MCUNAS_ASSIGN_OR_RETURN(std::vector<int32_t> out_shape,
                          InferOutputShape(graph, op));
  if (op.output < 0 ||
      op.output >= static_cast<int32_t>(graph.tensors.size()) ||
      graph.tensors[op.output].shape != out_shape) {
    return absl::InvalidArgumentError(
        absl::StrCat(FloatOpTypeName(op.type), " '", op.name,
                     "': output tensor is missing or has the wrong shape"));
  }
  for (int32_t t : op.inputs) {
    if ((*values)[t].size() !=
        static_cast<size_t>(ShapeElements(graph.tensors[t].shape))) {
      return absl::InvalidArgumentError(
          absl::StrCat(FloatOpTypeName(op.type), " '", op.name, "': input '",
                       graph.tensors[t].name, "' has not been computed"));
    }
  }
  const std::vector<float>& x = (*values)[op.inputs[0]];
  const Dims in = DimsOf(graph.tensors[op.inputs[0]].shape);
  const Dims out = DimsOf(out_shape);
  std::vector<float> y(ShapeElements(out_shape));
  switch (op.type) {
    case FloatOpType::kConv2D:
      Convolve(op, /*depthwise=*/false, in, x, out, &y);
      break;
    case FloatOpType::kDepthwiseConv2D:
      Convolve(op, /*depthwise=*/true, in, x, out, &y);
      break;
    case FloatOpType::kAdd: {
      const std::vector<float>& b = (*values)[op.inputs[1]];
      for (size_t i = 0; i < y.size(); ++i) {
        y[i] = static_cast<float>(
            Activate(op.activation, double{x[i]} + double{b[i]}));
      }
      break;
    }
    case FloatOpType::kGlobalAveragePool:
      for (int32_t c = 0; c < in.c; ++c) {
        double sum = 0.0;
        for (int32_t p = 0; p < in.h * in.w; ++p) sum += x[p * in.c + c];
        y[c] = static_cast<float>(Activate(op.activation, sum / (in.h * in.w)));
      }
      break;
    case FloatOpType::kFullyConnected:
      for (int32_t o = 0; o < op.out_channels; ++o) {
        double acc = 0.0;
        const float* w = &op.weights[o * x.size()];
        for (size_t i = 0; i < x.size(); ++i) acc += double{x[i]} * w[i];
        y[o] = static_cast<float>(Finish(op, o, acc));
      }
      break;
  }
  (*values)[op.output] = std::move(y);
  return absl::OkStatus();
}

absl::StatusOr<FloatTensorValues> RunFloatGraph(
    const FloatGraph& graph, const std::vector<float>& input) {
  MCUNAS_RETURN_IF_ERROR(ValidateFloatGraph(graph));
  const FloatTensor& in = graph.tensors[graph.input];
  if (static_cast<int64_t>(input.size()) != ShapeElements(in.shape)) {
    return absl::InvalidArgumentError(
        absl::StrCat("input '", in.name, "' needs ", ShapeElements(in.shape),
                     " values, got ", input.size()));
  }
  FloatTensorValues values(graph.tensors.size());
  values[graph.input] = input;
  for (const FloatOp& op : graph.ops) {
    MCUNAS_RETURN_IF_ERROR(RunFloatOp(graph, op, &values));
  }
  return values;
}

absl::StatusOr<std::vector<float>> RunFloatGraphOutput(
    const FloatGraph& graph, const std::vector<float>& input) {
  MCUNAS_ASSIGN_OR_RETURN(FloatTensorValues values,
                          RunFloatGraph(graph, input));
  return std::move(values[graph.output]);
}

}  // namespace mcunas::engine
