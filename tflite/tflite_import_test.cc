// Importer tests: supported ops run as the engine's unplanned oracle says,
// PAD folding and edge (de)quantisation, and every way a file can be
// unsupported or malformed gets one clear error.
#include "mcunas/tflite/tflite_import.h"

#include <cstring>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mcunas/engine/host/model_file.h"
#include "mcunas/engine/kernels.h"
#include "mcunas/tflite/tflite_export.h"
#include "test_graphs.h"
#include "tflite/testing/run_model.h"
#include "tflite/testing/tflite_builder.h"

namespace mcunas::tflite {
namespace {

using ::testing::HasSubstr;
using testing::TfliteBuilder;
using Op = fb::BuiltinOperator;
using Act = fb::ActivationFunctionType;

// The first output, which is all these tests compare.
std::vector<int8_t> RunBlob(const std::vector<uint8_t>& blob,
                            const std::vector<int8_t>& input,
                            const engine::KernelSet& kernels) {
  std::vector<std::vector<int8_t>> outputs =
      testing::RunModel(blob, input, kernels);
  return outputs.empty() ? std::vector<int8_t>{} : std::move(outputs[0]);
}

std::vector<int8_t> RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int8_t> v(n);
  for (int8_t& b : v) b = static_cast<int8_t>(rng() & 0xFF);
  return v;
}

absl::StatusOr<ImportedModel> Import(const std::vector<uint8_t>& bytes) {
  return ImportTflite(bytes.data(), bytes.size());
}

auto ConvOptions(fb::Padding padding, int stride, Act act = Act::NONE,
                 int dilation = 1) {
  return [=](flatbuffers::FlatBufferBuilder& fbb) {
    return fb::CreateConv2DOptions(fbb, padding, stride, stride, act, dilation,
                                   dilation)
        .Union();
  };
}

// input {1,8,8,2} -> CONV_2D 3x3 (4 channels, per-channel) -> output.
struct ConvModel {
  TfliteBuilder b;
  int32_t x, w, bias, y;
  explicit ConvModel(int32_t out_h = 8, int32_t in_h = 8) {
    x = b.Activation({1, in_h, in_h, 2}, 0.05f, -3, "x");
    w = b.Weights({4, 3, 3, 2}, std::vector<int8_t>(72, 9),
                  {0.01f, 0.02f, 0.03f, 0.04f}, 0);
    bias = b.Int32({4}, {10, -20, 30, -40});
    y = b.Activation({1, out_h, out_h, 4}, 0.1f, 7, "y");
  }
};

TEST(TfliteImportTest, RejectsBytesThatAreNotTflite) {
  for (const std::vector<uint8_t>& bytes :
       {std::vector<uint8_t>{}, std::vector<uint8_t>(4, 0),
        std::vector<uint8_t>(100, 0x5A)}) {
    const auto m = Import(bytes);
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(m.status().message(), HasSubstr("not a TFLite model"));
  }
  // Right identifier, nothing valid behind it.
  std::vector<uint8_t> fake(64, 0xFF);
  std::memcpy(fake.data() + 4, "TFL3", 4);
  const auto m = Import(fake);
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(m.status().message(), HasSubstr("does not verify"));
}

TEST(TfliteImportTest, EveryTruncationAndCorruptionIsAnErrorNotACrash) {
  auto exported = ExportTflite(engine::testing::TinyMbv2Graph(3));
  ASSERT_TRUE(exported.ok()) << exported.status();
  ASSERT_TRUE(Import(*exported).ok());
  for (size_t n = 0; n < exported->size(); n += 7) {
    std::vector<uint8_t> cut(exported->begin(), exported->begin() + n);
    EXPECT_FALSE(Import(cut).ok()) << n;
  }
  std::mt19937 rng(42);
  for (int trial = 0; trial < 1500; ++trial) {
    std::vector<uint8_t> bytes = *exported;
    for (int k = 0; k < 4; ++k) bytes[8 + rng() % (bytes.size() - 8)] = rng();
    (void)Import(bytes);  // ok or an error; ASan builds check the reads
  }
}

TEST(TfliteImportTest, ListsEveryUnsupportedOpAtOnce) {
  ConvModel m;
  const int32_t s = m.b.Activation({1, 8, 8, 4}, 1.0f / 256, -128, "sigmoid");
  const int32_t p = m.b.Activation({1, 4, 4, 4}, 1.0f / 256, -128, "pooled");
  m.b.Op(Op::CONV_2D, {m.x, m.w, m.bias}, {m.y},
         fb::BuiltinOptions::Conv2DOptions, ConvOptions(fb::Padding::SAME, 1));
  m.b.Op(Op::LOGISTIC, {m.y}, {s});
  m.b.Op(Op::MAX_POOL_2D, {s}, {p});
  const auto imported = Import(m.b.Build({m.x}, {p}));
  ASSERT_FALSE(imported.ok());
  EXPECT_EQ(imported.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(imported.status().message(),
              HasSubstr("unsupported: op 1 LOGISTIC 'sigmoid', op 2 "
                        "MAX_POOL_2D 'pooled'"));
}

TEST(TfliteImportTest, NamesUnsupportedTypesAndOptions) {
  {
    ConvModel m;
    m.b.Op(Op::CONV_2D, {m.x, m.w, m.bias}, {m.y},
           fb::BuiltinOptions::Conv2DOptions,
           ConvOptions(fb::Padding::SAME, 1, Act::NONE, 2));
    const auto r = Import(m.b.Build({m.x}, {m.y}));
    ASSERT_FALSE(r.ok());
    EXPECT_THAT(r.status().message(), HasSubstr("op 0 CONV_2D 'y' (dilation 2x2)"));
  }
  {
    ConvModel m;
    m.b.Op(Op::CONV_2D, {m.x, m.w, m.bias}, {m.y},
           fb::BuiltinOptions::Conv2DOptions,
           ConvOptions(fb::Padding::SAME, 1, Act::RELU_N1_TO_1));
    const auto r = Import(m.b.Build({m.x}, {m.y}));
    ASSERT_FALSE(r.ok());
    EXPECT_THAT(r.status().message(), HasSubstr("fused activation RELU_N1_TO_1"));
  }
  {
    TfliteBuilder b;
    const int32_t x = b.Float({1, 4, 4, 2});
    const int32_t w = b.Raw({2, 1, 1, 2}, fb::TensorType::FLOAT32,
                            std::vector<uint8_t>(16, 0), {}, {});
    const int32_t y = b.Float({1, 4, 4, 2});
    b.Op(Op::CONV_2D, {x, w}, {y}, fb::BuiltinOptions::Conv2DOptions,
         ConvOptions(fb::Padding::SAME, 1));
    const auto r = Import(b.Build({x}, {y}));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kUnimplemented);
    EXPECT_THAT(r.status().message(), HasSubstr("FLOAT32"));
  }
}

TEST(TfliteImportTest, NamesMalformedIndicesEnumsAndBuffers) {
  const auto expect_invalid = [](TfliteBuilder& b, std::vector<int32_t> in,
                                 std::vector<int32_t> out,
                                 const std::string& what) {
    const auto r = Import(b.Build(in, out));
    ASSERT_FALSE(r.ok()) << what;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << what;
    EXPECT_THAT(r.status().message(), HasSubstr(what));
  };
  {
    ConvModel m;
    m.b.Op(Op::CONV_2D, {m.x, 99, m.bias}, {m.y},
           fb::BuiltinOptions::Conv2DOptions, ConvOptions(fb::Padding::SAME, 1));
    expect_invalid(m.b, {m.x}, {m.y}, "op 0 CONV_2D 'y': input 1 is tensor 99");
  }
  {
    ConvModel m;
    m.b.Op(Op::CONV_2D, {m.x, m.w, m.bias}, {m.y},
           fb::BuiltinOptions::Conv2DOptions,
           ConvOptions(static_cast<fb::Padding>(7), 1));
    expect_invalid(m.b, {m.x}, {m.y}, "padding enum 7");
  }
  {
    ConvModel m;
    m.b.Op(Op::CONV_2D, {m.x, m.w, m.bias}, {m.y},
           fb::BuiltinOptions::Conv2DOptions,
           ConvOptions(fb::Padding::SAME, 1, static_cast<Act>(9)));
    expect_invalid(m.b, {m.x}, {m.y}, "fused activation enum 9");
  }
  {
    ConvModel m;
    const int32_t bad = m.b.Raw({4}, static_cast<fb::TensorType>(42),
                                std::vector<uint8_t>(4, 1), {}, {});
    m.b.Op(Op::CONV_2D, {m.x, m.w, bad}, {m.y},
           fb::BuiltinOptions::Conv2DOptions, ConvOptions(fb::Padding::SAME, 1));
    expect_invalid(m.b, {m.x}, {m.y}, "unknown type 42");
  }
  {
    ConvModel m;
    const int32_t short_bias = m.b.Raw({4}, fb::TensorType::INT32,
                                       std::vector<uint8_t>(12, 1), {}, {});
    m.b.Op(Op::CONV_2D, {m.x, m.w, short_bias}, {m.y},
           fb::BuiltinOptions::Conv2DOptions, ConvOptions(fb::Padding::SAME, 1));
    expect_invalid(m.b, {m.x}, {m.y}, "holds 12 bytes, shape needs 16");
  }
  {
    ConvModel m;  // the options say conv, the code says depthwise
    m.b.Op(Op::DEPTHWISE_CONV_2D, {m.x, m.w, m.bias}, {m.y},
           fb::BuiltinOptions::Conv2DOptions, ConvOptions(fb::Padding::SAME, 1));
    expect_invalid(m.b, {m.x}, {m.y}, "missing DepthwiseConv2DOptions");
  }
  {
    ConvModel m(/*out_h=*/5);
    m.b.Op(Op::CONV_2D, {m.x, m.w, m.bias}, {m.y},
           fb::BuiltinOptions::Conv2DOptions, ConvOptions(fb::Padding::SAME, 1));
    expect_invalid(m.b, {m.x}, {m.y}, "does not follow from input");
  }
  {
    ConvModel m;
    const int32_t orphan = m.b.Activation({1, 8, 8, 2}, 0.05f, -3, "orphan");
    m.b.Op(Op::CONV_2D, {orphan, m.w, m.bias}, {m.y},
           fb::BuiltinOptions::Conv2DOptions, ConvOptions(fb::Padding::SAME, 1));
    expect_invalid(m.b, {m.x}, {m.y}, "before any op writes it");
  }
}

TEST(TfliteImportTest, RejectsAModelOutputNothingWrites) {
  // The fuzzer's first find: such a model once imported into a blob the
  // loader rejects (tflite/fuzz/regressions/tflite-output-never-written).
  TfliteBuilder b;
  const int32_t x = b.Activation({1, 4}, 0.1f, 0, "x");
  const int32_t y = b.Activation({1, 4}, 0.1f, 0, "y");
  const int32_t z = b.Activation({1, 4}, 0.1f, 0, "z");
  b.Op(Op::RESHAPE, {x}, {y});
  const auto r = Import(b.Build({x}, {z}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(),
              HasSubstr("model output tensor 2 'z' is never written by an op"));
}

TEST(TfliteImportTest, RejectsHugeShapes) {
  {
    TfliteBuilder b;
    const int32_t x = b.Activation({1, 100000, 1, 1}, 0.1f, 0);
    const int32_t y = b.Activation({1, 100000}, 0.1f, 0);
    b.Op(Op::RESHAPE, {x}, {y});
    const auto r = Import(b.Build({x}, {y}));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kUnimplemented);
    EXPECT_THAT(r.status().message(), HasSubstr("dimension 100000 (at most 65535)"));
  }
  for (const std::vector<int32_t>& shape :
       {std::vector<int32_t>{1, 1 << 25, 1, 1},
        std::vector<int32_t>{1, 1 << 20, 1 << 20, 1},
        std::vector<int32_t>{1, -1, 4, 4}, std::vector<int32_t>{1, 0, 4, 4}}) {
    TfliteBuilder b;
    const int32_t x = b.Activation(shape, 0.1f, 0);
    const int32_t y = b.Activation({1, 16}, 0.1f, 0);
    b.Op(Op::RESHAPE, {x}, {y});
    const auto r = Import(b.Build({x}, {y}));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument)
        << r.status();
  }
}

TEST(TfliteImportTest, DropsFloatQuantizeAndDequantizeAtTheEdges) {
  ConvModel m;
  const int32_t in = m.b.Float({1, 8, 8, 2}, "float_in");
  const int32_t out = m.b.Float({1, 8, 8, 4}, "float_out");
  m.b.Op(Op::QUANTIZE, {in}, {m.x});
  m.b.Op(Op::CONV_2D, {m.x, m.w, m.bias}, {m.y},
         fb::BuiltinOptions::Conv2DOptions, ConvOptions(fb::Padding::SAME, 1));
  m.b.Op(Op::DEQUANTIZE, {m.y}, {out});
  const auto r = Import(m.b.Build({in}, {out}));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->ops.size(), 3u);
  EXPECT_EQ(r->ops[0].fate, OpFate::kDropped);
  EXPECT_EQ(r->ops[1].fate, OpFate::kImported);
  EXPECT_EQ(r->ops[2].fate, OpFate::kDropped);
  EXPECT_THAT(r->ops[0].note, HasSubstr("scale 0.05, zero point -3"));
  ASSERT_EQ(r->graph.ops.size(), 1u);
  EXPECT_EQ(r->graph.tensors[r->graph.inputs[0]].name, "x");
  EXPECT_EQ(r->graph.tensors[r->graph.outputs[0]].name, "y");
}

// PAD(top 1, bottom 1, left 1, right 1) + VALID 3x3 conv == SAME 3x3 conv.
TEST(TfliteImportTest, FoldsPadIntoTheConvolution) {
  ConvModel same;
  same.b.Op(Op::CONV_2D, {same.x, same.w, same.bias}, {same.y},
            fb::BuiltinOptions::Conv2DOptions, ConvOptions(fb::Padding::SAME, 1));
  const auto want = Import(same.b.Build({same.x}, {same.y}));
  ASSERT_TRUE(want.ok()) << want.status();

  ConvModel padded;
  const int32_t p = padded.b.Activation({1, 10, 10, 2}, 0.05f, -3, "padded");
  const int32_t paddings = padded.b.Int32({4, 2}, {0, 0, 1, 1, 1, 1, 0, 0});
  padded.b.Op(Op::PAD, {padded.x, paddings}, {p});
  padded.b.Op(Op::CONV_2D, {p, padded.w, padded.bias}, {padded.y},
              fb::BuiltinOptions::Conv2DOptions,
              ConvOptions(fb::Padding::VALID, 1));
  const auto got = Import(padded.b.Build({padded.x}, {padded.y}));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->ops[0].fate, OpFate::kFolded);
  EXPECT_THAT(got->ops[0].note, HasSubstr("op 1 CONV_2D"));
  ASSERT_EQ(got->graph.ops.size(), 1u);
  EXPECT_EQ(got->graph.ops[0].pad_top, 1);
  for (uint32_t seed = 1; seed <= 3; ++seed) {
    const std::vector<int8_t> input = RandomBytes(128, seed);
    EXPECT_EQ(RunBlob(got->blob, input, engine::ReferenceKernels()),
              RunBlob(want->blob, input, engine::ReferenceKernels()));
  }
}

// Padding of 3 around a 3x3 window cannot be implicit: PAD runs as an op,
// and the result is what padding by hand gives.
TEST(TfliteImportTest, MaterialisesAPadThatCannotFold) {
  ConvModel m(/*out_h=*/12);
  const int32_t p = m.b.Activation({1, 14, 14, 2}, 0.05f, -3, "padded");
  const int32_t paddings = m.b.Int32({4, 2}, {0, 0, 3, 3, 3, 3, 0, 0});
  m.b.Op(Op::PAD, {m.x, paddings}, {p});
  m.b.Op(Op::CONV_2D, {p, m.w, m.bias}, {m.y},
         fb::BuiltinOptions::Conv2DOptions, ConvOptions(fb::Padding::VALID, 1));
  const auto r = Import(m.b.Build({m.x}, {m.y}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->ops[0].fate, OpFate::kImported);
  ASSERT_EQ(r->graph.ops.size(), 2u);
  EXPECT_EQ(r->graph.ops[0].type, engine::OpType::kPad);
  const std::vector<int8_t> input = RandomBytes(128, 5);
  const auto values = engine::testing::EvaluateGraph(
      r->graph, engine::ReferenceKernels(), input);
  const std::vector<int8_t>& padded = values[r->graph.ops[0].output];
  ASSERT_EQ(padded.size(), 14u * 14 * 2);
  EXPECT_EQ(padded[0], -3);                            // border: zero point
  EXPECT_EQ(padded[(3 * 14 + 3) * 2 + 1], input[1]);   // first input pixel
  EXPECT_EQ(RunBlob(r->blob, input, engine::ReferenceKernels()),
            values[r->graph.outputs[0]]);
}

TEST(TfliteImportTest, InteropOpsRunAsTheOracleSays) {
  const engine::QuantGraph graph = engine::testing::InteropGraph(7);
  auto exported = ExportTflite(graph);
  ASSERT_TRUE(exported.ok()) << exported.status();
  const auto r = Import(*exported);
  ASSERT_TRUE(r.ok()) << r.status();
  for (uint32_t seed = 1; seed <= 4; ++seed) {
    const std::vector<int8_t> input = engine::testing::RandomInput(graph, seed);
    const auto values = engine::testing::EvaluateGraph(
        r->graph, engine::ReferenceKernels(), input);
    for (const engine::KernelSet* k :
         {&engine::ReferenceKernels(), &engine::OptimizedKernels()}) {
      EXPECT_EQ(RunBlob(r->blob, input, *k), values[r->graph.outputs[0]]);
    }
  }
}

TEST(TfliteImportTest, WriterErrorsNameTheTfliteOp) {
  // ADD whose output scale is too small for TFLite's fixed-point add.
  TfliteBuilder b;
  const int32_t x = b.Activation({1, 4}, 1.0f, 0);
  const int32_t y = b.Activation({1, 4}, 1.0f, 0);
  const int32_t z = b.Activation({1, 4}, 1e-7f, 0);
  b.Op(Op::RESHAPE, {x}, {y});
  b.Op(Op::ADD, {x, y}, {z});
  const auto r = Import(b.Build({x}, {z}));
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("is TFLite op 1 ADD"));
}

}  // namespace
}  // namespace mcunas::tflite
