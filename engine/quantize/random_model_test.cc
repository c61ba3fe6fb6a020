#include "mcunas/engine/host/random_model.h"

#include <algorithm>
#include <set>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mcunas/engine/host/float_reference.h"

namespace mcunas::engine {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

int CountOps(const FloatGraph& g, FloatOpType type) {
  return static_cast<int>(
      std::count_if(g.ops.begin(), g.ops.end(),
                    [type](const FloatOp& op) { return op.type == type; }));
}

TEST(RandomMbv2GraphTest, DefaultShapeAndStructure) {
  absl::StatusOr<FloatGraph> g = RandomMbv2Graph(1);
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_TRUE(ValidateFloatGraph(*g).ok());
  EXPECT_THAT(g->tensors[g->input].shape, ElementsAre(1, 32, 32, 3));
  EXPECT_THAT(g->tensors[g->output].shape, ElementsAre(1, 10));
  // Stem k3 s2 to 16 channels (32 * 0.5), ReLU6, with batch norm.
  const FloatOp& stem = g->ops[0];
  EXPECT_EQ(stem.kernel_h, 3);
  EXPECT_EQ(stem.stride_h, 2);
  EXPECT_EQ(stem.activation, Activation::kRelu6);
  EXPECT_TRUE(stem.batch_norm.has_value());
  EXPECT_THAT(g->tensors[stem.output].shape, ElementsAre(1, 16, 16, 16));
  // 8 blocks, one depthwise each; residual adds in the 3 repeated blocks.
  EXPECT_EQ(CountOps(*g, FloatOpType::kDepthwiseConv2D), 8);
  EXPECT_EQ(CountOps(*g, FloatOpType::kAdd), 3);
  EXPECT_EQ(CountOps(*g, FloatOpType::kGlobalAveragePool), 1);
  EXPECT_EQ(g->ops.back().type, FloatOpType::kFullyConnected);
  for (const FloatOp& op : g->ops) {
    if (op.type == FloatOpType::kDepthwiseConv2D) {
      EXPECT_THAT(op.kernel_h, ::testing::AnyOf(3, 5, 7));
    }
  }
}

TEST(RandomMbv2GraphTest, SameSeedSameModelOtherSeedOther) {
  absl::StatusOr<FloatGraph> a = RandomMbv2Graph(5);
  absl::StatusOr<FloatGraph> b = RandomMbv2Graph(5);
  absl::StatusOr<FloatGraph> c = RandomMbv2Graph(6);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  ASSERT_EQ(a->ops.size(), b->ops.size());
  for (size_t i = 0; i < a->ops.size(); ++i) {
    EXPECT_EQ(a->ops[i].weights, b->ops[i].weights);
  }
  EXPECT_NE(a->ops[0].weights, c->ops[0].weights);
}

TEST(RandomMbv2GraphTest, OptionsShapeTheModel) {
  RandomMbv2Options o;
  o.resolution = 24;
  o.input_channels = 1;
  o.stem_stride = 1;
  o.width_multiplier = 1.0f;
  o.stages = {{16, 1, 1, 1, 3}, {24, 2, 2, 6, 5}};
  o.head_channels = 64;
  o.classes = 4;
  absl::StatusOr<FloatGraph> g = RandomMbv2Graph(3, o);
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_THAT(g->tensors[g->input].shape, ElementsAre(1, 24, 24, 1));
  EXPECT_THAT(g->tensors[g->ops[0].output].shape, ElementsAre(1, 24, 24, 32));
  EXPECT_THAT(g->tensors[g->output].shape, ElementsAre(1, 4));
  std::vector<int32_t> kernels;
  for (const FloatOp& op : g->ops) {
    if (op.type == FloatOpType::kDepthwiseConv2D)
      kernels.push_back(op.kernel_h);
  }
  EXPECT_THAT(kernels, ElementsAre(3, 5, 5));
  // Expand ratio 6 on 16 input channels, then on 24.
  EXPECT_EQ(g->ops[3].out_channels, 96);
}

TEST(RandomMbv2GraphTest, ClassesDecideTop1) {
  // The classifier is fitted to the model's classes: held-out samples are
  // mostly assigned to the class they were drawn from, and every class wins.
  const RandomMbv2Options o;
  absl::StatusOr<FloatGraph> g = RandomMbv2Graph(9, o);
  ASSERT_TRUE(g.ok());
  int correct = 0;
  std::set<int32_t> winners;
  for (uint32_t sample = 100; sample < 140; ++sample) {
    const int32_t cls = static_cast<int32_t>(sample % o.classes);
    absl::StatusOr<std::vector<float>> logits =
        RunFloatGraphOutput(*g, RandomClassImage(9, o, cls, sample));
    ASSERT_TRUE(logits.ok());
    const int32_t top = static_cast<int32_t>(
        std::max_element(logits->begin(), logits->end()) - logits->begin());
    correct += top == cls;
    winners.insert(top);
  }
  EXPECT_GE(correct, 30);
  EXPECT_EQ(winners.size(), 10u);
}

TEST(RandomMbv2GraphTest, RejectsBadOptions) {
  RandomMbv2Options o;
  o.resolution = 0;
  EXPECT_THAT(RandomMbv2Graph(1, o).status().message(),
              HasSubstr("resolution must be positive"));
  o = {};
  o.stages.clear();
  EXPECT_FALSE(RandomMbv2Graph(1, o).ok());
  o = {};
  o.kernel_choices.clear();
  EXPECT_THAT(RandomMbv2Graph(1, o).status().message(),
              HasSubstr("needs kernel_choices"));
  o = {};
  o.width_multiplier = -1.0f;
  EXPECT_FALSE(RandomMbv2Graph(1, o).ok());
}

TEST(RandomImageTest, SmoothImagesAreInRangeAndDeterministic) {
  const std::vector<float> a = RandomSmoothImage(4, 8, 8, 3);
  EXPECT_EQ(a.size(), 8u * 8u * 3u);
  EXPECT_EQ(a, RandomSmoothImage(4, 8, 8, 3));
  EXPECT_NE(a, RandomSmoothImage(5, 8, 8, 3));
  for (float v : a) {
    EXPECT_GE(v, -1.0f);
    EXPECT_LE(v, 1.0f);
  }
}

}  // namespace
}  // namespace mcunas::engine
