#include <memory>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mcunas/devices/board_catalog.h"
#include "mcunas/devices/device.h"
#include "mcunas/engine/host/model_writer.h"
#include "mcunas/engine/kernels.h"
#include "test_graphs.h"
#include "test_models.h"

namespace mcunas::devices {
namespace {

using ::testing::HasSubstr;

BoardProfile HostBoard() {
  BoardProfile board;
  board.name = "host";
  board.kind = BoardKind::kHost;
  board.core = "host";
  board.sram_budget = 1 << 20;
  board.flash_budget = 1 << 20;
  return board;
}

TEST(HostDeviceTest, RunsTheEngineAndTimesEachRun) {
  const engine::QuantGraph graph = engine::testing::TinyMbv2Graph(7);
  absl::StatusOr<std::vector<uint8_t>> blob = engine::WriteModel(graph);
  ASSERT_TRUE(blob.ok()) << blob.status();
  const std::vector<int8_t> input = engine::testing::RandomInput(graph, 3);
  absl::StatusOr<std::unique_ptr<Device>> device =
      OpenDevice(HostBoard(), DeviceOptions{});
  ASSERT_TRUE(device.ok()) << device.status();
  RunOptions options;
  options.warmup = 2;
  options.runs = 5;
  absl::StatusOr<RunResult> result = (*device)->Run(*blob, input, options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->unit, LatencyUnit::kNanoseconds);
  ASSERT_EQ(result->latencies.size(), 5u);
  EXPECT_EQ(result->stats.n, 5);
  EXPECT_GT(result->stats.median, 0);
  EXPECT_LE(result->stats.min, result->stats.median);
  EXPECT_GE(result->stats.max, result->stats.median);

  // The outputs are the graph evaluator's (reference kernels, no planner).
  const std::vector<std::vector<int8_t>> expected =
      engine::testing::EvaluateGraph(graph, engine::ReferenceKernels(), input);
  EXPECT_EQ(result->outputs, expected[graph.outputs[0]]);

  absl::StatusOr<std::vector<double>> per_op =
      (*device)->ProfileOps(*blob, input, options);
  ASSERT_TRUE(per_op.ok()) << per_op.status();
  EXPECT_EQ(per_op->size(), graph.ops.size());
}

TEST(HostDeviceTest, RefusesWrongInputsAndOverBudgetModels) {
  const engine::QuantGraph graph = engine::testing::TinyMbv2Graph(7);
  absl::StatusOr<std::vector<uint8_t>> blob = engine::WriteModel(graph);
  ASSERT_TRUE(blob.ok());
  BoardProfile board = HostBoard();
  absl::StatusOr<std::unique_ptr<Device>> device =
      OpenDevice(board, DeviceOptions{});
  ASSERT_TRUE(device.ok());
  absl::StatusOr<RunResult> result =
      (*device)->Run(*blob, std::vector<int8_t>(3), RunOptions{});
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(result.status().message()), HasSubstr("the input is 3 B"));

  board.sram_budget = 1000;
  device = OpenDevice(board, DeviceOptions{});
  ASSERT_TRUE(device.ok());
  result = (*device)->Run(*blob, engine::testing::RandomInput(graph, 1),
                          RunOptions{});
  EXPECT_EQ(result.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(result.status().message()),
              ::testing::MatchesRegex("model needs [0-9]+ B of SRAM, board host "
                                    "has 1000 B \\(over by [0-9]+ B\\)"));
}

TEST(SummarizeTest, MedianAndInterquartileRange) {
  LatencyStats s = Summarize({5, 1, 3, 2, 4});
  EXPECT_EQ(s.n, 5);
  EXPECT_DOUBLE_EQ(s.median, 3);
  EXPECT_DOUBLE_EQ(s.min, 1);
  EXPECT_DOUBLE_EQ(s.max, 5);
  EXPECT_DOUBLE_EQ(s.spread, 2);  // 4 - 2
  EXPECT_DOUBLE_EQ(Summarize({1, 2}).median, 1.5);
  EXPECT_EQ(Summarize({}).n, 0);
}

TEST(RandomCandidateTest, MakesLoadableModelsOfVariedSize) {
  absl::StatusOr<testing::TestModel> small = testing::RandomCandidate(0);
  ASSERT_TRUE(small.ok()) << small.status();
  absl::StatusOr<testing::TestModel> wide = testing::RandomCandidate(7);
  ASSERT_TRUE(wide.ok()) << wide.status();
  EXPECT_GT(wide->blob.size(), 150'000u);
  EXPECT_LT(small->blob.size(), wide->blob.size());
}

}  // namespace
}  // namespace mcunas::devices
