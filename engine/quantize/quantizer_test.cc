#include "mcunas/engine/host/quantizer.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mcunas/engine/host/float_reference.h"
#include "mcunas/engine/host/random_model.h"

namespace mcunas::engine {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

QuantizeOptions NoCorrection() {
  QuantizeOptions options;
  options.bias_correction = false;
  return options;
}

std::vector<std::vector<float>> Images(uint32_t first_seed, int count,
                                       int32_t resolution) {
  std::vector<std::vector<float>> images;
  for (int i = 0; i < count; ++i) {
    images.push_back(
        RandomSmoothImage(first_seed + i, resolution, resolution, 3));
  }
  return images;
}

TEST(ChooseQuantParamsTest, MatchesTfliteAndRepresentsZero) {
  QuantParams p = ChooseQuantParams(-1.0f, 1.0f);
  EXPECT_FLOAT_EQ(p.scale, 2.0f / 255.0f);
  EXPECT_EQ(p.zero_point, -1);  // -128 + 127.5, rounded away from zero

  p = ChooseQuantParams(0.0f, 6.0f);
  EXPECT_FLOAT_EQ(p.scale, 6.0f / 255.0f);
  EXPECT_EQ(p.zero_point, -128);

  p = ChooseQuantParams(2.0f, 3.0f);  // widened to [0, 3]
  EXPECT_FLOAT_EQ(p.scale, 3.0f / 255.0f);
  EXPECT_EQ(p.zero_point, -128);

  p = ChooseQuantParams(-5.0f, -1.0f);  // widened to [-5, 0]
  EXPECT_FLOAT_EQ(p.scale, 5.0f / 255.0f);
  EXPECT_EQ(p.zero_point, 127);

  p = ChooseQuantParams(0.0f, 0.0f);
  EXPECT_GT(p.scale, 0.0f);
}

TEST(ChooseQuantParamsTest, RandomRangesAreValid) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-10.0f, 10.0f);
  for (int i = 0; i < 1000; ++i) {
    float a = u(rng), b = u(rng);
    if (a > b) std::swap(a, b);
    const QuantParams p = ChooseQuantParams(a, b);
    ASSERT_GT(p.scale, 0.0f);
    ASSERT_GE(p.zero_point, -128);
    ASSERT_LE(p.zero_point, 127);
    // 0 is exact; both ends are within one step of a representable value.
    EXPECT_EQ(DequantizeValues(p, QuantizeValues(p, {0.0f}).data(), 1)[0],
              0.0f);
    const std::vector<float> ends = {std::min(a, 0.0f), std::max(b, 0.0f)};
    const std::vector<int8_t> q = QuantizeValues(p, ends);
    const std::vector<float> back = DequantizeValues(p, q.data(), 2);
    EXPECT_NEAR(back[0], ends[0], p.scale * 1.01f);
    EXPECT_NEAR(back[1], ends[1], p.scale * 1.01f);
  }
}

TEST(QuantizeValuesTest, RoundsAndSaturates) {
  const QuantParams p{0.5f, 10};
  EXPECT_THAT(QuantizeValues(p, {0.0f, 0.74f, 0.75f, -1.0f, 1000.0f, -1000.0f}),
              ElementsAre(10, 11, 12, 8, 127, -128));
  const int8_t q[] = {10, 12, -128};
  EXPECT_THAT(DequantizeValues(p, q, 3), ElementsAre(0.0f, 1.0f, -69.0f));
}

TEST(QuantizePerChannelTest, OutermostAndInnermostChannels) {
  // Two channels, two values each.
  const std::vector<float> w = {0.5f, -1.0f, 2.0f, 1.0f};
  ChannelQuantized outer = QuantizePerChannel(w, 2, false);  // {0.5,-1},{2,1}
  EXPECT_FLOAT_EQ(outer.scales[0], 1.0f / 127.0f);
  EXPECT_FLOAT_EQ(outer.scales[1], 2.0f / 127.0f);
  EXPECT_THAT(outer.values, ElementsAre(64, -127, 127, 64));

  ChannelQuantized inner = QuantizePerChannel(w, 2, true);  // {0.5,2},{-1,1}
  EXPECT_FLOAT_EQ(inner.scales[0], 2.0f / 127.0f);
  EXPECT_FLOAT_EQ(inner.scales[1], 1.0f / 127.0f);
  EXPECT_THAT(inner.values, ElementsAre(32, -127, 127, 127));

  ChannelQuantized zero = QuantizePerChannel({0.0f, 0.0f}, 1, false);
  EXPECT_FLOAT_EQ(zero.scales[0], 1.0f);
  EXPECT_THAT(zero.values, ElementsAre(0, 0));
}

TEST(FoldBatchNormTest, FoldedGraphComputesTheSameOutputs) {
  for (uint32_t seed : {1u, 2u, 3u}) {
    absl::StatusOr<FloatGraph> graph = RandomMbv2Graph(seed);
    ASSERT_TRUE(graph.ok()) << graph.status();
    absl::StatusOr<FloatGraph> folded = FoldBatchNorm(*graph);
    ASSERT_TRUE(folded.ok()) << folded.status();
    int with_bn = 0;
    for (size_t i = 0; i < graph->ops.size(); ++i) {
      with_bn += graph->ops[i].batch_norm.has_value();
      EXPECT_FALSE(folded->ops[i].batch_norm.has_value());
    }
    EXPECT_GT(with_bn, 10);
    for (const std::vector<float>& image : Images(100 + seed * 10, 3, 32)) {
      absl::StatusOr<FloatTensorValues> a = RunFloatGraph(*graph, image);
      absl::StatusOr<FloatTensorValues> b = RunFloatGraph(*folded, image);
      ASSERT_TRUE(a.ok() && b.ok());
      for (size_t t = 0; t < a->size(); ++t) {
        float max_abs = 0.0f;
        for (float v : (*a)[t]) max_abs = std::max(max_abs, std::abs(v));
        for (size_t i = 0; i < (*a)[t].size(); ++i) {
          ASSERT_NEAR((*a)[t][i], (*b)[t][i], 1e-4f * (1.0f + max_abs))
              << "tensor " << graph->tensors[t].name << " element " << i;
        }
      }
    }
  }
}

TEST(CalibrateTest, MinMaxIsTheObservedRange) {
  absl::StatusOr<FloatGraph> graph = RandomMbv2Graph(5);
  ASSERT_TRUE(graph.ok());
  const auto images = Images(500, 4, 32);
  absl::StatusOr<Calibration> calibration =
      Calibrate(*graph, images, {CalibrationMethod::kMinMax});
  ASSERT_TRUE(calibration.ok()) << calibration.status();
  const std::vector<TensorRange>& ranges = calibration->ranges;
  std::vector<TensorRange> want(graph->tensors.size(), {0.0f, 0.0f});
  std::vector<std::vector<double>> sums(graph->tensors.size());
  for (const auto& image : images) {
    absl::StatusOr<FloatTensorValues> v = RunFloatGraph(*graph, image);
    ASSERT_TRUE(v.ok());
    for (size_t t = 0; t < want.size(); ++t) {
      const size_t channels = graph->tensors[t].shape.back();
      sums[t].resize(channels);
      for (size_t i = 0; i < (*v)[t].size(); ++i) {
        const float x = (*v)[t][i];
        want[t].min = std::min(want[t].min, x);
        want[t].max = std::max(want[t].max, x);
        sums[t][i % channels] += x;
      }
    }
  }
  for (size_t t = 0; t < want.size(); ++t) {
    EXPECT_EQ(ranges[t].min, want[t].min) << graph->tensors[t].name;
    EXPECT_EQ(ranges[t].max, want[t].max) << graph->tensors[t].name;
    const size_t channels = sums[t].size();
    ASSERT_EQ(calibration->channel_means[t].size(), channels);
    const double count = images.size() *
                         ShapeElements(graph->tensors[t].shape) /
                         static_cast<double>(channels);
    for (size_t c = 0; c < channels; ++c) {
      EXPECT_NEAR(calibration->channel_means[t][c], sums[t][c] / count, 1e-4)
          << graph->tensors[t].name;
    }
  }
}

// x -> 1x1 conv (identity) -> y -> 1x1 conv (identity) -> z: y is an
// intermediate tensor holding exactly the input's values.
FloatGraph IdentityChain(int32_t width) {
  FloatGraph g;
  g.tensors = {{"x", {1, 1, width, 1}},
               {"y", {1, 1, width, 1}},
               {"z", {1, 1, width, 1}}};
  FloatOp op;
  op.type = FloatOpType::kConv2D;
  op.out_channels = 1;
  op.weights = {1.0f};
  op.inputs = {0};
  op.output = 1;
  g.ops.push_back(op);
  op.inputs = {1};
  op.output = 2;
  g.ops.push_back(op);
  g.input = 0;
  g.output = 2;
  return g;
}

double SquaredError(const std::vector<std::vector<float>>& inputs,
                    const TensorRange& range) {
  const QuantParams p = ChooseQuantParams(range.min, range.max);
  double error = 0.0;
  for (const std::vector<float>& values : inputs) {
    const std::vector<int8_t> q = QuantizeValues(p, values);
    const std::vector<float> back = DequantizeValues(p, q.data(), q.size());
    for (size_t i = 0; i < values.size(); ++i) {
      error += (double{back[i]} - values[i]) * (double{back[i]} - values[i]);
    }
  }
  return error;
}

TEST(CalibrateTest, MseClipsAnOutlierWhenThatLowersTheError) {
  // 2 * 10^6 values in [-1, 1] and one at 50. Clipping the outlier to c costs
  // (50 - c)^2 but shrinks the step for everything else: the optimum is near
  // c = 13 (rounding error ~500, clipping ~1400, vs ~6600 unclipped). Graph
  // input and output keep min/max.
  constexpr int32_t kWidth = 100000;
  const FloatGraph g = IdentityChain(kWidth);
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<std::vector<float>> inputs(20, std::vector<float>(kWidth));
  for (auto& input : inputs) {
    for (float& v : input) v = u(rng);
  }
  inputs[4][17] = 50.0f;
  absl::StatusOr<Calibration> mse_calibration = Calibrate(g, inputs);
  absl::StatusOr<Calibration> minmax_calibration =
      Calibrate(g, inputs, {CalibrationMethod::kMinMax});
  ASSERT_TRUE(mse_calibration.ok() && minmax_calibration.ok())
      << mse_calibration.status();
  const std::vector<TensorRange>* mse = &mse_calibration->ranges;
  const std::vector<TensorRange>* minmax = &minmax_calibration->ranges;
  EXPECT_LT((*mse)[1].max, 25.0f);
  EXPECT_GT((*mse)[1].max, 5.0f);
  EXPECT_LT((*mse)[1].min, -0.9f);
  EXPECT_EQ((*mse)[0].max, 50.0f);
  EXPECT_EQ((*mse)[2].max, 50.0f);
  EXPECT_EQ((*minmax)[1].max, 50.0f);
  EXPECT_LT(SquaredError(inputs, (*mse)[1]),
            0.5 * SquaredError(inputs, (*minmax)[1]));
}

TEST(CalibrateTest, MseKeepsRareOutliersOfSmallTensorsAndDenseTails) {
  // With 1000 values, clipping the outlier costs more than it saves.
  const FloatGraph g = IdentityChain(1000);
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> input(1000);
  for (float& v : input) v = normal(rng);
  input[17] = 60.0f;
  absl::StatusOr<Calibration> calibration = Calibrate(g, {input});
  ASSERT_TRUE(calibration.ok()) << calibration.status();
  EXPECT_GT(calibration->ranges[1].max, 55.0f);

  for (size_t i = 0; i < input.size(); ++i) input[i] = i * 0.006f;
  calibration = Calibrate(g, {input});
  ASSERT_TRUE(calibration.ok());
  EXPECT_GT(calibration->ranges[1].max, 5.9f);
}

TEST(CalibrateTest, RejectsNoInputs) {
  EXPECT_FALSE(Calibrate(IdentityChain(4), {}).ok());
}

TEST(QuantizeFloatGraphTest, ProducesValidParameters) {
  absl::StatusOr<FloatGraph> graph = RandomMbv2Graph(11);
  ASSERT_TRUE(graph.ok());
  absl::StatusOr<QuantGraph> q = QuantizeFloatGraph(*graph, Images(900, 8, 32));
  ASSERT_TRUE(q.ok()) << q.status();
  ASSERT_EQ(q->ops.size(), graph->ops.size());
  EXPECT_THAT(q->inputs, ElementsAre(graph->input));
  EXPECT_THAT(q->outputs, ElementsAre(graph->output));
  for (size_t t = 0; t < graph->tensors.size(); ++t) {
    const QuantTensor& qt = q->tensors[t];
    EXPECT_EQ(qt.name, graph->tensors[t].name);
    EXPECT_EQ(qt.shape, graph->tensors[t].shape);
    EXPECT_FALSE(qt.constant);
    EXPECT_GT(qt.scale, 0.0f);
    EXPECT_GE(qt.zero_point, -128);
    EXPECT_LE(qt.zero_point, 127);
  }
  for (size_t i = 0; i < q->ops.size(); ++i) {
    const QuantOp& op = q->ops[i];
    const FloatOp& fop = graph->ops[i];
    const QuantTensor& in = q->tensors[op.inputs[0]];
    const QuantTensor& out = q->tensors[op.output];
    EXPECT_EQ(op.activation, fop.activation);
    if (op.activation != Activation::kNone) {
      // The range starts at 0: zero point -128 (or the range is empty).
      EXPECT_EQ(out.zero_point, -128) << out.name;
    }
    if (op.activation == Activation::kRelu6) {
      EXPECT_LE(out.scale, 6.0f / 255.0f * 1.0001f) << out.name;
    }
    if (op.type == OpType::kAveragePool2D) {
      EXPECT_EQ(out.scale, in.scale);
      EXPECT_EQ(out.zero_point, in.zero_point);
      EXPECT_EQ(op.kernel_h, 2);  // the 2x2 map of a stride-16 model
      EXPECT_EQ(op.kernel_w, 2);
    }
    if (op.type == OpType::kConv2D || op.type == OpType::kDepthwiseConv2D ||
        op.type == OpType::kFullyConnected) {
      ASSERT_EQ(op.inputs.size(), 3u);
      const QuantTensor& w = q->tensors[op.inputs[1]];
      const QuantTensor& b = q->tensors[op.inputs[2]];
      EXPECT_TRUE(w.constant);
      EXPECT_TRUE(b.constant);
      EXPECT_EQ(w.type, TensorType::kInt8);
      EXPECT_EQ(b.type, TensorType::kInt32);
      const int32_t channels = out.shape.back();
      ASSERT_EQ(w.channel_scales.size(), static_cast<size_t>(channels));
      ASSERT_EQ(b.int32_data.size(), static_cast<size_t>(channels));
      for (int32_t c = 0; c < channels; ++c) {
        EXPECT_FLOAT_EQ(b.channel_scales[c], in.scale * w.channel_scales[c]);
      }
      int32_t max_abs = 0;
      for (int8_t v : w.int8_data)
        max_abs = std::max<int32_t>(max_abs, std::abs(v));
      EXPECT_EQ(max_abs, 127) << w.name;  // some channel reaches the limit
      EXPECT_EQ(w.int8_data.size(),
                static_cast<size_t>(ShapeElements(w.shape)));
      if (op.type == OpType::kDepthwiseConv2D) {
        EXPECT_THAT(w.shape,
                    ElementsAre(1, fop.kernel_h, fop.kernel_w, channels));
        const SamePadding pad =
            ComputeSamePadding(in.shape[1], op.kernel_h, op.stride_h);
        EXPECT_EQ(op.pad_top, pad.before);
        EXPECT_EQ(op.pad_bottom, pad.after);
      }
    }
  }
}

TEST(QuantizeFoldedTest, BiasBeyondInt32GetsACoarserWeightScale) {
  FloatGraph g;
  const int32_t x = AddGraphInput(&g, "x", {1, 1, 1, 1});
  FloatOp op;
  op.type = FloatOpType::kFullyConnected;
  op.out_channels = 1;
  op.weights = {1e-6f};
  op.bias = {1000.0f};
  op.inputs = {x};
  g.output = *AppendOp(&g, op, "y");
  Calibration calibration;
  calibration.ranges = {{-1.0f, 1.0f}, {0.0f, 1001.0f}};
  absl::StatusOr<QuantGraph> q = QuantizeFolded(g, calibration, NoCorrection());
  ASSERT_TRUE(q.ok()) << q.status();
  const QuantTensor& w = q->tensors[q->ops[0].inputs[1]];
  const QuantTensor& b = q->tensors[q->ops[0].inputs[2]];
  EXPECT_LE(std::abs(static_cast<double>(b.int32_data[0])), 1 << 30);
  EXPECT_NEAR(static_cast<double>(b.int32_data[0]) * b.channel_scales[0],
              1000.0, 1e-3);
  EXPECT_GT(w.channel_scales[0], 1e-6f / 127.0f);
}

TEST(QuantizeFoldedTest, RejectsUnfoldedBatchNormAndBadRanges) {
  absl::StatusOr<FloatGraph> graph = RandomMbv2Graph(1);
  ASSERT_TRUE(graph.ok());
  Calibration calibration;
  calibration.ranges.assign(graph->tensors.size(), {-1.0f, 1.0f});
  const QuantizeOptions no_correction = NoCorrection();
  absl::StatusOr<QuantGraph> q =
      QuantizeFolded(*graph, calibration, no_correction);
  ASSERT_FALSE(q.ok());
  EXPECT_THAT(q.status().message(), HasSubstr("op 0 (conv 'stem')"));

  absl::StatusOr<FloatGraph> folded = FoldBatchNorm(*graph);
  ASSERT_TRUE(folded.ok());
  EXPECT_TRUE(QuantizeFolded(*folded, calibration, no_correction).ok());
  q = QuantizeFolded(*folded, calibration);  // no channel means
  ASSERT_FALSE(q.ok());
  EXPECT_THAT(q.status().message(), HasSubstr("channel means"));
  calibration.ranges[3] = {1.0f, -1.0f};
  q = QuantizeFolded(*folded, calibration, no_correction);
  ASSERT_FALSE(q.ok());
  EXPECT_THAT(q.status().message(), HasSubstr("invalid range"));
  calibration.ranges.pop_back();
  EXPECT_FALSE(QuantizeFolded(*folded, calibration, no_correction).ok());
}

TEST(QuantizeFoldedTest, BiasCorrectionRemovesTheMeanWeightRoundingError) {
  // One output channel over two input channels with means 2 and -1. Weights
  // 1.0 and 0.3: scale 1/127, 0.3 rounds to 38/127 (+0.00079).
  FloatGraph g;
  g.tensors = {{"x", {1, 1, 1, 2}}, {"y", {1, 1, 1, 1}}};
  FloatOp op;
  op.type = FloatOpType::kConv2D;
  op.out_channels = 1;
  op.weights = {1.0f, 0.3f};
  op.bias = {0.5f};
  op.inputs = {0};
  op.output = 1;
  g.ops = {op};
  g.input = 0;
  g.output = 1;
  Calibration calibration;
  calibration.ranges = {{-2.0f, 3.0f}, {-4.0f, 4.0f}};
  calibration.channel_means = {{2.0f, -1.0f}, {0.0f}};
  absl::StatusOr<QuantGraph> plain =
      QuantizeFolded(g, calibration, NoCorrection());
  absl::StatusOr<QuantGraph> corrected = QuantizeFolded(g, calibration);
  ASSERT_TRUE(plain.ok() && corrected.ok());
  const QuantTensor& w = corrected->tensors[corrected->ops[0].inputs[1]];
  const QuantTensor& b0 = plain->tensors[plain->ops[0].inputs[2]];
  const QuantTensor& b1 = corrected->tensors[corrected->ops[0].inputs[2]];
  EXPECT_THAT(w.int8_data, ElementsAre(127, 38));
  const double shift = (38.0 / 127.0 - 0.3) * -1.0;  // weight 0: exact
  EXPECT_NEAR(b0.int32_data[0] * static_cast<double>(b0.channel_scales[0]), 0.5,
              b0.channel_scales[0]);
  EXPECT_NEAR(b1.int32_data[0] * static_cast<double>(b1.channel_scales[0]),
              0.5 - shift, b1.channel_scales[0]);
}

}  // namespace
}  // namespace mcunas::engine
