#include "mcunas/engine/host/float_graph.h"

#include <cmath>
#include <cstddef>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "mcunas/common/status_macros.h"

namespace mcunas::engine {
namespace {

std::string OpLabel(size_t index, const FloatOp& op) {
  std::string label =
      absl::StrCat("op ", index, " (", FloatOpTypeName(op.type));
  if (!op.name.empty()) absl::StrAppend(&label, " '", op.name, "'");
  return label + ")";
}

std::string ShapeString(const std::vector<int32_t>& shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

absl::Status CheckTensorShape(const FloatTensor& tensor, int32_t index) {
  const auto& s = tensor.shape;
  bool ok = (s.size() == 2 || s.size() == 4) && s[0] == 1;
  for (int32_t d : s) ok = ok && d > 0;
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat("tensor ", index, " '", tensor.name, "' has shape ",
                     ShapeString(s), "; expected [1, H, W, C] or [1, C]"));
  }
  return absl::OkStatus();
}

absl::Status CheckFinite(const std::string& label, const char* what,
                         const std::vector<float>& values) {
  for (size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) {
      return absl::InvalidArgumentError(absl::StrCat(
          label, ": ", what, "[", i, "] is not finite (", values[i], ")"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckSize(const std::string& label, const char* what,
                       const std::vector<float>& values, int64_t expected) {
  if (static_cast<int64_t>(values.size()) != expected) {
    return absl::InvalidArgumentError(
        absl::StrCat(label, ": ", what, " has ", values.size(),
                     " values, expected ", expected));
  }
  return CheckFinite(label, what, values);
}

// Bias and batch norm, shared by conv, depthwise and fully connected.
absl::Status CheckChannelParams(const std::string& label, const FloatOp& op,
                                int32_t channels) {
  if (!op.bias.empty()) {
    MCUNAS_RETURN_IF_ERROR(CheckSize(label, "bias", op.bias, channels));
  }
  if (!op.batch_norm.has_value()) return absl::OkStatus();
  const BatchNorm& bn = *op.batch_norm;
  MCUNAS_RETURN_IF_ERROR(
      CheckSize(label, "batch norm gamma", bn.gamma, channels));
  MCUNAS_RETURN_IF_ERROR(
      CheckSize(label, "batch norm beta", bn.beta, channels));
  MCUNAS_RETURN_IF_ERROR(
      CheckSize(label, "batch norm mean", bn.mean, channels));
  MCUNAS_RETURN_IF_ERROR(CheckSize(label, "batch norm var", bn.var, channels));
  if (!std::isfinite(bn.eps) || bn.eps < 0.0f) {
    return absl::InvalidArgumentError(
        absl::StrCat(label, ": batch norm eps ", bn.eps, " is invalid"));
  }
  for (int32_t c = 0; c < channels; ++c) {
    if (!(bn.var[c] >= 0.0f && bn.var[c] + bn.eps > 0.0f)) {
      return absl::InvalidArgumentError(
          absl::StrCat(label, ": batch norm var[", c, "] = ", bn.var[c],
                       " with eps ", bn.eps, " is not positive"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckWindow(const std::string& label, const FloatOp& op) {
  if (op.kernel_h < 1 || op.kernel_w < 1 || op.stride_h < 1 ||
      op.stride_w < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        label, ": kernel ", op.kernel_h, "x", op.kernel_w, " stride ",
        op.stride_h, "x", op.stride_w, " must be positive"));
  }
  return absl::OkStatus();
}

int32_t SameOut(int32_t in, int32_t stride) {
  return (in + stride - 1) / stride;
}

absl::StatusOr<std::vector<int32_t>> InferShape(const FloatGraph& graph,
                                                const FloatOp& op,
                                                const std::string& label) {
  const size_t want_inputs = op.type == FloatOpType::kAdd ? 2 : 1;
  if (op.inputs.size() != want_inputs) {
    return absl::InvalidArgumentError(absl::StrCat(
        label, ": has ", op.inputs.size(), " inputs, expected ", want_inputs));
  }
  for (size_t i = 0; i < op.inputs.size(); ++i) {
    if (op.inputs[i] < 0 ||
        op.inputs[i] >= static_cast<int32_t>(graph.tensors.size())) {
      return absl::InvalidArgumentError(
          absl::StrCat(label, ": input ", i, " refers to tensor ", op.inputs[i],
                       " of ", graph.tensors.size()));
    }
  }
  if (static_cast<uint32_t>(op.activation) > kMaxActivation) {
    return absl::InvalidArgumentError(absl::StrCat(
        label, ": unknown activation ", static_cast<int>(op.activation)));
  }
  const bool weighted = op.type == FloatOpType::kConv2D ||
                        op.type == FloatOpType::kDepthwiseConv2D ||
                        op.type == FloatOpType::kFullyConnected;
  if (!weighted && (!op.weights.empty() || !op.bias.empty())) {
    return absl::InvalidArgumentError(
        absl::StrCat(label, ": has weights or bias but takes none"));
  }
  if (op.batch_norm.has_value() && op.type != FloatOpType::kConv2D &&
      op.type != FloatOpType::kDepthwiseConv2D) {
    return absl::InvalidArgumentError(
        absl::StrCat(label, ": batch norm is only supported after a conv"));
  }

  const FloatTensor& x = graph.tensors[op.inputs[0]];
  const std::vector<int32_t>& in = x.shape;
  const bool spatial_op = op.type == FloatOpType::kConv2D ||
                          op.type == FloatOpType::kDepthwiseConv2D ||
                          op.type == FloatOpType::kGlobalAveragePool;
  if (spatial_op && in.size() != 4) {
    return absl::InvalidArgumentError(
        absl::StrCat(label, ": input '", x.name, "' has shape ",
                     ShapeString(in), "; expected [1, H, W, C]"));
  }

  switch (op.type) {
    case FloatOpType::kConv2D: {
      MCUNAS_RETURN_IF_ERROR(CheckWindow(label, op));
      if (op.out_channels < 1) {
        return absl::InvalidArgumentError(
            absl::StrCat(label, ": out_channels must be positive"));
      }
      MCUNAS_RETURN_IF_ERROR(CheckSize(
          label, "weights", op.weights,
          int64_t{op.out_channels} * op.kernel_h * op.kernel_w * in[3]));
      MCUNAS_RETURN_IF_ERROR(CheckChannelParams(label, op, op.out_channels));
      return std::vector<int32_t>{1, SameOut(in[1], op.stride_h),
                                  SameOut(in[2], op.stride_w), op.out_channels};
    }
    case FloatOpType::kDepthwiseConv2D: {
      MCUNAS_RETURN_IF_ERROR(CheckWindow(label, op));
      if (op.out_channels != 0 && op.out_channels != in[3]) {
        return absl::InvalidArgumentError(
            absl::StrCat(label, ": out_channels ", op.out_channels,
                         " differs from the input's ", in[3],
                         " (only depth multiplier 1 is supported)"));
      }
      MCUNAS_RETURN_IF_ERROR(
          CheckSize(label, "weights", op.weights,
                    int64_t{op.kernel_h} * op.kernel_w * in[3]));
      MCUNAS_RETURN_IF_ERROR(CheckChannelParams(label, op, in[3]));
      return std::vector<int32_t>{1, SameOut(in[1], op.stride_h),
                                  SameOut(in[2], op.stride_w), in[3]};
    }
    case FloatOpType::kAdd: {
      const FloatTensor& b = graph.tensors[op.inputs[1]];
      if (b.shape != in) {
        return absl::InvalidArgumentError(absl::StrCat(
            label, ": inputs '", x.name, "' ", ShapeString(in), " and '",
            b.name, "' ", ShapeString(b.shape), " differ in shape"));
      }
      return in;
    }
    case FloatOpType::kGlobalAveragePool:
      return std::vector<int32_t>{1, 1, 1, in[3]};
    case FloatOpType::kFullyConnected: {
      if (op.out_channels < 1) {
        return absl::InvalidArgumentError(
            absl::StrCat(label, ": out_channels must be positive"));
      }
      MCUNAS_RETURN_IF_ERROR(CheckSize(label, "weights", op.weights,
                                       op.out_channels * ShapeElements(in)));
      MCUNAS_RETURN_IF_ERROR(CheckChannelParams(label, op, op.out_channels));
      return std::vector<int32_t>{1, op.out_channels};
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat(label, ": unknown op type ", static_cast<int>(op.type)));
}

}  // namespace

const char* FloatOpTypeName(FloatOpType type) {
  switch (type) {
    case FloatOpType::kConv2D:
      return "conv";
    case FloatOpType::kDepthwiseConv2D:
      return "depthwise conv";
    case FloatOpType::kAdd:
      return "add";
    case FloatOpType::kGlobalAveragePool:
      return "global average pool";
    case FloatOpType::kFullyConnected:
      return "fully connected";
  }
  return "unknown op";
}

int64_t ShapeElements(const std::vector<int32_t>& shape) {
  int64_t n = 1;
  for (int32_t d : shape) n *= d;
  return n;
}

int32_t OutputChannels(const FloatGraph& graph, const FloatOp& op) {
  switch (op.type) {
    case FloatOpType::kConv2D:
    case FloatOpType::kFullyConnected:
      return op.out_channels;
    case FloatOpType::kDepthwiseConv2D:
      return graph.tensors[op.inputs[0]].shape.back();
    default:
      return 0;
  }
}

int32_t AddGraphInput(FloatGraph* graph, std::string name,
                      std::vector<int32_t> shape) {
  graph->tensors.push_back({std::move(name), std::move(shape)});
  graph->input = static_cast<int32_t>(graph->tensors.size()) - 1;
  return graph->input;
}

absl::StatusOr<std::vector<int32_t>> InferOutputShape(const FloatGraph& graph,
                                                      const FloatOp& op) {
  // An op being appended is not in graph.ops yet: it gets the next index.
  size_t index = graph.ops.size();
  for (size_t i = 0; i < graph.ops.size(); ++i) {
    if (&graph.ops[i] == &op) index = i;
  }
  return InferShape(graph, op, OpLabel(index, op));
}

absl::StatusOr<int32_t> AppendOp(FloatGraph* graph, FloatOp op,
                                 std::string output_name) {
  MCUNAS_ASSIGN_OR_RETURN(
      std::vector<int32_t> shape,
      InferShape(*graph, op, OpLabel(graph->ops.size(), op)));
  graph->tensors.push_back({std::move(output_name), std::move(shape)});
  op.output = static_cast<int32_t>(graph->tensors.size()) - 1;
  graph->ops.push_back(std::move(op));
  return graph->ops.back().output;
}

absl::Status ValidateFloatGraph(const FloatGraph& graph) {
  const int32_t tensor_count = static_cast<int32_t>(graph.tensors.size());
  for (int32_t t = 0; t < tensor_count; ++t) {
    MCUNAS_RETURN_IF_ERROR(CheckTensorShape(graph.tensors[t], t));
  }
  if (graph.input < 0 || graph.input >= tensor_count) {
    return absl::InvalidArgumentError(absl::StrCat(
        "graph input refers to tensor ", graph.input, " of ", tensor_count));
  }
  if (graph.output < 0 || graph.output >= tensor_count) {
    return absl::InvalidArgumentError(absl::StrCat(
        "graph output refers to tensor ", graph.output, " of ", tensor_count));
  }
  // defined[t]: t is the graph input or was produced by an earlier op.
  std::vector<bool> defined(tensor_count, false);
  defined[graph.input] = true;
  for (const FloatOp& op : graph.ops) {
    const std::string label = OpLabel(&op - graph.ops.data(), op);
    MCUNAS_ASSIGN_OR_RETURN(std::vector<int32_t> shape,
                            InferShape(graph, op, label));
    for (size_t i = 0; i < op.inputs.size(); ++i) {
      if (!defined[op.inputs[i]]) {
        return absl::InvalidArgumentError(absl::StrCat(
            label, ": input ", i, " '", graph.tensors[op.inputs[i]].name,
            "' is not computed before this op"));
      }
    }
    if (op.output < 0 || op.output >= tensor_count) {
      return absl::InvalidArgumentError(
          absl::StrCat(label, ": output refers to tensor ", op.output, " of ",
                       tensor_count));
    }
    const FloatTensor& out = graph.tensors[op.output];
    if (defined[op.output]) {
      return absl::InvalidArgumentError(
          absl::StrCat(label, ": output '", out.name,
                       "' is the graph input or already produced"));
    }
    if (out.shape != shape) {
      return absl::InvalidArgumentError(absl::StrCat(
          label, ": output '", out.name, "' has shape ", ShapeString(out.shape),
          ", expected ", ShapeString(shape)));
    }
    defined[op.output] = true;
  }
  if (graph.output == graph.input || !defined[graph.output]) {
    return absl::InvalidArgumentError(
        absl::StrCat("graph output '", graph.tensors[graph.output].name,
                     "' is not produced by any op"));
  }
  return absl::OkStatus();
}

}  // namespace mcunas::engine
