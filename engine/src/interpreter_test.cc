#include "mcunas/engine/interpreter.h"

#include <memory>
#include <vector>

#include "gtest/gtest.h"
#include "mcunas/engine/host/model_file.h"
#include "mcunas/engine/host/model_writer.h"
#include "test_graphs.h"

namespace mcunas::engine {
namespace {

struct Arena {
  explicit Arena(uint32_t bytes) : storage(bytes + 16) {}
  uint8_t* data() {
    const uintptr_t p = reinterpret_cast<uintptr_t>(storage.data());
    return storage.data() + ((16 - p % 16) % 16);
  }
  std::vector<uint8_t> storage;
};

std::unique_ptr<LoadedModel> Load(const QuantGraph& graph,
                                  const WriteOptions& options = {}) {
  auto blob = WriteModel(graph, options);
  EXPECT_TRUE(blob.ok()) << blob.status();
  auto loaded = LoadedModel::FromBytes(*blob);
  EXPECT_TRUE(loaded.ok()) << loaded.status();
  return std::move(*loaded);
}

// Runs the model and returns its output bytes.
std::vector<int8_t> RunModel(const Model& model, const KernelSet& kernels,
                        const std::vector<int8_t>& input) {
  Arena arena(model.arena_bytes());
  Interpreter interpreter(model, kernels);
  EXPECT_EQ(interpreter.Init(arena.data(), model.arena_bytes()), Status::kOk);
  std::copy(input.begin(), input.end(), interpreter.Input(0));
  EXPECT_EQ(interpreter.Invoke(), Status::kOk);
  const int8_t* out = interpreter.Output(0);
  return std::vector<int8_t>(out, out + interpreter.OutputBytes(0));
}

TEST(InterpreterTest, RejectsSmallOrUnalignedArena) {
  auto loaded = Load(testing::TinyMbv2Graph(3));
  const Model& model = loaded->model();
  Arena arena(model.arena_bytes() + 16);
  Interpreter interpreter(model, ReferenceKernels());
  EXPECT_EQ(interpreter.Init(arena.data(), model.arena_bytes() - 1),
            Status::kArenaTooSmall);
  EXPECT_EQ(interpreter.Init(arena.data() + 1, model.arena_bytes()),
            Status::kBadAlignment);
}

// The planned, in-place, single-arena run must equal running each op on its
// own buffers: any overlap bug in the plan would corrupt a live tensor.
TEST(InterpreterTest, MatchesUnplannedEvaluation) {
  for (uint32_t seed = 1; seed <= 12; ++seed) {
    testing::TinyGraphOptions options;
    options.kernel = 3 + 2 * static_cast<int32_t>(seed % 3);
    options.resolution = 9 + static_cast<int32_t>(seed);
    options.width = 4 + static_cast<int32_t>(seed % 5);
    const QuantGraph graph = testing::TinyMbv2Graph(seed, options);
    auto loaded = Load(graph);
    for (uint32_t input_seed = 0; input_seed < 3; ++input_seed) {
      const std::vector<int8_t> input = testing::RandomInput(graph, input_seed);
      const auto expected =
          testing::EvaluateGraph(graph, ReferenceKernels(), input);
      const std::vector<int8_t>& want = expected[graph.outputs[0]];
      EXPECT_EQ(RunModel(loaded->model(), ReferenceKernels(), input), want)
          << "seed " << seed;
      EXPECT_EQ(RunModel(loaded->model(), OptimizedKernels(), input), want)
          << "seed " << seed;
    }
  }
}

TEST(InterpreterTest, PlannerChoiceDoesNotChangeOutputs) {
  const QuantGraph graph = testing::TinyMbv2Graph(5);
  auto greedy = Load(graph);
  WriteOptions linear_options;
  linear_options.planner = PlannerKind::kLinear;
  linear_options.in_place_depthwise = false;
  auto linear = Load(graph, linear_options);
  EXPECT_LT(greedy->model().arena_bytes(), linear->model().arena_bytes());
  const std::vector<int8_t> input = testing::RandomInput(graph, 9);
  EXPECT_EQ(RunModel(greedy->model(), ReferenceKernels(), input),
            RunModel(linear->model(), ReferenceKernels(), input));
}

TEST(InterpreterTest, ObserverSeesEveryOpInOrder) {
  auto loaded = Load(testing::TinyMbv2Graph(2));
  const Model& model = loaded->model();
  Arena arena(model.arena_bytes());
  Interpreter interpreter(model, ReferenceKernels());
  ASSERT_EQ(interpreter.Init(arena.data(), model.arena_bytes()), Status::kOk);
  std::vector<uint16_t> seen;
  interpreter.SetObserver(
      [](void* context, uint16_t op) {
        static_cast<std::vector<uint16_t>*>(context)->push_back(op);
      },
      &seen);
  ASSERT_EQ(interpreter.Invoke(), Status::kOk);
  ASSERT_EQ(seen.size(), model.op_count());
  for (uint16_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], i);
}

}  // namespace
}  // namespace mcunas::engine
