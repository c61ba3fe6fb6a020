// The ops added for TFLite interop (reshape, softmax, mean, quantize,
// transpose, pad) through the writer, the loader and the interpreter: they
// run as the unplanned oracle says, and the loader names every broken field
// of theirs.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "mcunas/engine/host/model_file.h"
#include "mcunas/engine/host/model_writer.h"
#include "mcunas/engine/interpreter.h"
#include "mcunas/engine/model.h"
#include "test_blob.h"
#include "test_graphs.h"

namespace mcunas::engine {
namespace {

using testing::Blob;

std::vector<uint8_t> InteropBlob(uint32_t seed = 1,
                                 const WriteOptions& options = {}) {
  auto blob = WriteModel(testing::InteropGraph(seed), options);
  EXPECT_TRUE(blob.ok()) << blob.status();
  return blob.ok() ? *blob : std::vector<uint8_t>{};
}

TEST(InteropModelTest, RunsAsTheUnplannedOracleSays) {
  WriteOptions linear;
  linear.planner = PlannerKind::kLinear;
  linear.in_place_depthwise = false;
  for (uint32_t seed = 1; seed <= 5; ++seed) {
    const QuantGraph graph = testing::InteropGraph(seed);
    const std::vector<int8_t> input = testing::RandomInput(graph, seed);
    const auto want =
        testing::EvaluateGraph(graph, ReferenceKernels(), input);
    for (const WriteOptions& options : {WriteOptions{}, linear}) {
      auto loaded = LoadedModel::FromBytes(InteropBlob(seed, options));
      ASSERT_TRUE(loaded.ok()) << loaded.status();
      const Model& model = (*loaded)->model();
      for (const KernelSet* kernels : {&ReferenceKernels(), &OptimizedKernels()}) {
        std::vector<uint8_t> arena(model.arena_bytes() + 16);
        uint8_t* aligned = arena.data() +
                           (16 - reinterpret_cast<uintptr_t>(arena.data()) % 16) % 16;
        Interpreter interpreter(model, *kernels);
        ASSERT_EQ(interpreter.Init(aligned, model.arena_bytes()), Status::kOk);
        std::copy(input.begin(), input.end(), interpreter.Input(0));
        ASSERT_EQ(interpreter.Invoke(), Status::kOk);
        for (uint16_t o = 0; o < model.output_count(); ++o) {
          const std::vector<int8_t> got(
              interpreter.Output(o),
              interpreter.Output(o) + interpreter.OutputBytes(o));
          EXPECT_EQ(got, want[graph.outputs[o]]) << "seed " << seed;
        }
      }
    }
  }
}

TEST(InteropModelTest, ReshapeAliasesItsInput) {
  Blob blob(InteropBlob());
  const int r = blob.Find(OpType::kReshape);
  ASSERT_GE(r, 0);
  EXPECT_NE(blob.op(r).flags & kOpFlagInPlace, 0);
  EXPECT_EQ(blob.tensor(blob.op(r).inputs[0]).offset,
            blob.tensor(blob.op(r).output).offset);
  EXPECT_EQ(blob.Load().status, Status::kOk);
}

TEST(InteropModelTest, LoaderNamesBrokenInteropFields) {
  struct Case {
    const char* name;
    OpType type;
    void (*corrupt)(Blob&, int);
    Status status;
    const char* what;
  };
  const Case cases[] = {
      {"softmax shift", OpType::kSoftmax,
       [](Blob& b, int i) { b.params<SoftmaxParams>(i).input_left_shift = 31; },
       Status::kBadQuantization, "softmax params"},
      {"softmax overflow", OpType::kSoftmax,
       [](Blob& b, int i) {
         b.params<SoftmaxParams>(i).input_left_shift = 30;
         b.params<SoftmaxParams>(i).diff_min = -255;
       },
       Status::kBadQuantization, "softmax params"},
      {"softmax zero point", OpType::kSoftmax,
       [](Blob& b, int i) { b.tensor(b.op(i).output).zero_point = 0; },
       Status::kBadQuantization, "softmax output zero point must be -128"},
      {"softmax activation", OpType::kSoftmax,
       [](Blob& b, int i) { b.op(i).activation = 1; }, Status::kBadEnum,
       "op has no fused activation"},
      {"mean mode", OpType::kMean,
       [](Blob& b, int i) { b.params<MeanParams>(i).mode = 9; },
       Status::kBadQuantization, "mean params"},
      {"requantize shift", OpType::kQuantize,
       [](Blob& b, int i) { b.params<RequantizeParams>(i).shift = 30; },
       Status::kBadQuantization, "requantize params"},
      {"transpose repeat", OpType::kTranspose,
       [](Blob& b, int i) { b.params<TransposeParams>(i).perm[1] = 0; },
       Status::kBadShape, "transpose permutation"},
      {"transpose range", OpType::kTranspose,
       [](Blob& b, int i) { b.params<TransposeParams>(i).perm[2] = 7; },
       Status::kBadShape, "transpose permutation"},
      {"pad size", OpType::kPad, [](Blob& b, int i) { b.op(i).pad_bottom++; },
       Status::kBadShape, "pad output size"},
      {"params size", OpType::kMean,
       [](Blob& b, int i) { b.op(i).params_bytes = 8; }, Status::kBadOffset,
       "op params"},
      {"unused slot", OpType::kTranspose,
       [](Blob& b, int i) { b.op(i).inputs[1] = 0; }, Status::kBadTensorRef,
       "unused input slot is not empty"},
      {"reshape copy onto itself", OpType::kReshape,
       [](Blob& b, int i) { b.op(i).flags = 0; }, Status::kBadOffset,
       "output overlaps input"},
      {"in-place transpose", OpType::kTranspose,
       [](Blob& b, int i) { b.op(i).flags = kOpFlagInPlace; },
       Status::kBadShape, "invalid in-place op"},
  };
  for (const Case& c : cases) {
    Blob blob(InteropBlob());
    const int i = blob.Find(c.type);
    ASSERT_GE(i, 0) << c.name;
    c.corrupt(blob, i);
    blob.Restamp();
    const Diagnostic d = blob.Load();
    EXPECT_EQ(d.status, c.status) << c.name << ": " << d.what;
    EXPECT_STREQ(d.what, c.what) << c.name;
  }
}

// Bounds that keep every kernel's int32 arithmetic from overflowing on any
// input (the fuzzers found biases near 2^31 and an add shifted by 24).
TEST(LoaderBoundsTest, RefusesWhatCouldOverflowInt32) {
  auto written = WriteModel(testing::TinyMbv2Graph(1));
  ASSERT_TRUE(written.ok());
  {
    Blob blob(*written);
    const TensorRecord& bias = blob.tensor(blob.op(0).inputs[2]);
    int32_t* values = reinterpret_cast<int32_t*>(
        blob.data() + blob.header().data_offset + bias.offset);
    values[0] = INT32_MAX - 1000;
    blob.Restamp();
    const Diagnostic d = blob.Load();
    EXPECT_EQ(d.status, Status::kUnsupported);
    EXPECT_STREQ(d.what, "int32 accumulator could overflow");
    EXPECT_EQ(d.index, 0);
  }
  const auto add_case = [&](void (*corrupt)(AddParams&)) {
    Blob blob(*written);
    const int i = blob.Find(OpType::kAdd);
    EXPECT_GE(i, 0);
    corrupt(blob.params<AddParams>(i));
    blob.Restamp();
    const Diagnostic d = blob.Load();
    EXPECT_EQ(d.status, Status::kBadQuantization);
    EXPECT_STREQ(d.what, "add multipliers or shifts");
  };
  add_case([](AddParams& p) { p.left_shift = 24; });
  add_case([](AddParams& p) {
    p.input1_shift = 0;
    p.input1_multiplier = (1 << 30) + 1;  // above 1/2
  });
  // The writer refuses the same graph, naming the op.
  QuantGraph graph = testing::TinyMbv2Graph(1);
  graph.tensors[graph.ops[0].inputs[2]].int32_data[0] = INT32_MAX - 1000;
  const auto refused = WriteModel(graph);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find(
                "op 0 (type 1): int32 accumulator could overflow"),
            std::string::npos)
      << refused.status();
}

TEST(InteropModelTest, RandomCorruptionNeverCrashes) {
  const std::vector<uint8_t> bytes = InteropBlob(2);
  std::mt19937 rng(5);
  const size_t body = bytes.size() - sizeof(ModelHeader);
  for (int trial = 0; trial < 3000; ++trial) {
    Blob blob(bytes);
    for (int k = 0; k < 3; ++k) {
      blob.data()[sizeof(ModelHeader) + rng() % body] =
          static_cast<uint8_t>(rng());
    }
    blob.Restamp();
    (void)blob.Load();
  }
}

}  // namespace
}  // namespace mcunas::engine
