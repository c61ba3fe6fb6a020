#include "mcunas/engine/host/float_graph.h"

#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mcunas::engine {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

FloatOp Conv(int32_t x, int32_t in_c, int32_t out_c, int32_t k, int32_t s) {
  FloatOp op;
  op.type = FloatOpType::kConv2D;
  op.name = "conv";
  op.kernel_h = op.kernel_w = k;
  op.stride_h = op.stride_w = s;
  op.out_channels = out_c;
  op.inputs = {x};
  op.weights.assign(static_cast<size_t>(out_c) * k * k * in_c, 0.5f);
  return op;
}

TEST(FloatGraphTest, AppendOpInfersSamePaddingShapes) {
  FloatGraph g;
  const int32_t x = AddGraphInput(&g, "x", {1, 7, 5, 3});
  absl::StatusOr<int32_t> y = AppendOp(&g, Conv(x, 3, 4, 3, 2), "y");
  ASSERT_TRUE(y.ok()) << y.status();
  EXPECT_THAT(g.tensors[*y].shape, ElementsAre(1, 4, 3, 4));

  FloatOp dw;
  dw.type = FloatOpType::kDepthwiseConv2D;
  dw.kernel_h = dw.kernel_w = 5;
  dw.stride_h = dw.stride_w = 2;
  dw.inputs = {*y};
  dw.weights.assign(5 * 5 * 4, 0.1f);
  absl::StatusOr<int32_t> z = AppendOp(&g, dw, "z");
  ASSERT_TRUE(z.ok()) << z.status();
  EXPECT_THAT(g.tensors[*z].shape, ElementsAre(1, 2, 2, 4));

  FloatOp pool;
  pool.type = FloatOpType::kGlobalAveragePool;
  pool.inputs = {*z};
  absl::StatusOr<int32_t> p = AppendOp(&g, pool, "p");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(g.tensors[*p].shape, ElementsAre(1, 1, 1, 4));

  FloatOp fc;
  fc.type = FloatOpType::kFullyConnected;
  fc.out_channels = 6;
  fc.inputs = {*p};
  fc.weights.assign(6 * 4, 0.2f);
  absl::StatusOr<int32_t> logits = AppendOp(&g, fc, "logits");
  ASSERT_TRUE(logits.ok()) << logits.status();
  EXPECT_THAT(g.tensors[*logits].shape, ElementsAre(1, 6));
  g.output = *logits;
  EXPECT_TRUE(ValidateFloatGraph(g).ok()) << ValidateFloatGraph(g);
}

TEST(FloatGraphTest, WrongWeightCountNamesTheOp) {
  FloatGraph g;
  const int32_t x = AddGraphInput(&g, "x", {1, 4, 4, 3});
  FloatOp op = Conv(x, 3, 4, 3, 1);
  op.name = "stem";
  op.weights.pop_back();
  absl::StatusOr<int32_t> y = AppendOp(&g, op, "y");
  ASSERT_FALSE(y.ok());
  EXPECT_EQ(y.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(y.status().message(), HasSubstr("op 0 (conv 'stem')"));
  EXPECT_THAT(y.status().message(), HasSubstr("weights has 107 values"));
  EXPECT_EQ(g.tensors.size(), 1u);  // unchanged on failure
}

TEST(FloatGraphTest, RejectsBadBatchNormAndNonFiniteValues) {
  FloatGraph g;
  const int32_t x = AddGraphInput(&g, "x", {1, 4, 4, 2});
  FloatOp op = Conv(x, 2, 2, 1, 1);
  op.batch_norm = BatchNorm{{1, 1}, {0, 0}, {0, 0}, {1, -1}, 0.0f};
  absl::StatusOr<int32_t> y = AppendOp(&g, op, "y");
  ASSERT_FALSE(y.ok());
  EXPECT_THAT(y.status().message(), HasSubstr("batch norm var[1]"));

  op.batch_norm.reset();
  op.weights[3] = std::numeric_limits<float>::quiet_NaN();
  y = AppendOp(&g, op, "y");
  ASSERT_FALSE(y.ok());
  EXPECT_THAT(y.status().message(), HasSubstr("weights[3] is not finite"));
}

TEST(FloatGraphTest, AddNeedsSameShapes) {
  FloatGraph g;
  const int32_t x = AddGraphInput(&g, "x", {1, 4, 4, 2});
  absl::StatusOr<int32_t> y = AppendOp(&g, Conv(x, 2, 3, 1, 1), "y");
  ASSERT_TRUE(y.ok());
  FloatOp add;
  add.type = FloatOpType::kAdd;
  add.inputs = {x, *y};
  absl::StatusOr<int32_t> z = AppendOp(&g, add, "z");
  ASSERT_FALSE(z.ok());
  EXPECT_THAT(z.status().message(), HasSubstr("differ in shape"));
}

TEST(FloatGraphTest, ValidateCatchesOrderAndShapeErrors) {
  FloatGraph g;
  const int32_t x = AddGraphInput(&g, "x", {1, 4, 4, 2});
  absl::StatusOr<int32_t> y = AppendOp(&g, Conv(x, 2, 2, 1, 1), "y");
  ASSERT_TRUE(y.ok());
  absl::StatusOr<int32_t> z = AppendOp(&g, Conv(*y, 2, 2, 1, 1), "z");
  ASSERT_TRUE(z.ok());
  g.output = *z;
  ASSERT_TRUE(ValidateFloatGraph(g).ok());

  FloatGraph swapped = g;
  std::swap(swapped.ops[0], swapped.ops[1]);
  absl::Status s = ValidateFloatGraph(swapped);
  EXPECT_THAT(s.message(), HasSubstr("'y' is not computed before this op"));

  FloatGraph bad_shape = g;
  bad_shape.tensors[*z].shape = {1, 4, 4, 3};
  s = ValidateFloatGraph(bad_shape);
  EXPECT_THAT(s.message(), HasSubstr("output 'z' has shape [1, 4, 4, 3]"));

  FloatGraph bad_tensor = g;
  bad_tensor.tensors[x].shape = {2, 4, 4, 2};
  s = ValidateFloatGraph(bad_tensor);
  EXPECT_THAT(s.message(), HasSubstr("tensor 0 'x' has shape [2, 4, 4, 2]"));

  FloatGraph no_output = g;
  no_output.output = x;
  s = ValidateFloatGraph(no_output);
  EXPECT_THAT(s.message(), HasSubstr("not produced by any op"));

  FloatGraph twice = g;
  twice.ops[1].output = *y;
  twice.ops[1].inputs = {x};
  s = ValidateFloatGraph(twice);
  EXPECT_THAT(s.message(), HasSubstr("already produced"));
}

}  // namespace
}  // namespace mcunas::engine
