#include "mcunas/engine/host/graph_from_model.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"
#include "mcunas/engine/host/model_writer.h"

namespace mcunas::engine {
namespace {

struct Multiplier {
  int32_t multiplier;
  int32_t shift;
  bool operator==(const Multiplier& o) const {
    return multiplier == o.multiplier && shift == o.shift;
  }
};

// What WriteModel derives for one channel (model_writer.cc's
// PerChannelParams): TFLite Micro multiplies the scales in double, except
// for a per-tensor fully connected op, where it multiplies them in float.
Multiplier Derive(float in, float weight, float out, bool float_product) {
  const double real =
      float_product
          ? static_cast<double>(in * weight) / static_cast<double>(out)
          : static_cast<double>(in) * static_cast<double>(weight) /
                static_cast<double>(out);
  Multiplier m;
  QuantizeMultiplier(real, &m.multiplier, &m.shift);
  return m;
}

// The float weight scale that derives `want`. The multiplier carries 31
// bits, a float 24, so the original scale is within an ulp or two of the
// estimate; the search walks outwards from it.
bool Recover(float in, float out, Multiplier want, bool float_product,
             float* weight) {
  constexpr int kMaxSteps = 64;
  if (want.multiplier == 0) {
    *weight = 0.0f;
    return Derive(in, 0.0f, out, float_product) == want;
  }
  const double real = std::ldexp(static_cast<double>(want.multiplier),
                                 want.shift - 31);
  const float estimate = static_cast<float>(real * out / in);
  if (!std::isfinite(estimate) || !(estimate > 0.0f)) return false;
  float up = estimate, down = estimate;
  for (int step = 0; step <= kMaxSteps; ++step) {
    for (float candidate : {up, down}) {
      if (candidate > 0.0f && std::isfinite(candidate) &&
          Derive(in, candidate, out, float_product) == want) {
        *weight = candidate;
        return true;
      }
    }
    up = std::nextafter(up, std::numeric_limits<float>::infinity());
    down = std::nextafter(down, 0.0f);
  }
  return false;
}

// Recovers the channel scales of op `index`'s weights into `graph`.
absl::Status RecoverWeightScales(const Model& model, uint16_t index,
                                 QuantGraph* graph) {
  const OpRecord& op = model.op(index);
  const TensorRecord& in = model.tensor(op.inputs[0]);
  const TensorRecord& out = model.tensor(op.output);
  const uint32_t channels = ActivationShape(out).c;
  std::vector<Multiplier> want(channels);
  const uint8_t* params = model.OpParams(index);
  for (uint32_t c = 0; c < channels; ++c) {
    std::memcpy(&want[c].multiplier, params + 4 * c, 4);
    std::memcpy(&want[c].shift, params + 4 * (channels + c), 4);
  }
  const bool fc = op.type == static_cast<uint8_t>(OpType::kFullyConnected);
  QuantTensor& weights = graph->tensors[op.inputs[1]];
  const auto reproduces = [&](const std::vector<float>& scales) {
    for (uint32_t c = 0; c < channels; ++c) {
      const bool per_tensor = scales.size() == 1;
      if (!(Derive(in.scale, scales[per_tensor ? 0 : c], out.scale,
                   fc && per_tensor) == want[c])) {
        return false;
      }
    }
    return true;
  };
  if (!weights.channel_scales.empty()) {
    if (reproduces(weights.channel_scales)) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrCat(
        "op ", index, ": weights tensor ", op.inputs[1],
        " is shared with an op that needs other scales"));
  }
  // One scale for all channels when that reproduces them (TFLite's
  // per-tensor form, whose fully connected multiplier is computed
  // differently), else one per channel.
  bool uniform = true;
  for (uint32_t c = 1; c < channels; ++c) uniform = uniform && want[c] == want[0];
  float scale = 0.0f;
  if (uniform && Recover(in.scale, out.scale, want[0], fc, &scale) &&
      reproduces({scale})) {
    weights.channel_scales = {scale};
    return absl::OkStatus();
  }
  std::vector<float> scales(channels);
  for (uint32_t c = 0; c < channels; ++c) {
    if (!Recover(in.scale, out.scale, want[c], false, &scales[c])) {
      return absl::InvalidArgumentError(absl::StrCat(
          "op ", index, ": no float weight scale gives channel ", c,
          "'s multiplier ", want[c].multiplier, " and shift ", want[c].shift,
          " (not a blob WriteModel wrote)"));
    }
  }
  weights.channel_scales = std::move(scales);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<QuantGraph> GraphFromModel(const Model& model) {
  QuantGraph graph;
  for (uint16_t t = 0; t < model.tensor_count(); ++t) {
    const TensorRecord& r = model.tensor(t);
    QuantTensor q;
    q.name = absl::StrCat("t", t);
    q.type = static_cast<TensorType>(r.type);
    q.shape.assign(r.dims, r.dims + r.rank);
    if (r.storage == static_cast<uint8_t>(TensorStorage::kConstant)) {
      q.constant = true;
      const uint8_t* data = model.ConstantData(t);
      if (q.type == TensorType::kInt32) {
        q.int32_data.resize(r.bytes / 4);
        std::memcpy(q.int32_data.data(), data, r.bytes);
      } else {
        q.int8_data.resize(r.bytes);
        std::memcpy(q.int8_data.data(), data, r.bytes);
      }
    } else {
      q.scale = r.scale;
      q.zero_point = r.zero_point;
    }
    graph.tensors.push_back(std::move(q));
  }
  for (uint16_t i = 0; i < model.op_count(); ++i) {
    const OpRecord& r = model.op(i);
    QuantOp op;
    op.type = static_cast<OpType>(r.type);
    op.activation = static_cast<Activation>(r.activation);
    op.kernel_h = r.kernel_h;
    op.kernel_w = r.kernel_w;
    op.stride_h = r.stride_h;
    op.stride_w = r.stride_w;
    op.pad_top = r.pad_top;
    op.pad_left = r.pad_left;
    op.pad_bottom = r.pad_bottom;
    op.pad_right = r.pad_right;
    op.depth_multiplier = r.depth_multiplier;
    op.output = r.output;
    const bool weighted = op.type == OpType::kConv2D ||
                          op.type == OpType::kDepthwiseConv2D ||
                          op.type == OpType::kFullyConnected;
    const int slots = weighted ? 3 : op.type == OpType::kAdd ? 2 : 1;
    for (int s = 0; s < slots; ++s) {
      op.inputs.push_back(r.inputs[s] == kNoTensor ? -1 : r.inputs[s]);
    }
    if (op.type == OpType::kSoftmax) {
      SoftmaxParams p;
      std::memcpy(&p, model.OpParams(i), sizeof(p));
      op.beta = p.beta;
    } else if (op.type == OpType::kTranspose) {
      TransposeParams p;
      std::memcpy(&p, model.OpParams(i), sizeof(p));
      op.perm.assign(p.perm, p.perm + 4);
    }
    graph.ops.push_back(std::move(op));
    if (weighted) {
      const absl::Status s = RecoverWeightScales(model, i, &graph);
      if (!s.ok()) return s;
    }
  }
  for (uint16_t i = 0; i < model.input_count(); ++i) {
    graph.inputs.push_back(model.input(i));
  }
  for (uint16_t i = 0; i < model.output_count(); ++i) {
    graph.outputs.push_back(model.output(i));
  }
  return graph;
}

}  // namespace mcunas::engine
