#include "mcunas/engine/host/model_writer.h"

#include <cmath>

#include "gtest/gtest.h"
#include "mcunas/engine/host/model_file.h"
#include "mcunas/engine/host/model_metrics.h"
#include "test_graphs.h"

namespace mcunas::engine {
namespace {

TEST(QuantizeMultiplierTest, MatchesTfliteConvention) {
  int32_t m, s;
  QuantizeMultiplier(0.5, &m, &s);
  EXPECT_EQ(m, 1 << 30);
  EXPECT_EQ(s, 0);
  QuantizeMultiplier(1.0, &m, &s);
  EXPECT_EQ(m, 1 << 30);
  EXPECT_EQ(s, 1);
  QuantizeMultiplier(0.75 / 1024, &m, &s);
  EXPECT_EQ(m, 3 << 29);
  EXPECT_EQ(s, -10);
  QuantizeMultiplier(0.0, &m, &s);
  EXPECT_EQ(m, 0);
  EXPECT_EQ(s, 0);
  // Rounds up to exactly 2^31: renormalised, as TFLite does.
  QuantizeMultiplier(std::nextafter(1.0, 0.0), &m, &s);
  EXPECT_EQ(m, 1 << 30);
  EXPECT_EQ(s, 1);
  // Below 2^-32: flushed to zero.
  QuantizeMultiplier(1e-12, &m, &s);
  EXPECT_EQ(m, 0);
  EXPECT_EQ(s, 0);
}

TEST(ActivationRangeTest, Relu6ClampsAtZeroAndSix) {
  int8_t lo, hi;
  ActivationRange(Activation::kRelu6, 6.0f / 255.0f, -128, &lo, &hi);
  EXPECT_EQ(lo, -128);
  EXPECT_EQ(hi, 127);
  ActivationRange(Activation::kRelu6, 0.1f, -10, &lo, &hi);
  EXPECT_EQ(lo, -10);
  EXPECT_EQ(hi, 50);
  ActivationRange(Activation::kRelu, 0.1f, 5, &lo, &hi);
  EXPECT_EQ(lo, 5);
  EXPECT_EQ(hi, 127);
  ActivationRange(Activation::kNone, 0.1f, 5, &lo, &hi);
  EXPECT_EQ(lo, -128);
  EXPECT_EQ(hi, 127);
}

TEST(WriteModelTest, RejectsInconsistentGraphsNamingTheOp) {
  const QuantGraph good = testing::TinyMbv2Graph(1);
  {
    QuantGraph g = good;
    g.ops[3].inputs[0] = 999;
    auto blob = WriteModel(g);
    ASSERT_FALSE(blob.ok());
    EXPECT_NE(blob.status().message().find("op 3"), std::string::npos)
        << blob.status();
  }
  {
    QuantGraph g = good;
    g.tensors[g.ops[1].inputs[1]].channel_scales.resize(2);
    auto blob = WriteModel(g);
    ASSERT_FALSE(blob.ok());
    EXPECT_NE(blob.status().message().find("channel scales"),
              std::string::npos)
        << blob.status();
  }
  {
    QuantGraph g = good;
    g.tensors[g.ops[2].output].scale = 0.0f;
    EXPECT_FALSE(WriteModel(g).ok());
  }
  {
    QuantGraph g = good;
    g.tensors[g.ops[0].inputs[1]].int8_data.pop_back();
    EXPECT_FALSE(WriteModel(g).ok());
  }
  {
    QuantGraph g = good;
    std::swap(g.ops[1], g.ops[2]);  // reads a tensor before it is written
    EXPECT_FALSE(WriteModel(g).ok());
  }
  {
    QuantGraph g = good;
    g.ops.clear();
    EXPECT_FALSE(WriteModel(g).ok());
  }
  {
    // An output nothing writes: the loader would reject the blob.
    QuantGraph g = good;
    g.outputs = {g.ops[2].inputs[0]};
    g.ops.resize(1);
    auto blob = WriteModel(g);
    ASSERT_FALSE(blob.ok());
    EXPECT_NE(blob.status().message().find("is never written by an op"),
              std::string::npos)
        << blob.status();
  }
}

TEST(WriteModelTest, DepthwiseRunsInPlaceAndSavesArena) {
  const QuantGraph graph = testing::TinyMbv2Graph(4);
  auto in_place = WriteModel(graph);
  WriteOptions no_in_place;
  no_in_place.in_place_depthwise = false;
  auto separate = WriteModel(graph, no_in_place);
  ASSERT_TRUE(in_place.ok() && separate.ok());
  auto a = LoadedModel::FromBytes(*in_place);
  auto b = LoadedModel::FromBytes(*separate);
  ASSERT_TRUE(a.ok() && b.ok());
  int in_place_ops = 0;
  for (uint16_t i = 0; i < (*a)->model().op_count(); ++i) {
    if ((*a)->model().op(i).flags & kOpFlagInPlace) ++in_place_ops;
  }
  EXPECT_EQ(in_place_ops, 2);
  EXPECT_LE((*a)->model().arena_bytes(), (*b)->model().arena_bytes());
}

TEST(ModelMetricsTest, CountsMacsParamsAndMemory) {
  testing::TinyGraphOptions o;
  o.resolution = 12;
  o.in_channels = 3;
  o.width = 8;
  o.expand = 3;
  o.kernel = 3;
  o.classes = 5;
  auto blob = WriteModel(testing::TinyMbv2Graph(1, o));
  ASSERT_TRUE(blob.ok());
  auto loaded = LoadedModel::FromBytes(*blob);
  ASSERT_TRUE(loaded.ok());
  const EngineMetrics m = ComputeMetrics((*loaded)->model());
  // stem 6x6x8 k3 cin3; b1 expand 6x6x24 cin8, dw 6x6x24 k3, project
  // 6x6x8 cin24; b2 expand 6x6x24 cin8, dw s2 3x3x24 k3, project 3x3x11
  // cin24; fc 11 -> 5.
  const uint64_t macs = 36 * 8 * 27 + 36 * 24 * 8 + 36 * 24 * 9 +
                        36 * 8 * 24 + 36 * 24 * 8 + 9 * 24 * 9 +
                        9 * 11 * 24 + 11 * 5;
  EXPECT_EQ(m.macs, macs);
  const uint64_t params = (8 * 27 + 8) + (24 * 8 + 24) + (9 * 24 + 24) +
                          (8 * 24 + 8) + (24 * 8 + 24) + (9 * 24 + 24) +
                          (11 * 24 + 11) + (5 * 11 + 5);
  EXPECT_EQ(m.params, params);
  EXPECT_LE(m.sram_lower_bound, m.peak_sram_bytes);
  EXPECT_GT(m.sram_lower_bound, 0u);
  EXPECT_EQ(m.flash_bytes, blob->size());
  EXPECT_GE(m.weight_bytes, params);
}

}  // namespace
}  // namespace mcunas::engine
