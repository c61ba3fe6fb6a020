#include "test_graphs.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "mcunas/engine/host/model_writer.h"

namespace mcunas::engine::testing {
namespace {

// The evaluator is an oracle for graphs WriteModel accepts; a graph it
// rejects is a bug in the test that built it.
template <typename T>
T Must(absl::StatusOr<T> value) {
  if (!value.ok()) {
    std::fprintf(stderr, "EvaluateGraph: %s\n",
                 value.status().ToString().c_str());
    std::abort();
  }
  return *std::move(value);
}

class GraphBuilder {
 public:
  explicit GraphBuilder(uint32_t seed) : rng_(seed) {}

  int32_t Activation(const std::string& name, std::vector<int32_t> shape) {
    QuantTensor t;
    t.name = name;
    t.shape = std::move(shape);
    t.scale = std::uniform_real_distribution<float>(0.02f, 0.1f)(rng_);
    t.zero_point = std::uniform_int_distribution<int32_t>(-20, 20)(rng_);
    return Add(std::move(t));
  }

  // Weights [dims] with one scale per `channels`, plus int32 bias.
  std::pair<int32_t, int32_t> WeightsAndBias(const std::string& name,
                                             std::vector<int32_t> dims,
                                             int32_t channels) {
    QuantTensor w;
    w.name = name + "/weights";
    w.shape = std::move(dims);
    w.constant = true;
    int64_t n = 1;
    for (int32_t d : w.shape) n *= d;
    std::uniform_int_distribution<int32_t> value(-127, 127);
    for (int64_t i = 0; i < n; ++i) {
      w.int8_data.push_back(static_cast<int8_t>(value(rng_)));
    }
    std::uniform_real_distribution<float> scale(0.002f, 0.01f);
    for (int32_t c = 0; c < channels; ++c) w.channel_scales.push_back(scale(rng_));
    QuantTensor b;
    b.name = name + "/bias";
    b.type = TensorType::kInt32;
    b.shape = {channels};
    b.constant = true;
    std::uniform_int_distribution<int32_t> bias(-2000, 2000);
    for (int32_t c = 0; c < channels; ++c) b.int32_data.push_back(bias(rng_));
    return {Add(std::move(w)), Add(std::move(b))};
  }

  int32_t Conv(const std::string& name, int32_t in, int32_t out_c, int32_t k,
               int32_t stride, engine::Activation act, bool depthwise) {
    const QuantTensor& x = graph_.tensors[in];
    const int32_t h = x.shape[1], w = x.shape[2], c = x.shape[3];
    const SamePadding ph = ComputeSamePadding(h, k, stride);
    const SamePadding pw = ComputeSamePadding(w, k, stride);
    if (depthwise) out_c = c;
    const auto [weights, bias] = WeightsAndBias(
        name, depthwise ? std::vector<int32_t>{1, k, k, c}
                        : std::vector<int32_t>{out_c, k, k, c},
        out_c);
    const int32_t out = Activation(name, {1, ph.out, pw.out, out_c});
    QuantOp op;
    op.type = depthwise ? OpType::kDepthwiseConv2D : OpType::kConv2D;
    op.activation = act;
    op.kernel_h = op.kernel_w = k;
    op.stride_h = op.stride_w = stride;
    op.pad_top = ph.before;
    op.pad_bottom = ph.after;
    op.pad_left = pw.before;
    op.pad_right = pw.after;
    op.inputs = {in, weights, bias};
    op.output = out;
    graph_.ops.push_back(op);
    return out;
  }

  int32_t AddOp(const std::string& name, int32_t a, int32_t b) {
    const int32_t out = Activation(name, graph_.tensors[a].shape);
    QuantOp op;
    op.type = OpType::kAdd;
    op.inputs = {a, b};
    op.output = out;
    graph_.ops.push_back(op);
    return out;
  }

  int32_t GlobalPool(const std::string& name, int32_t in) {
    const QuantTensor x = graph_.tensors[in];
    QuantTensor t;
    t.name = name;
    t.shape = {1, 1, 1, x.shape[3]};
    t.scale = x.scale;
    t.zero_point = x.zero_point;
    const int32_t out = Add(std::move(t));
    QuantOp op;
    op.type = OpType::kAveragePool2D;
    op.kernel_h = x.shape[1];
    op.kernel_w = x.shape[2];
    op.inputs = {in};
    op.output = out;
    graph_.ops.push_back(op);
    return out;
  }

  int32_t FullyConnected(const std::string& name, int32_t in, int32_t out_c) {
    int32_t in_c = 1;
    for (int32_t d : graph_.tensors[in].shape) in_c *= d;
    const auto [weights, bias] = WeightsAndBias(name, {out_c, in_c}, out_c);
    const int32_t out = Activation(name, {1, out_c});
    QuantOp op;
    op.type = OpType::kFullyConnected;
    op.inputs = {in, weights, bias};
    op.output = out;
    graph_.ops.push_back(op);
    return out;
  }

  // A one-input op without weights from `in` to a new tensor of `shape`;
  // `same_quant` gives it the input's scale and zero point. `op` carries
  // the type's fields (pads, perm, beta).
  int32_t Unary(const std::string& name, QuantOp op, int32_t in,
                std::vector<int32_t> shape, bool same_quant) {
    const int32_t out = Activation(name, std::move(shape));
    if (same_quant) {
      graph_.tensors[out].scale = graph_.tensors[in].scale;
      graph_.tensors[out].zero_point = graph_.tensors[in].zero_point;
    }
    op.inputs = {in};
    op.output = out;
    graph_.ops.push_back(op);
    return out;
  }

  QuantGraph& graph() { return graph_; }

 private:
  int32_t Add(QuantTensor t) {
    graph_.tensors.push_back(std::move(t));
    return static_cast<int32_t>(graph_.tensors.size() - 1);
  }

  std::mt19937 rng_;
  QuantGraph graph_;
};

QuantOp OfType(OpType type) {
  QuantOp op;
  op.type = type;
  return op;
}

}  // namespace

QuantGraph InteropGraph(uint32_t seed) {
  GraphBuilder b(seed);
  const int32_t input = b.Activation("input", {1, 9, 9, 3});
  b.graph().inputs = {input};
  int32_t x = b.Conv("stem", input, 5, 3, 1, Activation::kRelu6, false);
  QuantOp pad = OfType(OpType::kPad);
  pad.pad_top = 1;
  pad.pad_bottom = 2;
  pad.pad_left = 2;
  x = b.Unary("pad", pad, x, {1, 12, 11, 5}, true);
  x = b.Conv("dw", x, 5, 3, 2, Activation::kRelu, true);  // {1,6,6,5}
  QuantOp to_nchw = OfType(OpType::kTranspose);
  to_nchw.perm = {0, 3, 1, 2};
  x = b.Unary("nchw", to_nchw, x, {1, 5, 6, 6}, true);
  QuantOp to_nhwc = OfType(OpType::kTranspose);
  to_nhwc.perm = {0, 2, 3, 1};
  x = b.Unary("nhwc", to_nhwc, x, {1, 6, 6, 5}, true);
  x = b.Unary("requantize", OfType(OpType::kQuantize), x, {1, 6, 6, 5}, false);
  const int32_t pooled = b.Unary("mean_same", OfType(OpType::kMean), x, {1, 5},
                                 /*same_quant=*/true);
  int32_t y =
      b.Unary("mean", OfType(OpType::kMean), x, {1, 1, 1, 5}, false);
  y = b.Unary("flatten", OfType(OpType::kReshape), y, {1, 5}, true);
  y = b.FullyConnected("fc", y, 4);
  QuantOp softmax = OfType(OpType::kSoftmax);
  softmax.beta = 1.5f;
  y = b.Unary("softmax", softmax, y, {1, 4}, false);
  b.graph().tensors[y].scale = 1.0f / 256;
  b.graph().tensors[y].zero_point = -128;
  b.graph().outputs = {y, pooled};
  return b.graph();
}

QuantGraph TinyMbv2Graph(uint32_t seed, const TinyGraphOptions& o) {
  GraphBuilder b(seed);
  const int32_t input =
      b.Activation("input", {1, o.resolution, o.resolution, o.in_channels});
  b.graph().inputs = {input};
  const int32_t stem =
      b.Conv("stem", input, o.width, 3, 2, Activation::kRelu6, false);
  const int32_t hidden = o.width * o.expand;
  int32_t x = b.Conv("b1/expand", stem, hidden, 1, 1, Activation::kRelu6, false);
  x = b.Conv("b1/dw", x, hidden, o.kernel, 1, Activation::kRelu6, true);
  x = b.Conv("b1/project", x, o.width, 1, 1, Activation::kNone, false);
  x = b.AddOp("b1/add", stem, x);
  int32_t y = b.Conv("b2/expand", x, hidden, 1, 1, Activation::kRelu6, false);
  y = b.Conv("b2/dw", y, hidden, o.kernel, 2, Activation::kRelu6, true);
  y = b.Conv("b2/project", y, o.width + 3, 1, 1, Activation::kNone, false);
  const int32_t pooled = b.GlobalPool("pool", y);
  const int32_t logits = b.FullyConnected("classifier", pooled, o.classes);
  b.graph().outputs = {logits};
  return b.graph();
}

std::vector<int8_t> RandomInput(const QuantGraph& graph, uint32_t seed) {
  const QuantTensor& t = graph.tensors[graph.inputs[0]];
  int64_t n = 1;
  for (int32_t d : t.shape) n *= d;
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> value(-128, 127);
  std::vector<int8_t> input(n);
  for (int8_t& v : input) v = static_cast<int8_t>(value(rng));
  return input;
}

std::vector<std::vector<int8_t>> EvaluateGraph(
    const QuantGraph& graph, const KernelSet& kernels,
    const std::vector<int8_t>& input) {
  std::vector<std::vector<int8_t>> values(graph.tensors.size());
  values[graph.inputs[0]] = input;
  const auto shape3 = [&](int32_t t) {
    const std::vector<int32_t>& s = graph.tensors[t].shape;
    Shape3 r;
    if (s.size() == 4) {
      r = {s[1], s[2], s[3]};
    } else {
      r.c = s.back();
    }
    return r;
  };
  const auto bias = [&](const QuantOp& op) -> const int32_t* {
    return op.inputs[2] < 0 ? nullptr
                            : graph.tensors[op.inputs[2]].int32_data.data();
  };
  for (const QuantOp& op : graph.ops) {
    const QuantTensor& in = graph.tensors[op.inputs[0]];
    const QuantTensor& out = graph.tensors[op.output];
    const Shape3 out_shape = shape3(op.output);
    std::vector<int8_t>& result = values[op.output];
    result.assign(out_shape.Elements(), 0);
    int8_t act_min, act_max;
    ActivationRange(op.activation, out.scale, out.zero_point, &act_min,
                    &act_max);
    std::vector<int32_t> multiplier, shift;
    if (op.type == OpType::kConv2D || op.type == OpType::kDepthwiseConv2D ||
        op.type == OpType::kFullyConnected) {
      const QuantTensor& w = graph.tensors[op.inputs[1]];
      for (int32_t c = 0; c < out_shape.c; ++c) {
        const float ws = w.channel_scales[w.channel_scales.size() == 1 ? 0 : c];
        int32_t m, s;
        QuantizeMultiplier(static_cast<double>(in.scale) * ws / out.scale, &m,
                           &s);
        multiplier.push_back(m);
        shift.push_back(s);
      }
    }
    RequantParams requant;
    requant.input_offset = -in.zero_point;
    requant.output_offset = out.zero_point;
    requant.act_min = act_min;
    requant.act_max = act_max;
    requant.multiplier = multiplier.data();
    requant.shift = shift.data();
    switch (op.type) {
      case OpType::kConv2D:
      case OpType::kDepthwiseConv2D: {
        ConvParams p;
        p.kernel_h = op.kernel_h;
        p.kernel_w = op.kernel_w;
        p.stride_h = op.stride_h;
        p.stride_w = op.stride_w;
        p.pad_top = op.pad_top;
        p.pad_left = op.pad_left;
        p.depth_multiplier = op.depth_multiplier;
        p.requant = requant;
        const Shape3 in_shape = shape3(op.inputs[0]);
        const bool depthwise = op.type == OpType::kDepthwiseConv2D;
        std::vector<int8_t> scratch(
            depthwise ? DepthwiseScratchBytes(p, in_shape, out_shape)
                      : ConvScratchBytes(p, in_shape, out_shape) + 1);
        const auto& w = graph.tensors[op.inputs[1]].int8_data;
        (depthwise ? kernels.depthwise : kernels.conv)(
            p, in_shape, values[op.inputs[0]].data(), w.data(), bias(op),
            out_shape, result.data(), scratch.data());
        break;
      }
      case OpType::kFullyConnected: {
        const auto& w = graph.tensors[op.inputs[1]].int8_data;
        kernels.fully_connected(
            requant, static_cast<int32_t>(values[op.inputs[0]].size()),
            values[op.inputs[0]].data(), w.data(), bias(op), out_shape.c,
            result.data());
        break;
      }
      case OpType::kAdd: {
        const QuantTensor& in2 = graph.tensors[op.inputs[1]];
        AddQuantParams p;
        p.input1_offset = -in.zero_point;
        p.input2_offset = -in2.zero_point;
        p.output_offset = out.zero_point;
        p.left_shift = 20;
        const double twice_max = 2.0 * std::max(in.scale, in2.scale);
        QuantizeMultiplier(in.scale / twice_max, &p.input1_multiplier,
                           &p.input1_shift);
        QuantizeMultiplier(in2.scale / twice_max, &p.input2_multiplier,
                           &p.input2_shift);
        QuantizeMultiplier(twice_max / ((1 << 20) * double{out.scale}),
                           &p.output_multiplier, &p.output_shift);
        p.act_min = act_min;
        p.act_max = act_max;
        kernels.add(p, out_shape.Elements(), values[op.inputs[0]].data(),
                    values[op.inputs[1]].data(), result.data());
        break;
      }
      case OpType::kAveragePool2D: {
        PoolParams p;
        p.kernel_h = op.kernel_h;
        p.kernel_w = op.kernel_w;
        p.stride_h = op.stride_h;
        p.stride_w = op.stride_w;
        p.pad_top = op.pad_top;
        p.pad_left = op.pad_left;
        p.act_min = act_min;
        p.act_max = act_max;
        kernels.average_pool(p, shape3(op.inputs[0]),
                             values[op.inputs[0]].data(), out_shape,
                             result.data());
        break;
      }
      case OpType::kReshape:
        result = values[op.inputs[0]];
        break;
      case OpType::kSoftmax: {
        const SoftmaxParams sp = Must(SoftmaxParamsFor(op.beta, in.scale));
        SoftmaxQuantParams p;
        p.input_multiplier = sp.input_multiplier;
        p.input_left_shift = sp.input_left_shift;
        p.diff_min = sp.diff_min;
        const int32_t depth = in.shape.back();
        kernels.softmax(p, static_cast<int32_t>(result.size()) / depth, depth,
                        values[op.inputs[0]].data(), result.data());
        break;
      }
      case OpType::kMean: {
        const Shape3 in_shape = shape3(op.inputs[0]);
        const MeanParams mp =
            Must(MeanParamsFor(in.scale, in.zero_point, out.scale,
                               out.zero_point, in_shape.h * in_shape.w));
        MeanQuantParams p;
        p.requantize = mp.mode == kMeanRequantize;
        p.input_offset = -in.zero_point;
        p.output_offset = out.zero_point;
        p.multiplier = mp.multiplier;
        p.shift = mp.shift;
        kernels.mean(p, in_shape, values[op.inputs[0]].data(), result.data());
        break;
      }
      case OpType::kQuantize: {
        const RequantizeParams rp = Must(RequantizeParamsFor(in.scale, out.scale));
        RequantizeQuantParams p;
        p.input_offset = -in.zero_point;
        p.output_offset = out.zero_point;
        p.multiplier = rp.multiplier;
        p.shift = rp.shift;
        kernels.requantize(p, static_cast<int32_t>(result.size()),
                           values[op.inputs[0]].data(), result.data());
        break;
      }
      case OpType::kTranspose: {
        const int32_t dims[4] = {in.shape[0], in.shape[1], in.shape[2],
                                 in.shape[3]};
        const int32_t perm[4] = {op.perm[0], op.perm[1], op.perm[2],
                                 op.perm[3]};
        kernels.transpose(dims, perm, values[op.inputs[0]].data(),
                          result.data());
        break;
      }
      case OpType::kPad: {
        PadQuantParams p;
        p.pad_top = op.pad_top;
        p.pad_left = op.pad_left;
        p.value = static_cast<int8_t>(out.zero_point);
        kernels.pad(p, shape3(op.inputs[0]), values[op.inputs[0]].data(),
                    out_shape, result.data());
        break;
      }
    }
  }
  return values;
}

}  // namespace mcunas::engine::testing
