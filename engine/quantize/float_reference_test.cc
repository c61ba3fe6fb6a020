#include "mcunas/engine/host/float_reference.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mcunas::engine {
namespace {

using ::testing::ElementsAre;
using ::testing::FloatEq;
using ::testing::HasSubstr;
using ::testing::Pointwise;

FloatOp Op(FloatOpType type, std::vector<int32_t> inputs) {
  FloatOp op;
  op.type = type;
  op.inputs = std::move(inputs);
  return op;
}

// Appends `op`, makes its output the graph output, runs the graph on `input`
// and returns the output.
std::vector<float> RunOne(FloatGraph* g, FloatOp op,
                          const std::vector<float>& input) {
  absl::StatusOr<int32_t> y = AppendOp(g, std::move(op), "y");
  EXPECT_TRUE(y.ok()) << y.status();
  if (!y.ok()) return {};
  g->output = *y;
  absl::StatusOr<std::vector<float>> out = RunFloatGraphOutput(*g, input);
  EXPECT_TRUE(out.ok()) << out.status();
  return out.ok() ? *out : std::vector<float>{};
}

TEST(FloatReferenceTest, PointwiseConvWithBias) {
  FloatGraph g;
  const int32_t x = AddGraphInput(&g, "x", {1, 1, 2, 2});
  FloatOp op = Op(FloatOpType::kConv2D, {x});
  op.out_channels = 3;
  op.weights = {1,   2,   // out 0
                -1,  0,   // out 1
                0.5, 1};  // out 2
  op.bias = {0, 10, -1};
  // Pixels (1, 2) and (3, -4).
  EXPECT_THAT(RunOne(&g, op, {1, 2, 3, -4}),
              Pointwise(FloatEq(), std::vector<float>{5, 9, 1.5, -5, 7, -3.5}));
}

TEST(FloatReferenceTest, SamePaddingStride1CountsValidTaps) {
  FloatGraph g;
  const int32_t x = AddGraphInput(&g, "x", {1, 3, 3, 1});
  FloatOp op = Op(FloatOpType::kConv2D, {x});
  op.kernel_h = op.kernel_w = 3;
  op.out_channels = 1;
  op.weights.assign(9, 1.0f);
  EXPECT_THAT(
      RunOne(&g, op, std::vector<float>(9, 1.0f)),
      Pointwise(FloatEq(), std::vector<float>{4, 6, 4, 6, 9, 6, 4, 6, 4}));
}

TEST(FloatReferenceTest, SamePaddingStride2PadsAfter) {
  // 4x4 input 0..15, k3 s2: total padding 1, all of it after (bottom/right),
  // as TFLite does.
  FloatGraph g;
  const int32_t x = AddGraphInput(&g, "x", {1, 4, 4, 1});
  FloatOp op = Op(FloatOpType::kConv2D, {x});
  op.kernel_h = op.kernel_w = 3;
  op.stride_h = op.stride_w = 2;
  op.out_channels = 1;
  op.weights.assign(9, 1.0f);
  std::vector<float> input(16);
  for (int i = 0; i < 16; ++i) input[i] = static_cast<float>(i);
  EXPECT_THAT(RunOne(&g, op, input),
              Pointwise(FloatEq(), std::vector<float>{45, 39, 66, 50}));
}

TEST(FloatReferenceTest, DepthwiseIsPerChannel) {
  FloatGraph g;
  const int32_t x = AddGraphInput(&g, "x", {1, 3, 3, 2});
  FloatOp op = Op(FloatOpType::kDepthwiseConv2D, {x});
  op.kernel_h = op.kernel_w = 3;
  // [ky][kx][c]: channel 0 sums its window, channel 1 doubles the centre.
  op.weights.assign(18, 0.0f);
  for (int k = 0; k < 9; ++k) op.weights[k * 2] = 1.0f;
  op.weights[4 * 2 + 1] = 2.0f;
  std::vector<float> input(18);
  for (int p = 0; p < 9; ++p) {
    input[p * 2] = 1.0f;
    input[p * 2 + 1] = static_cast<float>(p);
  }
  EXPECT_THAT(RunOne(&g, op, input),
              Pointwise(FloatEq(), std::vector<float>{4, 0, 6, 2, 4, 4,   //
                                                      6, 6, 9, 8, 6, 10,  //
                                                      4, 12, 6, 14, 4, 16}));
}

TEST(FloatReferenceTest, BatchNormThenRelu6) {
  FloatGraph g;
  const int32_t x = AddGraphInput(&g, "x", {1, 1, 4, 1});
  FloatOp op = Op(FloatOpType::kConv2D, {x});
  op.out_channels = 1;
  op.weights = {1.0f};
  op.bias = {0.5f};
  // gamma 2, sqrt(var + eps) = 2: y = (x + 0.5 - 1.5) + 1 = x.
  op.batch_norm = BatchNorm{{2.0f}, {1.0f}, {1.5f}, {3.99f}, 0.01f};
  op.activation = Activation::kRelu6;
  EXPECT_THAT(RunOne(&g, op, {-2, 0.25, 5, 9}),
              Pointwise(FloatEq(), std::vector<float>{0, 0.25, 5, 6}));
}

TEST(FloatReferenceTest, AddPoolAndFullyConnected) {
  FloatGraph g;
  const int32_t x = AddGraphInput(&g, "x", {1, 2, 2, 2});
  FloatOp add = Op(FloatOpType::kAdd, {x, x});
  add.activation = Activation::kRelu;
  absl::StatusOr<int32_t> sum = AppendOp(&g, add, "sum");
  ASSERT_TRUE(sum.ok());
  absl::StatusOr<int32_t> pool =
      AppendOp(&g, Op(FloatOpType::kGlobalAveragePool, {*sum}), "pool");
  ASSERT_TRUE(pool.ok());
  FloatOp fc = Op(FloatOpType::kFullyConnected, {*pool});
  fc.out_channels = 2;
  fc.weights = {1, 1, 1, -1};
  fc.bias = {0, 100};
  absl::StatusOr<int32_t> out = AppendOp(&g, fc, "out");
  ASSERT_TRUE(out.ok());
  g.output = *out;
  // Channel 0: 1, 2, 3, -4 -> relu(2x) = 2, 4, 6, 0 -> mean 3.
  // Channel 1: 4, 4, 4, 4 -> 8.
  absl::StatusOr<FloatTensorValues> values =
      RunFloatGraph(g, {1, 4, 2, 4, 3, 4, -4, 4});
  ASSERT_TRUE(values.ok()) << values.status();
  EXPECT_THAT((*values)[*sum],
              Pointwise(FloatEq(), std::vector<float>{2, 8, 4, 8, 6, 8, 0, 8}));
  EXPECT_THAT((*values)[*pool], Pointwise(FloatEq(), std::vector<float>{3, 8}));
  EXPECT_THAT((*values)[*out],
              Pointwise(FloatEq(), std::vector<float>{11, 95}));
  EXPECT_THAT((*values)[x], ElementsAre(1, 4, 2, 4, 3, 4, -4, 4));
}

TEST(FloatReferenceTest, RejectsWrongInputSize) {
  FloatGraph g;
  const int32_t x = AddGraphInput(&g, "image", {1, 2, 2, 1});
  absl::StatusOr<int32_t> pool =
      AppendOp(&g, Op(FloatOpType::kGlobalAveragePool, {x}), "pool");
  ASSERT_TRUE(pool.ok());
  g.output = *pool;
  absl::StatusOr<FloatTensorValues> values = RunFloatGraph(g, {1, 2, 3});
  ASSERT_FALSE(values.ok());
  EXPECT_THAT(values.status().message(),
              HasSubstr("input 'image' needs 4 values, got 3"));
}

}  // namespace
}  // namespace mcunas::engine
