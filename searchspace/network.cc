#include "mcunas/searchspace/network.h"

#include <cmath>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "mcunas/common/status_macros.h"
#include "mcunas/engine/host/model_layout.h"
#include "mcunas/engine/host/model_writer.h"
#include "mcunas/engine/kernels.h"

namespace mcunas::searchspace {
namespace {

using engine::Activation;
using engine::OpType;

// Placeholder activation quantisation: ReLU6 outputs span [0, 6], linear
// ones about +-6, the input [-1, 1).
constexpr float kRelu6Scale = 6.0f / 255.0f;
constexpr int32_t kRelu6ZeroPoint = -128;
constexpr float kLinearScale = 0.05f;
constexpr float kInputScale = 1.0f / 128.0f;

class NetBuilder {
 public:
  explicit NetBuilder(Network* net) : net_(*net) {}

  int32_t Conv(int32_t x, int32_t out_channels, int32_t kernel, int32_t stride,
               Activation activation) {
    return Spatial(OpType::kConv2D, x, out_channels, kernel, stride,
                   activation);
  }
  int32_t Depthwise(int32_t x, int32_t kernel, int32_t stride) {
    return Spatial(OpType::kDepthwiseConv2D, x, net_.activations[x].c, kernel,
                   stride, Activation::kRelu6);
  }
  int32_t Add(int32_t a, int32_t b) {
    NetOp op;
    op.type = OpType::kAdd;
    op.input = a;
    op.input2 = b;
    return Push(op, net_.activations[a]);
  }
  int32_t GlobalPool(int32_t x) {
    NetOp op;
    op.type = OpType::kAveragePool2D;
    op.kernel = net_.activations[x].h;
    op.input = x;
    return Push(op, NetTensor{1, 1, net_.activations[x].c, false});
  }
  int32_t Classifier(int32_t x, int32_t classes) {
    NetOp op;
    op.type = OpType::kFullyConnected;
    op.input = x;
    return Push(op, NetTensor{1, 1, classes, true});
  }

 private:
  int32_t Spatial(OpType type, int32_t x, int32_t out_channels, int32_t kernel,
                  int32_t stride, Activation activation) {
    NetOp op;
    op.type = type;
    op.activation = activation;
    op.kernel = kernel;
    op.stride = stride;
    op.input = x;
    const NetTensor in = net_.activations[x];
    NetTensor out;
    out.h = engine::ComputeSamePadding(in.h, kernel, stride).out;
    out.w = in.w == in.h ? out.h
                         : engine::ComputeSamePadding(in.w, kernel, stride).out;
    out.c = out_channels;
    return Push(op, out);
  }
  int32_t Push(NetOp op, NetTensor out) {
    op.output = static_cast<int32_t>(net_.activations.size());
    net_.activations.push_back(out);
    net_.ops.push_back(op);
    return op.output;
  }

  Network& net_;
};

engine::Shape3 ToShape3(const NetTensor& t) { return {t.h, t.w, t.c}; }

// The shapes of an op's weights and bias (REQUIRES: op.weighted()).
std::vector<int32_t> WeightShape(const Network& net, const NetOp& op) {
  const NetTensor& in = net.activations[op.input];
  const NetTensor& out = net.activations[op.output];
  switch (op.type) {
    case OpType::kConv2D:
      return {out.c, op.kernel, op.kernel, in.c};
    case OpType::kDepthwiseConv2D:
      return {1, op.kernel, op.kernel, out.c};
    default:
      return {out.c, static_cast<int32_t>(in.Elements())};
  }
}

// Product(WeightShape(net, op)) without building the shape.
int64_t WeightCount(const Network& net, const NetOp& op) {
  const NetTensor& in = net.activations[op.input];
  const NetTensor& out = net.activations[op.output];
  const int64_t taps = int64_t{op.kernel} * op.kernel;
  switch (op.type) {
    case OpType::kConv2D:
      return out.c * taps * in.c;
    case OpType::kDepthwiseConv2D:
      return taps * out.c;
    default:
      return out.c * in.Elements();
  }
}

int64_t Product(const std::vector<int32_t>& shape) {
  int64_t n = 1;
  for (int32_t d : shape) n *= d;
  return n;
}

engine::ConvParams ConvParamsOf(const Network& net, const NetOp& op) {
  const NetTensor& in = net.activations[op.input];
  engine::ConvParams p;
  p.kernel_h = p.kernel_w = op.kernel;
  p.stride_h = p.stride_w = op.stride;
  p.pad_top = engine::ComputeSamePadding(in.h, op.kernel, op.stride).before;
  p.pad_left =
      in.w == in.h
          ? p.pad_top
          : engine::ComputeSamePadding(in.w, op.kernel, op.stride).before;
  return p;
}

// A deterministic int8 stream (a 32-bit LCG's high byte).
class ByteStream {
 public:
  explicit ByteStream(uint32_t seed) : state_(seed * 2654435761u + 1) {}
  int8_t Next() {
    state_ = state_ * 1664525u + 1013904223u;
    const int32_t v = static_cast<int32_t>(state_ >> 24) - 128;
    return static_cast<int8_t>(v < -127 ? -127 : v);
  }

 private:
  uint32_t state_;
};

// BuildNetwork into `*out`, reusing its vectors' storage.
absl::Status BuildNetworkInto(const SearchSpace& space, const ArchSpec& arch,
                              Network* out) {
  MCUNAS_RETURN_IF_ERROR(space.Validate(arch));
  const SpaceDef& def = space.def();
  const int32_t w = arch.width_milli;
  Network& net = *out;
  net.activations.clear();
  net.ops.clear();
  net.activations.push_back(
      NetTensor{arch.resolution, arch.resolution, def.input_channels, false});
  NetBuilder b(&net);
  int32_t x = b.Conv(0, space.ScaledChannels(def.stem_channels, w),
                     def.stem_kernel, def.stem_stride, Activation::kRelu6);
  for (size_t s = 0; s < def.stages.size(); ++s) {
    const int32_t out_channels =
        space.ScaledChannels(def.stages[s].channels, w);
    for (size_t i = 0; i < arch.stages[s].size(); ++i) {
      const BlockSpec& block = arch.stages[s][i];
      const int32_t stride = i == 0 ? def.stages[s].stride : 1;
      const int32_t in_channels = net.activations[x].c;
      int32_t y = x;
      if (block.expand != 1) {
        y = b.Conv(y, in_channels * block.expand, 1, 1, Activation::kRelu6);
      }
      y = b.Depthwise(y, block.kernel, stride);
      y = b.Conv(y, out_channels, 1, 1, Activation::kNone);
      if (stride == 1 && in_channels == out_channels) y = b.Add(x, y);
      x = y;
    }
  }
  if (def.head_channels > 0) {
    x = b.Conv(x, space.ScaledChannels(def.head_channels, w), 1, 1,
               Activation::kRelu6);
  }
  x = b.GlobalPool(x);
  net.output = b.Classifier(x, def.classes);
  for (const NetTensor& t : net.activations) {
    if (t.h > 0xFFFF || t.w > 0xFFFF || t.c > 0xFFFF) {
      return absl::InvalidArgumentError(absl::StrCat(
          "arch \"", CanonicalString(arch), "\": a tensor is too large"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Network> BuildNetwork(const SearchSpace& space,
                                     const ArchSpec& arch) {
  Network net;
  MCUNAS_RETURN_IF_ERROR(BuildNetworkInto(space, arch, &net));
  return net;
}

absl::StatusOr<engine::QuantGraph> BuildQuantGraph(const SearchSpace& space,
                                                   const ArchSpec& arch,
                                                   uint32_t seed) {
  MCUNAS_ASSIGN_OR_RETURN(const Network net, BuildNetwork(space, arch));
  return BuildQuantGraph(net, seed);
}

engine::QuantGraph BuildQuantGraph(const Network& net, uint32_t seed) {
  engine::QuantGraph g;
  for (size_t i = 0; i < net.activations.size(); ++i) {
    const NetTensor& t = net.activations[i];
    engine::QuantTensor q;
    q.name = absl::StrCat("t", i);
    q.shape = t.flat ? std::vector<int32_t>{1, t.c}
                     : std::vector<int32_t>{1, t.h, t.w, t.c};
    q.scale = i == 0 ? kInputScale : kLinearScale;
    g.tensors.push_back(std::move(q));
  }
  ByteStream bytes(seed);
  for (size_t i = 0; i < net.ops.size(); ++i) {
    const NetOp& op = net.ops[i];
    engine::QuantTensor& out = g.tensors[op.output];
    if (op.activation == Activation::kRelu6) {
      out.scale = kRelu6Scale;
      out.zero_point = kRelu6ZeroPoint;
    }
    if (op.type == OpType::kAveragePool2D) {
      out.scale = g.tensors[op.input].scale;
      out.zero_point = g.tensors[op.input].zero_point;
    }
    engine::QuantOp q;
    q.type = op.type;
    q.activation = op.activation;
    q.output = op.output;
    q.inputs = {op.input};
    if (op.type == OpType::kAdd) q.inputs.push_back(op.input2);
    if (op.type == OpType::kConv2D || op.type == OpType::kDepthwiseConv2D ||
        op.type == OpType::kAveragePool2D) {
      q.kernel_h = q.kernel_w = op.kernel;
      q.stride_h = q.stride_w = op.stride;
    }
    if (op.type == OpType::kConv2D || op.type == OpType::kDepthwiseConv2D) {
      const NetTensor& in = net.activations[op.input];
      const engine::SamePadding ph =
          engine::ComputeSamePadding(in.h, op.kernel, op.stride);
      const engine::SamePadding pw =
          engine::ComputeSamePadding(in.w, op.kernel, op.stride);
      q.pad_top = ph.before;
      q.pad_bottom = ph.after;
      q.pad_left = pw.before;
      q.pad_right = pw.after;
    }
    if (op.weighted()) {
      const std::vector<int32_t> shape = WeightShape(net, op);
      const int32_t channels = net.activations[op.output].c;
      const int64_t fan_in = Product(shape) / channels;
      engine::QuantTensor wt;
      wt.name = absl::StrCat("op", i, "/weights");
      wt.shape = shape;
      wt.constant = true;
      wt.channel_scales.assign(
          channels, 1.0f / (127.0f * std::sqrt(static_cast<float>(fan_in))));
      wt.scale = wt.channel_scales[0];
      wt.int8_data.resize(Product(shape));
      for (int8_t& v : wt.int8_data) v = bytes.Next();
      engine::QuantTensor bt;
      bt.name = absl::StrCat("op", i, "/bias");
      bt.type = engine::TensorType::kInt32;
      bt.shape = {channels};
      bt.constant = true;
      bt.int32_data.assign(channels, 0);
      q.inputs.push_back(static_cast<int32_t>(g.tensors.size()));
      g.tensors.push_back(std::move(wt));
      q.inputs.push_back(static_cast<int32_t>(g.tensors.size()));
      g.tensors.push_back(std::move(bt));
    }
    g.ops.push_back(std::move(q));
  }
  g.inputs = {0};
  g.outputs = {net.output};
  return g;
}

absl::StatusOr<std::vector<uint8_t>> BuildModelBlob(const SearchSpace& space,
                                                    const ArchSpec& arch,
                                                    uint32_t seed) {
  MCUNAS_ASSIGN_OR_RETURN(const engine::QuantGraph graph,
                          BuildQuantGraph(space, arch, seed));
  return engine::WriteModel(graph);
}

absl::StatusOr<ArchMetrics> ComputeArchMetrics(const SearchSpace& space,
                                               const ArchSpec& arch) {
  // Kept per thread between calls: a search checks tens of thousands of
  // architectures, and allocating these afresh was a measurable share.
  struct Workspace {
    Network net;
    engine::LayoutGraph graph;
    engine::ModelLayout layout;
  };
  thread_local Workspace work;
  const Network& net = work.net;
  MCUNAS_RETURN_IF_ERROR(BuildNetworkInto(space, arch, &work.net));
  // The same tensors, in the same order, as BuildQuantGraph gives WriteModel.
  engine::LayoutGraph& g = work.graph;
  g.tensors.clear();
  for (const NetTensor& t : net.activations) {
    g.tensors.push_back({static_cast<uint32_t>(t.Elements()), false});
  }
  g.ops.assign(net.ops.size(), engine::LayoutOp{});
  ArchMetrics m;
  for (size_t i = 0; i < net.ops.size(); ++i) {
    const NetOp& op = net.ops[i];
    const NetTensor& in = net.activations[op.input];
    const NetTensor& out = net.activations[op.output];
    engine::LayoutOp& l = g.ops[i];
    l.type = op.type;
    l.inputs[0] = op.input;
    l.inputs[1] = op.input2;
    l.output = op.output;
    l.params_bytes = engine::OpParamsBytes(op.type, out.c).value_or(0);
    m.op_data_bytes += l.params_bytes;
    if (op.type == OpType::kConv2D || op.type == OpType::kDepthwiseConv2D) {
      l.scratch_bytes = engine::OpScratchBytes(op.type, ConvParamsOf(net, op),
                                               ToShape3(in), ToShape3(out));
    }
    if (!op.weighted()) continue;
    // As engine::ComputeOpCost counts them.
    const uint64_t weights = static_cast<uint64_t>(WeightCount(net, op));
    const uint64_t taps = uint64_t{static_cast<uint32_t>(op.kernel)} *
                          static_cast<uint32_t>(op.kernel);
    switch (op.type) {
      case OpType::kConv2D:
        m.macs += static_cast<uint64_t>(out.Elements()) * taps *
                  static_cast<uint64_t>(in.c);
        break;
      case OpType::kDepthwiseConv2D:
        m.macs += static_cast<uint64_t>(out.Elements()) * taps;
        break;
      default:
        m.macs += static_cast<uint64_t>(in.Elements()) *
                  static_cast<uint64_t>(out.Elements());
        break;
    }
    m.params += weights + static_cast<uint64_t>(out.c);
    m.weight_bytes += static_cast<uint32_t>(weights + 4 * uint64_t(out.c));
    l.inputs[1] = static_cast<int32_t>(g.tensors.size());
    g.tensors.push_back({static_cast<uint32_t>(weights), true});
    l.inputs[2] = static_cast<int32_t>(g.tensors.size());
    g.tensors.push_back({static_cast<uint32_t>(4 * out.c), true});
  }
  g.inputs.assign(1, 0);
  g.outputs.assign(1, net.output);
  const engine::ModelLayout& layout = work.layout;
  MCUNAS_RETURN_IF_ERROR(engine::PlanModelLayout(g, {}, &work.layout));
  if (layout.total_bytes > UINT32_MAX) {
    return absl::InvalidArgumentError(absl::StrCat(
        "arch \"", CanonicalString(arch), "\": model larger than 4 GiB"));
  }
  m.peak_sram_bytes = layout.arena_bytes;
  m.sram_lower_bound = layout.arena_lower_bound;
  m.flash_bytes = static_cast<uint32_t>(layout.total_bytes);
  return m;
}

}  // namespace mcunas::searchspace
