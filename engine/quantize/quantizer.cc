#include "mcunas/engine/host/quantizer.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "mcunas/common/status_macros.h"

namespace mcunas::engine {
namespace {

// A bias beyond 2^30 quantisation steps would leave too little int32
// headroom for the accumulator it is added to; such a channel gets a coarser
// weight scale instead (as TFLite's converter does), chosen for 2^29 steps so
// float rounding of the scale cannot push it over.
constexpr double kMaxBiasSteps = 1 << 30;
constexpr double kTargetBiasSteps = 1 << 29;

// Index of the output channel of element `i` of a weight tensor.
int32_t ChannelOf(size_t i, int32_t channels, size_t per_channel,
                  bool channel_innermost) {
  return channel_innermost ? static_cast<int32_t>(i % channels)
                           : static_cast<int32_t>(i / per_channel);
}

int8_t QuantizeWeight(float w, float scale) {
  const double q = std::round(static_cast<double>(w) / scale);
  return static_cast<int8_t>(std::clamp(q, -127.0, 127.0));
}

std::string OpLabel(size_t index, const FloatOp& op) {
  std::string label =
      absl::StrCat("op ", index, " (", FloatOpTypeName(op.type));
  if (!op.name.empty()) absl::StrAppend(&label, " '", op.name, "'");
  return label + ")";
}

// Appends the int8 weights and int32 bias of weighted op `op` to `q`; returns
// their indices in *weights, *bias. `input_means` (per channel of the op's
// input, or null) enables bias correction.
absl::Status AddWeightTensors(const FloatGraph& graph, size_t index,
                              const FloatOp& op,
                              const std::vector<float>* input_means,
                              QuantGraph* q, int32_t* weights, int32_t* bias) {
  const std::vector<int32_t>& in_shape = graph.tensors[op.inputs[0]].shape;
  const int32_t channels = OutputChannels(graph, op);
  const int32_t in_channels = in_shape.back();
  const bool innermost = op.type == FloatOpType::kDepthwiseConv2D;
  const size_t per_channel = op.weights.size() / channels;
  ChannelQuantized w = QuantizePerChannel(op.weights, channels, innermost);

  // shift[c]: the mean output error of channel c's rounded weights,
  // sum_i (w_q[i] - w[i]) * E[x of weight i's input channel]. O(weights).
  std::vector<double> shift(channels, 0.0);
  const auto add_shift = [&](size_t i) {
    const int32_t c = ChannelOf(i, channels, per_channel, innermost);
    const size_t x = innermost ? i % channels : (i % per_channel) % in_channels;
    shift[c] +=
        (static_cast<double>(w.values[i]) * w.scales[c] - op.weights[i]) *
        (*input_means)[x];
  };
  if (input_means != nullptr) {
    for (size_t i = 0; i < op.weights.size(); ++i) add_shift(i);
  }

  const float input_scale = q->tensors[op.inputs[0]].scale;
  std::vector<int32_t> bias_q(channels, 0);
  std::vector<float> bias_scales(channels);
  for (int32_t c = 0; c < channels; ++c) {
    double b = (op.bias.empty() ? 0.0 : op.bias[c]) - shift[c];
    const double min_scale = std::abs(b) / (input_scale * kTargetBiasSteps);
    if (w.scales[c] < min_scale) {
      w.scales[c] = static_cast<float>(min_scale);
      shift[c] = 0.0;
      for (size_t i = 0; i < op.weights.size(); ++i) {
        if (ChannelOf(i, channels, per_channel, innermost) != c) continue;
        w.values[i] = QuantizeWeight(op.weights[i], w.scales[c]);
        if (input_means != nullptr) add_shift(i);
      }
      b = (op.bias.empty() ? 0.0 : op.bias[c]) - shift[c];
    }
    bias_scales[c] = input_scale * w.scales[c];
    const double steps = std::round(b / bias_scales[c]);
    if (!(std::abs(steps) <= kMaxBiasSteps)) {
      return absl::InvalidArgumentError(
          absl::StrCat(OpLabel(index, op), ": bias[", c, "] = ", b,
                       " cannot be quantised with input scale ", input_scale));
    }
    bias_q[c] = static_cast<int32_t>(steps);
  }

  const std::string base =
      op.name.empty() ? graph.tensors[op.output].name : op.name;
  QuantTensor wt;
  wt.name = base + "/weights";
  wt.type = TensorType::kInt8;
  switch (op.type) {
    case FloatOpType::kConv2D:
      wt.shape = {channels, op.kernel_h, op.kernel_w, in_shape.back()};
      break;
    case FloatOpType::kDepthwiseConv2D:
      wt.shape = {1, op.kernel_h, op.kernel_w, channels};
      break;
    default:
      wt.shape = {channels, static_cast<int32_t>(per_channel)};
      break;
  }
  wt.scale = *std::max_element(w.scales.begin(), w.scales.end());
  wt.channel_scales = std::move(w.scales);
  wt.constant = true;
  wt.int8_data = std::move(w.values);
  q->tensors.push_back(std::move(wt));
  *weights = static_cast<int32_t>(q->tensors.size()) - 1;

  QuantTensor bt;
  bt.name = base + "/bias";
  bt.type = TensorType::kInt32;
  bt.shape = {channels};
  bt.scale = *std::max_element(bias_scales.begin(), bias_scales.end());
  bt.channel_scales = std::move(bias_scales);
  bt.constant = true;
  bt.int32_data = std::move(bias_q);
  q->tensors.push_back(std::move(bt));
  *bias = static_cast<int32_t>(q->tensors.size()) - 1;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<FloatGraph> FoldBatchNorm(const FloatGraph& graph) {
  MCUNAS_RETURN_IF_ERROR(ValidateFloatGraph(graph));
  FloatGraph folded = graph;
  for (FloatOp& op : folded.ops) {
    if (!op.batch_norm.has_value()) continue;
    const BatchNorm& bn = *op.batch_norm;
    const int32_t channels = OutputChannels(folded, op);
    const bool innermost = op.type == FloatOpType::kDepthwiseConv2D;
    const size_t per_channel = op.weights.size() / channels;
    std::vector<double> g(channels);
    for (int32_t c = 0; c < channels; ++c) {
      g[c] = bn.gamma[c] / std::sqrt(static_cast<double>(bn.var[c]) + bn.eps);
    }
    for (size_t i = 0; i < op.weights.size(); ++i) {
      op.weights[i] = static_cast<float>(
          op.weights[i] * g[ChannelOf(i, channels, per_channel, innermost)]);
    }
    std::vector<float> bias(channels);
    for (int32_t c = 0; c < channels; ++c) {
      const double b = op.bias.empty() ? 0.0 : op.bias[c];
      bias[c] = static_cast<float>((b - bn.mean[c]) * g[c] + bn.beta[c]);
    }
    op.bias = std::move(bias);
    op.batch_norm.reset();
  }
  return folded;
}

QuantParams ChooseQuantParams(float min, float max) {
  // TFLite's GetAsymmetricQuantizationParams (tools/optimize).
  min = std::min(min, 0.0f);
  max = std::max(max, 0.0f);
  QuantParams p;
  p.scale = (max - min) / 255.0f;
  if (!(p.scale > 0.0f)) {
    p.scale = 1.0f;  // an all-zero tensor: any scale represents it
  }
  const float zero_point_from_min = -128.0f - min / p.scale;
  if (zero_point_from_min < -128.0f) {
    p.zero_point = -128;
  } else if (zero_point_from_min > 127.0f) {
    p.zero_point = 127;
  } else {
    p.zero_point = static_cast<int32_t>(std::round(zero_point_from_min));
  }
  return p;
}

ChannelQuantized QuantizePerChannel(const std::vector<float>& weights,
                                    int32_t channels, bool channel_innermost) {
  ChannelQuantized out;
  const size_t per_channel = weights.size() / channels;
  std::vector<float> max_abs(channels, 0.0f);
  for (size_t i = 0; i < weights.size(); ++i) {
    float& m = max_abs[ChannelOf(i, channels, per_channel, channel_innermost)];
    m = std::max(m, std::abs(weights[i]));
  }
  out.scales.resize(channels);
  for (int32_t c = 0; c < channels; ++c) {
    // TFLite's GetSymmetricScalesFromMaxMin uses 1 for an all-zero channel.
    out.scales[c] = max_abs[c] > 0.0f ? max_abs[c] / 127.0f : 1.0f;
  }
  out.values.resize(weights.size());
  for (size_t i = 0; i < weights.size(); ++i) {
    out.values[i] = QuantizeWeight(
        weights[i],
        out.scales[ChannelOf(i, channels, per_channel, channel_innermost)]);
  }
  return out;
}

absl::StatusOr<QuantGraph> QuantizeFolded(const FloatGraph& folded,
                                          const Calibration& calibration,
                                          const QuantizeOptions& options) {
  MCUNAS_RETURN_IF_ERROR(ValidateFloatGraph(folded));
  const std::vector<TensorRange>& ranges = calibration.ranges;
  if (ranges.size() != folded.tensors.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("got ", ranges.size(), " ranges for ",
                     folded.tensors.size(), " tensors"));
  }
  if (options.bias_correction) {
    bool ok = calibration.channel_means.size() == folded.tensors.size();
    for (size_t t = 0; ok && t < folded.tensors.size(); ++t) {
      ok = calibration.channel_means[t].size() ==
           static_cast<size_t>(folded.tensors[t].shape.back());
    }
    if (!ok) {
      return absl::InvalidArgumentError(
          "bias correction needs the channel means of every tensor");
    }
  }
  std::vector<TensorRange> r = ranges;
  for (size_t t = 0; t < r.size(); ++t) {
    if (!std::isfinite(r[t].min) || !std::isfinite(r[t].max) ||
        r[t].min > r[t].max) {
      return absl::InvalidArgumentError(
          absl::StrCat("tensor ", t, " '", folded.tensors[t].name,
                       "' has invalid range [", r[t].min, ", ", r[t].max, "]"));
    }
  }
  for (size_t i = 0; i < folded.ops.size(); ++i) {
    const FloatOp& op = folded.ops[i];
    if (op.batch_norm.has_value()) {
      return absl::InvalidArgumentError(absl::StrCat(
          OpLabel(i, op), ": batch norm not folded (use FoldBatchNorm)"));
    }
    // The fused activation bounds the output whatever calibration saw.
    TensorRange& out = r[op.output];
    if (op.activation != Activation::kNone) out.min = std::max(out.min, 0.0f);
    if (op.activation == Activation::kRelu6) out.max = std::min(out.max, 6.0f);
    out.max = std::max(out.max, out.min);
  }

  QuantGraph q;
  for (size_t t = 0; t < folded.tensors.size(); ++t) {
    const QuantParams p = ChooseQuantParams(r[t].min, r[t].max);
    QuantTensor qt;
    qt.name = folded.tensors[t].name;
    qt.type = TensorType::kInt8;
    qt.shape = folded.tensors[t].shape;
    qt.scale = p.scale;
    qt.zero_point = p.zero_point;
    q.tensors.push_back(std::move(qt));
  }
  // The engine's average pool does not requantise. In op order, so a chain
  // of pools inherits from its first input.
  for (const FloatOp& op : folded.ops) {
    if (op.type != FloatOpType::kGlobalAveragePool) continue;
    q.tensors[op.output].scale = q.tensors[op.inputs[0]].scale;
    q.tensors[op.output].zero_point = q.tensors[op.inputs[0]].zero_point;
  }

  for (size_t i = 0; i < folded.ops.size(); ++i) {
    const FloatOp& op = folded.ops[i];
    QuantOp qop;
    qop.activation = op.activation;
    qop.output = op.output;
    const std::vector<int32_t>& in_shape = folded.tensors[op.inputs[0]].shape;
    switch (op.type) {
      case FloatOpType::kConv2D:
      case FloatOpType::kDepthwiseConv2D: {
        qop.type = op.type == FloatOpType::kConv2D ? OpType::kConv2D
                                                   : OpType::kDepthwiseConv2D;
        qop.kernel_h = op.kernel_h;
        qop.kernel_w = op.kernel_w;
        qop.stride_h = op.stride_h;
        qop.stride_w = op.stride_w;
        const SamePadding ph =
            ComputeSamePadding(in_shape[1], op.kernel_h, op.stride_h);
        const SamePadding pw =
            ComputeSamePadding(in_shape[2], op.kernel_w, op.stride_w);
        qop.pad_top = ph.before;
        qop.pad_bottom = ph.after;
        qop.pad_left = pw.before;
        qop.pad_right = pw.after;
        break;
      }
      case FloatOpType::kFullyConnected:
        qop.type = OpType::kFullyConnected;
        break;
      case FloatOpType::kAdd:
        qop.type = OpType::kAdd;
        break;
      case FloatOpType::kGlobalAveragePool:
        qop.type = OpType::kAveragePool2D;
        qop.kernel_h = in_shape[1];
        qop.kernel_w = in_shape[2];
        break;
    }
    qop.inputs = op.inputs;
    if (!op.weights.empty()) {
      int32_t weights = -1, bias = -1;
      MCUNAS_RETURN_IF_ERROR(AddWeightTensors(
          folded, i, op,
          options.bias_correction ? &calibration.channel_means[op.inputs[0]]
                                  : nullptr,
          &q, &weights, &bias));
      qop.inputs = {op.inputs[0], weights, bias};
    }
    q.ops.push_back(std::move(qop));
  }
  q.inputs = {folded.input};
  q.outputs = {folded.output};
  return q;
}

absl::StatusOr<QuantGraph> QuantizeFloatGraph(
    const FloatGraph& graph,
    const std::vector<std::vector<float>>& calibration_inputs,
    const QuantizeOptions& options) {
  MCUNAS_ASSIGN_OR_RETURN(FloatGraph folded, FoldBatchNorm(graph));
  MCUNAS_ASSIGN_OR_RETURN(Calibration calibration,
                          Calibrate(folded, calibration_inputs, options));
  return QuantizeFolded(folded, calibration, options);
}

std::vector<int8_t> QuantizeValues(const QuantParams& params,
                                   const std::vector<float>& values) {
  std::vector<int8_t> out(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    double q = std::round(static_cast<double>(values[i]) / params.scale) +
               params.zero_point;
    if (std::isnan(q)) q = params.zero_point;
    out[i] = static_cast<int8_t>(std::clamp(q, -128.0, 127.0));
  }
  return out;
}

std::vector<float> DequantizeValues(const QuantParams& params,
                                    const int8_t* data, size_t count) {
  std::vector<float> out(count);
  for (size_t i = 0; i < count; ++i) {
    out[i] = params.scale * static_cast<float>(data[i] - params.zero_point);
  }
  return out;
}

}  // namespace mcunas::engine
