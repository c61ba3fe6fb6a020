// Exporter tests: import(export(m)) runs byte-identical to m, the file
// verifies and reads with flatc, and GraphFromModel inverts WriteModel.
#include "mcunas/tflite/tflite_export.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mcunas/engine/host/graph_from_model.h"
#include "mcunas/engine/host/model_file.h"
#include "mcunas/engine/host/model_writer.h"
#include "mcunas/engine/kernels.h"
#include "mcunas/tflite/tflite_import.h"
#include "test_graphs.h"
#include "tflite/schema/tflite_subset_generated.h"
#include "tflite/testing/run_model.h"

namespace mcunas::tflite {
namespace {

using ::testing::HasSubstr;
using testing::RunModel;

std::vector<engine::QuantGraph> Graphs() {
  std::vector<engine::QuantGraph> graphs;
  for (uint32_t seed = 1; seed <= 4; ++seed) {
    engine::testing::TinyGraphOptions o;
    o.resolution = 9 + 3 * static_cast<int32_t>(seed);
    o.kernel = 3 + 2 * static_cast<int32_t>(seed % 3);
    o.width = 3 + static_cast<int32_t>(seed);
    graphs.push_back(engine::testing::TinyMbv2Graph(seed, o));
  }
  graphs.push_back(engine::testing::InteropGraph(1));
  graphs.push_back(engine::testing::InteropGraph(2));
  return graphs;
}

TEST(TfliteExportTest, ImportOfExportRunsByteForByteTheSame) {
  for (const engine::QuantGraph& graph : Graphs()) {
    auto blob = engine::WriteModel(graph);
    ASSERT_TRUE(blob.ok()) << blob.status();
    auto exported = ExportTflite(graph);
    ASSERT_TRUE(exported.ok()) << exported.status();
    flatbuffers::Verifier verifier(exported->data(), exported->size());
    EXPECT_TRUE(fb::VerifyModelBuffer(verifier));
    auto imported = ImportTflite(exported->data(), exported->size());
    ASSERT_TRUE(imported.ok()) << imported.status();
    EXPECT_EQ(imported->graph.ops.size(), graph.ops.size());
    for (uint32_t seed = 1; seed <= 3; ++seed) {
      const std::vector<int8_t> input =
          engine::testing::RandomInput(graph, seed);
      for (const engine::KernelSet* k :
           {&engine::ReferenceKernels(), &engine::OptimizedKernels()}) {
        EXPECT_EQ(RunModel(imported->blob, input, *k),
                  RunModel(*blob, input, *k));
      }
    }
  }
}

TEST(TfliteExportTest, ExportIsDeterministicAndFromBlobMatchesFromGraph) {
  const engine::QuantGraph graph = engine::testing::InteropGraph(3);
  auto a = ExportTflite(graph);
  auto b = ExportTflite(graph);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
  auto blob = engine::WriteModel(graph);
  ASSERT_TRUE(blob.ok());
  auto loaded = engine::LoadedModel::FromBytes(*blob);
  ASSERT_TRUE(loaded.ok());
  auto from_blob = ExportTflite((*loaded)->model());
  ASSERT_TRUE(from_blob.ok()) << from_blob.status();
  auto imported = ImportTflite(from_blob->data(), from_blob->size());
  ASSERT_TRUE(imported.ok()) << imported.status();
  const std::vector<int8_t> input = engine::testing::RandomInput(graph, 9);
  EXPECT_EQ(RunModel(imported->blob, input, engine::ReferenceKernels()),
            RunModel(*blob, input, engine::ReferenceKernels()));
}

TEST(TfliteExportTest, PaddingThatIsNeitherSameNorValidBecomesAPad) {
  engine::QuantGraph graph = engine::testing::TinyMbv2Graph(5);
  // The stem is 3x3 stride 2 on 12x12: SAME pads 0 before and 1 after.
  // Pad 1 on both sides instead (the output size stays 6).
  engine::QuantOp& stem = graph.ops[0];
  ASSERT_EQ(stem.kernel_h, 3);
  stem.pad_top = stem.pad_left = 1;
  stem.pad_bottom = stem.pad_right = 1;
  auto blob = engine::WriteModel(graph);
  ASSERT_TRUE(blob.ok()) << blob.status();
  auto exported = ExportTflite(graph);
  ASSERT_TRUE(exported.ok()) << exported.status();
  auto imported = ImportTflite(exported->data(), exported->size());
  ASSERT_TRUE(imported.ok()) << imported.status();
  ASSERT_EQ(imported->ops[0].name, "PAD");
  EXPECT_EQ(imported->ops[0].fate, OpFate::kFolded);
  const std::vector<int8_t> input = engine::testing::RandomInput(graph, 4);
  EXPECT_EQ(RunModel(imported->blob, input, engine::ReferenceKernels()),
            RunModel(*blob, input, engine::ReferenceKernels()));
}

TEST(TfliteExportTest, PoolPaddingTfliteCannotExpressIsAnError) {
  // The global pool is 3x3 over 3x3; stride 3 with one pixel of padding on
  // every side still gives 1x1, but TFLite has no padding like it (SAME is
  // none here, and a PAD would count in the average).
  engine::QuantGraph graph = engine::testing::TinyMbv2Graph(6);
  for (engine::QuantOp& op : graph.ops) {
    if (op.type == engine::OpType::kAveragePool2D) {
      ASSERT_EQ(op.kernel_h, 3);
      op.stride_h = op.stride_w = 3;
      op.pad_top = op.pad_left = op.pad_bottom = op.pad_right = 1;
    }
  }
  ASSERT_TRUE(engine::WriteModel(graph).ok());
  const auto exported = ExportTflite(graph);
  ASSERT_FALSE(exported.ok());
  EXPECT_EQ(exported.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(exported.status().message(),
              HasSubstr("neither SAME nor VALID"));
}

// flatc reads the file with our schema: an independent check that the bytes
// are a well-formed .tflite with the tables and ids the schema declares.
TEST(TfliteExportTest, FlatcReadsTheExport) {
  if (std::system("flatc --version > /dev/null 2>&1") != 0) {
    GTEST_SKIP() << "flatc not installed";
  }
  auto exported = ExportTflite(engine::testing::InteropGraph(4));
  ASSERT_TRUE(exported.ok());
  const std::string dir = ::testing::TempDir() + "mcunas_flatc";
  ASSERT_EQ(std::system(("mkdir -p " + dir).c_str()), 0);
  {
    std::ofstream out(dir + "/model.tflite", std::ios::binary);
    out.write(reinterpret_cast<const char*>(exported->data()),
              static_cast<std::streamsize>(exported->size()));
  }
  const std::string command =
      "flatc --json --raw-binary --strict-json -o " + dir + " " +
      MCUNAS_SOURCE_DIR + "/tflite/schema/tflite_subset.fbs -- " + dir +
      "/model.tflite";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  std::ifstream json(dir + "/model.json");
  const std::string text((std::istreambuf_iterator<char>(json)),
                         std::istreambuf_iterator<char>());
  EXPECT_THAT(text, HasSubstr("\"version\": 3"));
  for (const char* op : {"CONV_2D", "DEPTHWISE_CONV_2D", "PAD", "TRANSPOSE",
                         "QUANTIZE", "MEAN", "RESHAPE", "FULLY_CONNECTED",
                         "SOFTMAX"}) {
    EXPECT_THAT(text, HasSubstr(std::string("\"builtin_code\": \"") + op))
        << op;
  }
  EXPECT_THAT(text, HasSubstr("\"quantized_dimension\": 3"));
}

TEST(GraphFromModelTest, WritingTheRecoveredGraphGivesTheSameBlob) {
  for (const engine::QuantGraph& graph : Graphs()) {
    for (const bool linear : {false, true}) {
      engine::WriteOptions options;
      if (linear) {
        options.planner = engine::PlannerKind::kLinear;
        options.in_place_depthwise = false;
      }
      auto blob = engine::WriteModel(graph, options);
      ASSERT_TRUE(blob.ok());
      auto loaded = engine::LoadedModel::FromBytes(*blob);
      ASSERT_TRUE(loaded.ok());
      auto recovered = engine::GraphFromModel((*loaded)->model());
      ASSERT_TRUE(recovered.ok()) << recovered.status();
      auto again = engine::WriteModel(*recovered, options);
      ASSERT_TRUE(again.ok()) << again.status();
      EXPECT_EQ(*again, *blob);
    }
  }
}

TEST(GraphFromModelTest, RejectsAMultiplierNoFloatScaleGives) {
  auto blob = engine::WriteModel(engine::testing::TinyMbv2Graph(2));
  ASSERT_TRUE(blob.ok());
  // Nudge op 0's first multiplier by one: adjacent float scales move it by
  // ~2^7, so no scale reproduces it.
  engine::ModelHeader header;
  std::memcpy(&header, blob->data(), sizeof(header));
  engine::OpRecord op;
  std::memcpy(&op, blob->data() + header.op_table_offset, sizeof(op));
  int32_t* multiplier = reinterpret_cast<int32_t*>(
      blob->data() + header.data_offset + op.params_offset);
  *multiplier += 1;
  header.crc32 = engine::Crc32(blob->data() + sizeof(header),
                               header.total_bytes - sizeof(header));
  std::memcpy(blob->data(), &header, sizeof(header));
  auto loaded = engine::LoadedModel::FromBytes(*blob);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const auto recovered = engine::GraphFromModel((*loaded)->model());
  ASSERT_FALSE(recovered.ok());
  EXPECT_THAT(recovered.status().message(),
              HasSubstr("op 0: no float weight scale gives channel 0"));
}

}  // namespace
}  // namespace mcunas::tflite
