#include "mcunas/searchspace/search_space.h"

#include <fstream>
#include <map>

#include "gtest/gtest.h"
#include "rng.h"

namespace mcunas::searchspace {
namespace {

TEST(SearchSpaceTest, BuiltinSpacesLoad) {
  for (const std::string& name : SearchSpace::BuiltinNames()) {
    absl::StatusOr<SearchSpace> space = SearchSpace::Builtin(name);
    ASSERT_TRUE(space.ok()) << space.status();
    EXPECT_EQ(space->def().name, name);
  }
  absl::StatusOr<SearchSpace> fm = SearchSpace::Builtin("fashion_mnist");
  ASSERT_TRUE(fm.ok());
  EXPECT_EQ(fm->def().input_channels, 1);
  EXPECT_EQ(fm->def().resolutions.front(), 16);
  EXPECT_EQ(fm->def().resolutions.back(), 32);
  absl::StatusOr<SearchSpace> mcunet = SearchSpace::Builtin("mcunet");
  ASSERT_TRUE(mcunet.ok());
  EXPECT_EQ(mcunet->def().resolutions.front(), 96);
  EXPECT_EQ(mcunet->def().resolutions.back(), 160);
  EXPECT_FALSE(SearchSpace::Builtin("imagenet").ok());
}

TEST(SearchSpaceTest, ShippedFilesMatchTheBuiltins) {
  absl::StatusOr<SpaceDef> def = LoadSpaceFile(
      std::string(MCUNAS_SOURCE_DIR) + "/searchspace/spaces/mcunet.json");
  ASSERT_TRUE(def.ok()) << def.status();
  EXPECT_EQ(def->stages.size(), 7u);
  EXPECT_EQ(def->widths_milli.front(), 300);
}

TEST(SearchSpaceTest, JsonErrorsNameFileFieldAndValue) {
  const struct {
    const char* json;
    const char* message;
  } cases[] = {
      {"{", "x.json: not valid JSON"},
      {R"({"name": "t", "input_channels": 1, "classes": 10,
           "resolutions": [28], "widths": [0.5], "stem": {"channels": 8},
           "stages": [{"channels": 8, "depths": [2], "kernels": [3, -5],
                       "expands": [3]}]})",
       "x.json: stages[0].kernels[1]: expected an integer >= 1, got -5"},
      {R"({"name": "t", "input_channels": 1, "classes": 10,
           "resolutions": [28], "widths": [0.5], "stem": {"channels": 8},
           "stages": [{"channels": 8, "depths": [2], "kernels": [3]}]})",
       "x.json: stages[0].expands: missing"},
      {R"({"name": "t", "input_channels": 1, "classes": 10, "colour": 1})",
       "x.json: colour: unknown field"},
      {R"({"name": "t", "input_channels": 1, "classes": 10,
           "resolutions": [28], "widths": [0.5001]})",
       "x.json: widths[0]: expected a width in (0, 4] with at most 3 "
       "decimals, got 0.5001"},
      {R"({"name": "t", "input_channels": 1, "classes": 10,
           "resolutions": [32, 28], "widths": [0.5], "stem": {"channels": 8},
           "stages": [{"channels": 8, "depths": [2], "kernels": [3],
                       "expands": [3]}]})",
       "x.json: space 't': resolutions: must be ascending"},
  };
  for (const auto& c : cases) {
    absl::StatusOr<SpaceDef> def = ParseSpaceJson(c.json, "x.json");
    ASSERT_FALSE(def.ok()) << c.json;
    EXPECT_NE(def.status().message().find(c.message), std::string::npos)
        << def.status();
  }
  absl::StatusOr<SpaceDef> missing = LoadSpaceFile("/nonexistent/space.json");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("/nonexistent/space.json"),
            std::string::npos);
}

TEST(SearchSpaceTest, ValidateNamesTheBadChoice) {
  absl::StatusOr<SearchSpace> space = SearchSpace::Builtin("fashion_mnist");
  ASSERT_TRUE(space.ok());
  absl::StatusOr<ArchSpec> ok = space->Parse(
      "r28-w0.5:k3e1|k3e3,k5e4|k7e6,k3e3,k3e3|k3e3,k3e3|k3e3,k3e3,k3e3,k3e3|"
      "k3e3,k3e3|k3e3");
  EXPECT_TRUE(ok.ok()) << ok.status();
  absl::StatusOr<ArchSpec> bad = space->Parse(
      "r28-w0.5:k3e1|k3e3,k5e5|k7e6,k3e3|k3e3,k3e3|k3e3,k3e3|k3e3,k3e3|k3e3");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("stage 1 block 1: expand 5 not in "
                                        "{3,4,6}"),
            std::string::npos)
      << bad.status();
  bad = space->Parse("r30-w0.5:k3e1");
  EXPECT_NE(bad.status().message().find("resolution 30 not in "
                                        "{16,20,24,28,32}"),
            std::string::npos)
      << bad.status();
}

TEST(SearchSpaceTest, GenomeAndOneHotEncoding) {
  absl::StatusOr<SearchSpace> space = SearchSpace::Builtin("fashion_mnist");
  ASSERT_TRUE(space.ok());
  Rng rng(3);
  for (int i = 0; i < 200; ++i) {
    const ArchSpec arch = space->Decode(space->SampleGenome(rng));
    ASSERT_TRUE(space->Validate(arch).ok());
    EXPECT_EQ(space->Decode(space->EncodeGenome(arch)), arch);
    const std::vector<float> x = space->Encode(arch);
    ASSERT_EQ(x.size(), space->EncodingSize());
    // One for R, one for W, two per active block.
    size_t blocks = 0;
    for (const auto& stage : arch.stages) blocks += stage.size();
    float sum = 0;
    for (float v : x) sum += v;
    EXPECT_EQ(sum, 2.0f + 2.0f * blocks);
  }
}

TEST(SearchSpaceTest, SamplingIsUniformOverArchitectures) {
  // Depth d of a 9-blocks-per-slot stage with depths {2,3,4} must come up
  // with weights 1 : 9 : 81.
  absl::StatusOr<SearchSpace> space = SearchSpace::Builtin("fashion_mnist");
  ASSERT_TRUE(space.ok());
  Rng rng(5);
  std::map<size_t, int> depths;
  constexpr int kSamples = 9100;
  for (int i = 0; i < kSamples; ++i) {
    ++depths[space->Decode(space->SampleGenome(rng)).stages[1].size()];
  }
  EXPECT_NEAR(depths[2], kSamples / 91.0, 40);
  EXPECT_NEAR(depths[3], kSamples * 9 / 91.0, 120);
  EXPECT_NEAR(depths[4], kSamples * 81 / 91.0, 150);
}

TEST(SearchSpaceTest, RestrictFixesResolutionAndWidth) {
  absl::StatusOr<SearchSpace> space = SearchSpace::Builtin("mcunet");
  ASSERT_TRUE(space.ok());
  absl::StatusOr<SearchSpace> sub = space->Restrict(128, 600);
  ASSERT_TRUE(sub.ok());
  Rng rng(1);
  const ArchSpec arch = sub->Decode(sub->SampleGenome(rng));
  EXPECT_EQ(arch.resolution, 128);
  EXPECT_EQ(arch.width_milli, 600);
  EXPECT_FALSE(space->Restrict(100, 600).ok());
  EXPECT_EQ(space->ScaledChannels(32, 300), 16);  // 9.6 -> 8 < 90%: 16
  EXPECT_EQ(space->ScaledChannels(24, 500), 16);  // 12 -> 16
  EXPECT_EQ(space->ScaledChannels(320, 1000), 320);
}

}  // namespace
}  // namespace mcunas::searchspace
