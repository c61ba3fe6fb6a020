// Alias groups in the arena plan: a reshape shares its input's buffer, so an
// in-place depthwise may reuse that buffer only when every tensor in it dies
// there; ValidatePlan catches a plan that overwrites a value still read.
#include <cstring>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "mcunas/engine/host/model_file.h"
#include "mcunas/engine/host/model_metrics.h"
#include "mcunas/engine/host/model_writer.h"
#include "mcunas/engine/interpreter.h"
#include "test_graphs.h"

namespace mcunas::engine {
namespace {

QuantTensor Activation(const std::string& name, std::vector<int32_t> shape,
                       float scale, int32_t zero_point) {
  QuantTensor t;
  t.name = name;
  t.shape = std::move(shape);
  t.scale = scale;
  t.zero_point = zero_point;
  return t;
}

QuantTensor Constant8(const std::string& name, std::vector<int32_t> shape,
                      size_t n, float scale) {
  QuantTensor t;
  t.name = name;
  t.shape = std::move(shape);
  t.constant = true;
  t.channel_scales = {scale};
  for (size_t i = 0; i < n; ++i) {
    t.int8_data.push_back(static_cast<int8_t>((i * 37) % 200 - 100));
  }
  return t;
}

// x -> 1x1 conv -> t0; t1 = reshape(t0); fc(t1); t2 = depthwise 3x3(t0);
// pool(t2) -> reshape. With `fc_last`, the fc reading the reshape alias runs
// after the depthwise, so the depthwise must not write in place.
QuantGraph AliasGraph(bool fc_last) {
  QuantGraph g;
  g.tensors.push_back(Activation("x", {1, 6, 6, 4}, 0.05f, 3));          // 0
  g.tensors.push_back(Constant8("conv/w", {4, 1, 1, 4}, 16, 0.01f));     // 1
  g.tensors.push_back(Activation("t0", {1, 6, 6, 4}, 0.04f, -5));        // 2
  g.tensors.push_back(Activation("t1", {1, 144}, 0.04f, -5));            // 3
  g.tensors.push_back(Constant8("fc/w", {3, 144}, 432, 0.002f));         // 4
  g.tensors.push_back(Activation("fc", {1, 3}, 0.2f, 1));                // 5
  g.tensors.push_back(Constant8("dw/w", {1, 3, 3, 4}, 36, 0.02f));       // 6
  g.tensors.push_back(Activation("t2", {1, 6, 6, 4}, 0.06f, 2));         // 7
  g.tensors.push_back(Activation("pool", {1, 1, 1, 4}, 0.06f, 2));       // 8
  g.tensors.push_back(Activation("flat", {1, 4}, 0.06f, 2));             // 9
  QuantOp conv;
  conv.type = OpType::kConv2D;
  conv.inputs = {0, 1, -1};
  conv.output = 2;
  QuantOp reshape;
  reshape.type = OpType::kReshape;
  reshape.inputs = {2};
  reshape.output = 3;
  QuantOp fc;
  fc.type = OpType::kFullyConnected;
  fc.inputs = {3, 4, -1};
  fc.output = 5;
  QuantOp dw;
  dw.type = OpType::kDepthwiseConv2D;
  dw.kernel_h = dw.kernel_w = 3;
  dw.pad_top = dw.pad_bottom = dw.pad_left = dw.pad_right = 1;
  dw.inputs = {2, 6, -1};
  dw.output = 7;
  QuantOp pool;
  pool.type = OpType::kAveragePool2D;
  pool.kernel_h = pool.kernel_w = 6;
  pool.inputs = {7};
  pool.output = 8;
  QuantOp flat;
  flat.type = OpType::kReshape;
  flat.inputs = {8};
  flat.output = 9;
  g.ops = fc_last ? std::vector<QuantOp>{conv, reshape, dw, fc, pool, flat}
                  : std::vector<QuantOp>{conv, reshape, fc, dw, pool, flat};
  g.inputs = {0};
  g.outputs = {5, 9};
  return g;
}

int FindOp(const Model& model, OpType type) {
  for (uint16_t i = 0; i < model.op_count(); ++i) {
    if (model.op(i).type == static_cast<uint8_t>(type)) return i;
  }
  return -1;
}

void ExpectRunsAsOracle(const QuantGraph& graph, const Model& model) {
  const std::vector<int8_t> input = testing::RandomInput(graph, 3);
  const auto want = testing::EvaluateGraph(graph, ReferenceKernels(), input);
  std::vector<uint8_t> arena(model.arena_bytes() + 16);
  uint8_t* aligned =
      arena.data() + (16 - reinterpret_cast<uintptr_t>(arena.data()) % 16) % 16;
  Interpreter interpreter(model, ReferenceKernels());
  ASSERT_EQ(interpreter.Init(aligned, model.arena_bytes()), Status::kOk);
  std::copy(input.begin(), input.end(), interpreter.Input(0));
  ASSERT_EQ(interpreter.Invoke(), Status::kOk);
  for (uint16_t o = 0; o < model.output_count(); ++o) {
    EXPECT_EQ(std::vector<int8_t>(
                  interpreter.Output(o),
                  interpreter.Output(o) + interpreter.OutputBytes(o)),
              want[graph.outputs[o]]);
  }
}

TEST(AliasPlanTest, DepthwiseKeepsABufferWhoseAliasIsStillRead) {
  const QuantGraph graph = AliasGraph(/*fc_last=*/true);
  auto blob = WriteModel(graph);
  ASSERT_TRUE(blob.ok()) << blob.status();
  auto loaded = LoadedModel::FromBytes(*blob);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const Model& model = (*loaded)->model();
  const int dw = FindOp(model, OpType::kDepthwiseConv2D);
  EXPECT_EQ(model.op(dw).flags & kOpFlagInPlace, 0);
  ExpectRunsAsOracle(graph, model);
}

TEST(AliasPlanTest, DepthwiseReusesABufferWhoseWholeGroupDiesThere) {
  const QuantGraph graph = AliasGraph(/*fc_last=*/false);
  auto blob = WriteModel(graph);
  ASSERT_TRUE(blob.ok()) << blob.status();
  auto loaded = LoadedModel::FromBytes(*blob);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const Model& model = (*loaded)->model();
  const int dw = FindOp(model, OpType::kDepthwiseConv2D);
  EXPECT_NE(model.op(dw).flags & kOpFlagInPlace, 0);
  // t0, its reshape t1 and the depthwise output t2 share one buffer,
  // counted once in the live set.
  EXPECT_EQ(model.tensor(2).offset, model.tensor(3).offset);
  EXPECT_EQ(model.tensor(2).offset, model.tensor(7).offset);
  EXPECT_EQ(ComputeOpCost(model, static_cast<uint16_t>(dw)).live_bytes,
            144u + 16u + 64u);  // the buffer, the fc output, dw scratch
  ExpectRunsAsOracle(graph, model);
}

TEST(AliasPlanTest, ValidatePlanCatchesAnOverwrittenAlias) {
  auto blob = WriteModel(AliasGraph(/*fc_last=*/false));
  ASSERT_TRUE(blob.ok());
  // Swap the fc (reads the reshape alias) and the in-place depthwise: every
  // record is still valid on its own, but the depthwise now overwrites the
  // alias's bytes before the fc reads them.
  auto* h = reinterpret_cast<ModelHeader*>(blob->data());
  auto* ops = reinterpret_cast<OpRecord*>(blob->data() + h->op_table_offset);
  ASSERT_EQ(ops[2].type, static_cast<uint8_t>(OpType::kFullyConnected));
  ASSERT_NE(ops[3].flags & kOpFlagInPlace, 0);
  std::swap(ops[2], ops[3]);
  h->crc32 = Crc32(blob->data() + sizeof(ModelHeader),
                   h->total_bytes - sizeof(ModelHeader));
  auto loaded = LoadedModel::FromBytes(*blob);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().message().find(
                "in-place op 2 overwrites tensor 3, which is read until op 3"),
            std::string::npos)
      << loaded.status();
}

}  // namespace
}  // namespace mcunas::engine
