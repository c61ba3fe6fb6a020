// WriteModel: QuantGraph -> blob.
//
// 1. Check the graph (indices, kinds, shapes) and say which op or tensor is
//    wrong.
// 2. Derive each op's fixed-point parameters the way TFLite Micro's Prepare
//    does, so imported .tflite models requantise bit-exactly.
// 3. Lay the model out from its shapes (PlanModelLayout, shared with the
//    search space): in-place depthwise, the arena plan, where each table,
//    constant and params block goes.
// 4. Write header | tensors | ops | data there and stamp the CRC.
#include "mcunas/engine/host/model_writer.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>

#include "absl/strings/str_cat.h"
#include "mcunas/common/status_macros.h"
#include "mcunas/engine/host/model_layout.h"
#include "mcunas/engine/kernels.h"
#include "mcunas/engine/model.h"
#include "op_params.h"

namespace mcunas::engine {
namespace {

absl::Status OpError(size_t index, const QuantOp& op,
                     const std::string& message) {
  return absl::InvalidArgumentError(absl::StrCat(
      "op ", index, " (type ", static_cast<int>(op.type), "): ", message));
}

uint64_t Elements(const QuantTensor& t) {
  uint64_t n = 1;
  for (int32_t d : t.shape) n *= static_cast<uint64_t>(d);
  return n;
}

// Shape3 of an activation: {1,H,W,C} or {1,C}.
Shape3 ToShape3(const QuantTensor& t) {
  Shape3 s;
  if (t.shape.size() == 4) {
    s.h = t.shape[1];
    s.w = t.shape[2];
    s.c = t.shape[3];
  } else {
    s.c = static_cast<int32_t>(Elements(t));
  }
  return s;
}

absl::Status CheckTensor(size_t index, const QuantTensor& t) {
  const auto fail = [&](const std::string& message) {
    return absl::InvalidArgumentError(
        absl::StrCat("tensor ", index, " '", t.name, "': ", message));
  };
  if (t.shape.empty() || t.shape.size() > kMaxRank) {
    return fail(absl::StrCat("rank ", t.shape.size(), " not in 1..4"));
  }
  for (int32_t d : t.shape) {
    if (d < 1 || d > 0xFFFF) return fail(absl::StrCat("dimension ", d));
  }
  const uint64_t bytes =
      Elements(t) * (t.type == TensorType::kInt32 ? 4 : 1);
  if (bytes > std::numeric_limits<uint32_t>::max() / 2) {
    return fail("too large");
  }
  if (t.constant) {
    const uint64_t have = t.type == TensorType::kInt32 ? t.int32_data.size()
                                                       : t.int8_data.size();
    if (have != Elements(t)) {
      return fail(absl::StrCat("has ", have, " values for ", Elements(t),
                               " elements"));
    }
  } else {
    if (t.type != TensorType::kInt8) return fail("activations must be int8");
    if (t.shape.size() != 4 && t.shape.size() != 2) {
      return fail("activations must be {1,H,W,C} or {1,C}");
    }
    if (t.shape[0] != 1) return fail("batch must be 1");
    if (!(t.scale > 0.0f) || !std::isfinite(t.scale)) {
      return fail(absl::StrCat("scale ", t.scale, " must be positive"));
    }
    if (t.zero_point < -128 || t.zero_point > 127) {
      return fail(absl::StrCat("zero point ", t.zero_point));
    }
  }
  return absl::OkStatus();
}

// Everything the writer derives for one op.
struct OpPlan {
  OpRecord record{};
  std::vector<uint8_t> params;  // bytes for the data section
};

void AppendInt32s(const std::vector<int32_t>& values,
                  std::vector<uint8_t>* out) {
  const size_t at = out->size();
  out->resize(at + values.size() * 4);
  std::memcpy(out->data() + at, values.data(), values.size() * 4);
}

class Writer {
 public:
  Writer(const QuantGraph& graph, const WriteOptions& options)
      : graph_(graph), options_(options) {}

  absl::StatusOr<std::vector<uint8_t>> Write();

 private:
  absl::Status CheckGraph();
  absl::Status CheckOp(size_t index, const QuantOp& op);
  absl::Status CheckActivation(size_t index, const QuantOp& op, int32_t t,
                               const char* role);
  absl::Status CheckConstant(size_t index, const QuantOp& op, int32_t t,
                             TensorType type, const char* role);
  absl::StatusOr<OpPlan> PlanOp(size_t index, const QuantOp& op);
  absl::Status PerChannelParams(size_t index, const QuantOp& op,
                                OpPlan* plan);
  LayoutGraph Layout(const std::vector<OpPlan>& ops) const;

  const QuantGraph& graph_;
  const WriteOptions& options_;
};

absl::Status Writer::CheckActivation(size_t index, const QuantOp& op,
                                     int32_t t, const char* role) {
  if (t < 0 || static_cast<size_t>(t) >= graph_.tensors.size()) {
    return OpError(index, op, absl::StrCat(role, " tensor ", t,
                                           " out of range"));
  }
  if (graph_.tensors[t].constant) {
    return OpError(index, op, absl::StrCat(role, " tensor ", t, " '",
                                           graph_.tensors[t].name,
                                           "' must be an activation"));
  }
  return absl::OkStatus();
}

absl::Status Writer::CheckConstant(size_t index, const QuantOp& op, int32_t t,
                                   TensorType type, const char* role) {
  if (t < 0 || static_cast<size_t>(t) >= graph_.tensors.size()) {
    return OpError(index, op, absl::StrCat(role, " tensor ", t,
                                           " out of range"));
  }
  const QuantTensor& tensor = graph_.tensors[t];
  if (!tensor.constant || tensor.type != type) {
    return OpError(index, op, absl::StrCat(role, " tensor ", t, " '",
                                           tensor.name, "' must be a ",
                                           type == TensorType::kInt8
                                               ? "constant int8"
                                               : "constant int32"));
  }
  return absl::OkStatus();
}

absl::Status Writer::CheckOp(size_t index, const QuantOp& op) {
  const size_t want_inputs =
      op.type == OpType::kAdd                    ? 2
      : op.type == OpType::kConv2D ||
              op.type == OpType::kDepthwiseConv2D ||
              op.type == OpType::kFullyConnected
          ? 3
          : 1;
  if (op.inputs.size() != want_inputs) {
    return OpError(index, op, absl::StrCat("has ", op.inputs.size(),
                                           " inputs, wants ", want_inputs));
  }
  MCUNAS_RETURN_IF_ERROR(CheckActivation(index, op, op.inputs[0], "input"));
  MCUNAS_RETURN_IF_ERROR(CheckActivation(index, op, op.output, "output"));
  if (op.type == OpType::kAdd) {
    MCUNAS_RETURN_IF_ERROR(
        CheckActivation(index, op, op.inputs[1], "second input"));
  }
  if (want_inputs == 3) {
    MCUNAS_RETURN_IF_ERROR(
        CheckConstant(index, op, op.inputs[1], TensorType::kInt8, "weights"));
    if (op.inputs[2] >= 0) {
      MCUNAS_RETURN_IF_ERROR(
          CheckConstant(index, op, op.inputs[2], TensorType::kInt32, "bias"));
    }
    const QuantTensor& w = graph_.tensors[op.inputs[1]];
    const size_t out_c =
        static_cast<size_t>(ToShape3(graph_.tensors[op.output]).c);
    if (w.channel_scales.size() != 1 && w.channel_scales.size() != out_c) {
      return OpError(index, op,
                     absl::StrCat("weights '", w.name, "' have ",
                                  w.channel_scales.size(),
                                  " channel scales for ", out_c, " channels"));
    }
    for (float s : w.channel_scales) {
      if (!(s >= 0.0f) || !std::isfinite(s)) {
        return OpError(index, op, absl::StrCat("weights '", w.name,
                                               "' have scale ", s));
      }
    }
    // The loader refuses an op whose int32 accumulator could overflow
    // (taps * 128 * 255 + |bias|); refuse it here, by name.
    const uint64_t taps =
        op.type == OpType::kFullyConnected
            ? Elements(graph_.tensors[op.inputs[0]])
            : static_cast<uint64_t>(op.kernel_h) * op.kernel_w *
                  (op.type == OpType::kConv2D
                       ? ToShape3(graph_.tensors[op.inputs[0]]).c
                       : 1);
    uint64_t largest_bias = 0;
    if (op.inputs[2] >= 0) {
      for (int32_t b : graph_.tensors[op.inputs[2]].int32_data) {
        largest_bias = std::max<uint64_t>(
            largest_bias, static_cast<uint64_t>(std::abs(int64_t{b})));
      }
    }
    if (taps * 128 * 255 + largest_bias > std::numeric_limits<int32_t>::max()) {
      return OpError(index, op,
                     absl::StrCat("int32 accumulator could overflow (", taps,
                                  " taps, bias up to ", largest_bias, ")"));
    }
  }
  if (op.kernel_h < 1 || op.kernel_w < 1 || op.kernel_h > 255 ||
      op.kernel_w > 255 || op.stride_h < 1 || op.stride_w < 1 ||
      op.stride_h > 255 || op.stride_w > 255) {
    return OpError(index, op, "kernel and stride must be in 1..255");
  }
  const int32_t pads[4] = {op.pad_top, op.pad_bottom, op.pad_left,
                           op.pad_right};
  for (int32_t p : pads) {
    if (p < 0 || p > 255) return OpError(index, op, "padding out of range");
  }
  if (op.depth_multiplier < 1 || op.depth_multiplier > 255) {
    return OpError(index, op, "depth multiplier out of range");
  }
  return absl::OkStatus();
}

absl::Status Writer::CheckGraph() {
  if (graph_.ops.empty()) return absl::InvalidArgumentError("graph has no ops");
  if (graph_.tensors.size() >= kNoTensor) {
    return absl::InvalidArgumentError("too many tensors");
  }
  if (graph_.ops.size() > 0xFFFF) {
    return absl::InvalidArgumentError("too many ops");
  }
  for (size_t i = 0; i < graph_.tensors.size(); ++i) {
    MCUNAS_RETURN_IF_ERROR(CheckTensor(i, graph_.tensors[i]));
  }
  for (size_t i = 0; i < graph_.ops.size(); ++i) {
    MCUNAS_RETURN_IF_ERROR(CheckOp(i, graph_.ops[i]));
  }
  const auto check_io = [&](const std::vector<int32_t>& list,
                            const char* what) -> absl::Status {
    if (list.empty() || list.size() > kMaxModelIo) {
      return absl::InvalidArgumentError(
          absl::StrCat("graph has ", list.size(), " ", what, "s (1..4)"));
    }
    for (int32_t t : list) {
      if (t < 0 || static_cast<size_t>(t) >= graph_.tensors.size() ||
          graph_.tensors[t].constant) {
        return absl::InvalidArgumentError(
            absl::StrCat("graph ", what, " ", t, " is not an activation"));
      }
    }
    return absl::OkStatus();
  };
  MCUNAS_RETURN_IF_ERROR(check_io(graph_.inputs, "input"));
  MCUNAS_RETURN_IF_ERROR(check_io(graph_.outputs, "output"));
  // The loader rejects an output nothing writes; say so here, by name.
  for (int32_t t : graph_.outputs) {
    const bool written =
        std::count(graph_.inputs.begin(), graph_.inputs.end(), t) > 0 ||
        std::any_of(graph_.ops.begin(), graph_.ops.end(),
                    [t](const QuantOp& op) { return op.output == t; });
    if (!written) {
      return absl::InvalidArgumentError(
          absl::StrCat("graph output ", t, " '", graph_.tensors[t].name,
                       "' is never written by an op"));
    }
  }
  return absl::OkStatus();
}

absl::Status Writer::PerChannelParams(size_t index, const QuantOp& op,
                                      OpPlan* plan) {
  const QuantTensor& in = graph_.tensors[op.inputs[0]];
  const QuantTensor& w = graph_.tensors[op.inputs[1]];
  const QuantTensor& out = graph_.tensors[op.output];
  const int32_t channels = ToShape3(out).c;
  std::vector<int32_t> multipliers(channels), shifts(channels);
  for (int32_t c = 0; c < channels; ++c) {
    const bool per_tensor = w.channel_scales.size() == 1;
    const float ws = w.channel_scales[per_tensor ? 0 : c];
    double real;
    if (op.type == OpType::kFullyConnected && per_tensor) {
      // TFLite Micro's GetQuantizedConvolutionMultipler multiplies the two
      // scales in float before widening; keep that for bit-exactness.
      real = static_cast<double>(in.scale * ws) /
             static_cast<double>(out.scale);
    } else {
      real = static_cast<double>(in.scale) * static_cast<double>(ws) /
             static_cast<double>(out.scale);
    }
    QuantizeMultiplier(real, &multipliers[c], &shifts[c]);
    if (shifts[c] < -31 || shifts[c] > 30) {
      return OpError(index, op,
                     absl::StrCat("effective scale ", real, " of channel ", c,
                                  " cannot be represented"));
    }
  }
  AppendInt32s(multipliers, &plan->params);
  AppendInt32s(shifts, &plan->params);
  return absl::OkStatus();
}

absl::StatusOr<OpPlan> Writer::PlanOp(size_t index, const QuantOp& op) {
  OpPlan plan;
  OpRecord& r = plan.record;
  const QuantTensor& in = graph_.tensors[op.inputs[0]];
  const QuantTensor& out = graph_.tensors[op.output];
  r.type = static_cast<uint8_t>(op.type);
  r.activation = static_cast<uint8_t>(op.activation);
  ActivationRange(op.activation, out.scale, out.zero_point, &r.act_min,
                  &r.act_max);
  r.kernel_h = static_cast<uint8_t>(op.kernel_h);
  r.kernel_w = static_cast<uint8_t>(op.kernel_w);
  r.stride_h = static_cast<uint8_t>(op.stride_h);
  r.stride_w = static_cast<uint8_t>(op.stride_w);
  r.pad_top = static_cast<uint8_t>(op.pad_top);
  r.pad_left = static_cast<uint8_t>(op.pad_left);
  r.pad_bottom = static_cast<uint8_t>(op.pad_bottom);
  r.pad_right = static_cast<uint8_t>(op.pad_right);
  r.depth_multiplier = static_cast<uint8_t>(op.depth_multiplier);
  for (int i = 0; i < 3; ++i) {
    r.inputs[i] = i < static_cast<int>(op.inputs.size()) && op.inputs[i] >= 0
                      ? static_cast<uint16_t>(op.inputs[i])
                      : kNoTensor;
  }
  r.output = static_cast<uint16_t>(op.output);

  switch (op.type) {
    case OpType::kConv2D:
    case OpType::kDepthwiseConv2D: {
      if (in.shape.size() != 4 || out.shape.size() != 4) {
        return OpError(index, op, "conv input and output must be {1,H,W,C}");
      }
      MCUNAS_RETURN_IF_ERROR(PerChannelParams(index, op, &plan));
      ConvParams p;
      p.kernel_h = op.kernel_h;
      p.kernel_w = op.kernel_w;
      p.stride_h = op.stride_h;
      p.stride_w = op.stride_w;
      p.pad_top = op.pad_top;
      p.pad_left = op.pad_left;
      p.depth_multiplier = op.depth_multiplier;
      r.scratch_bytes = OpScratchBytes(op.type, p, ToShape3(in), ToShape3(out));
      break;
    }
    case OpType::kFullyConnected:
      MCUNAS_RETURN_IF_ERROR(PerChannelParams(index, op, &plan));
      break;
    case OpType::kAdd: {
      const QuantTensor& in2 = graph_.tensors[op.inputs[1]];
      // TFLite Micro's add Prepare, int8 branch.
      AddParams a{};
      a.left_shift = 20;
      const double twice_max_input_scale =
          2 * static_cast<double>(std::max(in.scale, in2.scale));
      const double real1 = static_cast<double>(in.scale) / twice_max_input_scale;
      const double real2 =
          static_cast<double>(in2.scale) / twice_max_input_scale;
      const double real_out =
          twice_max_input_scale /
          ((1 << a.left_shift) * static_cast<double>(out.scale));
      QuantizeMultiplier(real1, &a.input1_multiplier, &a.input1_shift);
      QuantizeMultiplier(real2, &a.input2_multiplier, &a.input2_shift);
      QuantizeMultiplier(real_out, &a.output_multiplier, &a.output_shift);
      if (a.output_shift > 0) {
        return OpError(index, op, "add output scale too small for TFLite's "
                                  "fixed-point add");
      }
      plan.params.resize(sizeof(AddParams));
      std::memcpy(plan.params.data(), &a, sizeof(a));
      break;
    }
    case OpType::kAveragePool2D:
      if (in.scale != out.scale || in.zero_point != out.zero_point) {
        return OpError(index, op,
                       "average pool input and output must share scale and "
                       "zero point");
      }
      break;
    case OpType::kReshape:
    case OpType::kSoftmax:
    case OpType::kMean:
    case OpType::kQuantize:
    case OpType::kTranspose:
    case OpType::kPad: {
      const absl::Status s = PlanInteropOp(graph_, op, &plan.params);
      if (!s.ok()) return OpError(index, op, std::string(s.message()));
      break;
    }
  }
  return plan;
}

LayoutGraph Writer::Layout(const std::vector<OpPlan>& ops) const {
  LayoutGraph g;
  g.tensors.resize(graph_.tensors.size());
  for (size_t t = 0; t < graph_.tensors.size(); ++t) {
    const QuantTensor& tensor = graph_.tensors[t];
    g.tensors[t].bytes = static_cast<uint32_t>(
        Elements(tensor) * (tensor.type == TensorType::kInt32 ? 4 : 1));
    g.tensors[t].constant = tensor.constant;
  }
  g.ops.resize(graph_.ops.size());
  for (size_t i = 0; i < graph_.ops.size(); ++i) {
    const QuantOp& op = graph_.ops[i];
    LayoutOp& l = g.ops[i];
    l.type = op.type;
    l.depth_multiplier = op.depth_multiplier;
    for (size_t k = 0; k < op.inputs.size() && k < 3; ++k) {
      l.inputs[k] = op.inputs[k];
    }
    l.output = op.output;
    l.scratch_bytes = ops[i].record.scratch_bytes;
    l.params_bytes = static_cast<uint32_t>(ops[i].params.size());
  }
  g.inputs = graph_.inputs;
  g.outputs = graph_.outputs;
  return g;
}

absl::StatusOr<std::vector<uint8_t>> Writer::Write() {
  MCUNAS_RETURN_IF_ERROR(CheckGraph());
  std::vector<OpPlan> ops;
  ops.reserve(graph_.ops.size());
  for (size_t i = 0; i < graph_.ops.size(); ++i) {
    MCUNAS_ASSIGN_OR_RETURN(OpPlan plan, PlanOp(i, graph_.ops[i]));
    // The search space sizes params with OpParamsBytes; keep them one rule.
    const QuantOp& op = graph_.ops[i];
    const std::optional<uint32_t> params_bytes =
        OpParamsBytes(op.type, ToShape3(graph_.tensors[op.output]).c);
    if (params_bytes && plan.params.size() != *params_bytes) {
      return absl::InternalError(
          absl::StrCat("op ", i, ": params size disagrees with OpParamsBytes"));
    }
    ops.push_back(std::move(plan));
  }
  MCUNAS_ASSIGN_OR_RETURN(const ModelLayout layout,
                          PlanModelLayout(Layout(ops), options_));
  if (layout.total_bytes > std::numeric_limits<uint32_t>::max()) {
    return absl::InvalidArgumentError("model larger than 4 GiB");
  }

  std::vector<uint8_t> blob(layout.total_bytes, 0);
  uint8_t* data = blob.data() + layout.data_offset;
  std::vector<TensorRecord> tensors(graph_.tensors.size());
  for (size_t i = 0; i < graph_.tensors.size(); ++i) {
    const QuantTensor& t = graph_.tensors[i];
    TensorRecord& r = tensors[i];
    r.type = static_cast<uint8_t>(t.type);
    r.storage = static_cast<uint8_t>(t.constant ? TensorStorage::kConstant
                                                : TensorStorage::kArena);
    r.rank = static_cast<uint8_t>(t.shape.size());
    for (uint32_t d = 0; d < kMaxRank; ++d) {
      r.dims[d] = d < t.shape.size() ? static_cast<uint16_t>(t.shape[d]) : 1;
    }
    r.zero_point = t.zero_point;
    r.scale = t.scale;
    if (!t.channel_scales.empty()) {
      r.scale = *std::max_element(t.channel_scales.begin(),
                                  t.channel_scales.end());
    }
    r.bytes = static_cast<uint32_t>(Elements(t) *
                                    (t.type == TensorType::kInt32 ? 4 : 1));
    r.offset = layout.tensor_offsets[i];
    if (t.constant) {
      if (t.type == TensorType::kInt32) {
        std::memcpy(data + r.offset, t.int32_data.data(), r.bytes);
      } else {
        std::memcpy(data + r.offset, t.int8_data.data(), r.bytes);
      }
    }
  }
  for (size_t i = 0; i < ops.size(); ++i) {
    OpRecord& r = ops[i].record;
    if (layout.in_place[i]) r.flags |= kOpFlagInPlace;
    r.scratch_offset = layout.scratch_offsets[i];
    r.params_bytes = static_cast<uint32_t>(ops[i].params.size());
    r.params_offset = layout.params_offsets[i];
    if (!ops[i].params.empty()) {
      std::memcpy(data + r.params_offset, ops[i].params.data(),
                  ops[i].params.size());
    }
  }

  ModelHeader h{};
  h.magic = kModelMagic;
  h.version = kModelVersion;
  h.header_bytes = sizeof(ModelHeader);
  h.tensor_record_bytes = sizeof(TensorRecord);
  h.op_record_bytes = sizeof(OpRecord);
  h.tensor_count = static_cast<uint16_t>(tensors.size());
  h.op_count = static_cast<uint16_t>(ops.size());
  h.tensor_table_offset = layout.tensor_table_offset;
  h.op_table_offset = layout.op_table_offset;
  h.data_offset = layout.data_offset;
  h.data_bytes = layout.data_bytes;
  h.total_bytes = static_cast<uint32_t>(layout.total_bytes);
  h.arena_bytes = layout.arena_bytes;
  h.input_count = static_cast<uint16_t>(graph_.inputs.size());
  h.output_count = static_cast<uint16_t>(graph_.outputs.size());
  for (uint32_t i = 0; i < kMaxModelIo; ++i) {
    h.inputs[i] = i < graph_.inputs.size()
                      ? static_cast<uint16_t>(graph_.inputs[i])
                      : kNoTensor;
    h.outputs[i] = i < graph_.outputs.size()
                       ? static_cast<uint16_t>(graph_.outputs[i])
                       : kNoTensor;
  }

  std::memcpy(blob.data() + h.tensor_table_offset, tensors.data(),
              tensors.size() * sizeof(TensorRecord));
  for (size_t i = 0; i < ops.size(); ++i) {
    std::memcpy(blob.data() + h.op_table_offset + i * sizeof(OpRecord),
                &ops[i].record, sizeof(OpRecord));
  }
  h.crc32 = Crc32(blob.data() + sizeof(ModelHeader),
                  h.total_bytes - sizeof(ModelHeader));
  std::memcpy(blob.data(), &h, sizeof(h));
  return blob;
}

}  // namespace

absl::StatusOr<std::vector<uint8_t>> WriteModel(const QuantGraph& graph,
                                                const WriteOptions& options) {
  return Writer(graph, options).Write();
}

void QuantizeMultiplier(double real, int32_t* multiplier, int32_t* shift) {
  // TFLite's QuantizeMultiplier (quantization_util.cc).
  if (real == 0.0) {
    *multiplier = 0;
    *shift = 0;
    return;
  }
  int exponent = 0;
  const double q = std::frexp(real, &exponent);
  int64_t q_fixed = static_cast<int64_t>(std::round(q * (1LL << 31)));
  if (q_fixed == (1LL << 31)) {
    q_fixed /= 2;
    ++exponent;
  }
  if (exponent < -31) {
    exponent = 0;
    q_fixed = 0;
  }
  *multiplier = static_cast<int32_t>(q_fixed);
  *shift = exponent;
}

void ActivationRange(Activation activation, float scale, int32_t zero_point,
                     int8_t* act_min, int8_t* act_max) {
  // TFLite's CalculateActivationRangeQuantizedImpl: f / scale in float,
  // rounded half away from zero.
  // Saturated before the cast (TFLite's cast of an out-of-range float is
  // undefined); results beyond int8 are clamped below anyway.
  const auto quantize = [&](float f) {
    const float q = std::round(f / scale);
    const float limit = 1 << 30;
    return zero_point +
           static_cast<int32_t>(q > limit ? limit : q < -limit ? -limit : q);
  };
  int32_t lo = -128, hi = 127;
  if (activation == Activation::kRelu) {
    lo = std::max(lo, quantize(0.0f));
  } else if (activation == Activation::kRelu6) {
    lo = std::max(lo, quantize(0.0f));
    hi = std::min(hi, quantize(6.0f));
  }
  *act_min = static_cast<int8_t>(lo);
  *act_max = static_cast<int8_t>(std::min(std::max(hi, lo), 127));
}

}  // namespace mcunas::engine
