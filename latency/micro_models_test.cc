#include "mcunas/latency/micro_models.h"

#include <random>
#include <unordered_set>

#include "gtest/gtest.h"
#include "mcunas/engine/host/model_writer.h"
#include "mcunas/latency/lut_builder.h"
#include "mcunas/searchspace/network.h"

namespace mcunas::latency {
namespace {

using searchspace::SearchSpace;

TEST(MicroModelsTest, CoverEverySignatureOfRandomArchitectures) {
  for (const char* name : {"fashion_mnist", "mcunet"}) {
    absl::StatusOr<SearchSpace> space = SearchSpace::Builtin(name);
    ASSERT_TRUE(space.ok());
    absl::StatusOr<std::vector<MicroModel>> models =
        CoveringMicroModels(*space);
    ASSERT_TRUE(models.ok()) << models.status();
    std::unordered_set<OpSignature, OpSignatureHash> covered;
    for (const MicroModel& m : *models) {
      ASSERT_EQ(m.signatures, SignaturesOf(m.net)) << m.name;
      covered.insert(m.signatures.begin(), m.signatures.end());
    }
    for (const searchspace::ArchSpec& arch : SampleArchs(*space, 300, 5)) {
      absl::StatusOr<searchspace::Network> net =
          searchspace::BuildNetwork(*space, arch);
      ASSERT_TRUE(net.ok());
      for (const OpSignature& s : SignaturesOf(*net)) {
        EXPECT_EQ(covered.count(s), 1u)
            << name << ": " << CanonicalString(arch) << " needs " << s.Key();
      }
    }
  }
}

TEST(MicroModelsTest, EachMicroModelAddsSomethingAndIsAWellFormedNetwork) {
  absl::StatusOr<SearchSpace> space = SearchSpace::Builtin("fashion_mnist");
  ASSERT_TRUE(space.ok());
  absl::StatusOr<SearchSpace> one = space->Restrict(28, 500);
  ASSERT_TRUE(one.ok());
  absl::StatusOr<std::vector<MicroModel>> models = CoveringMicroModels(*one);
  ASSERT_TRUE(models.ok());
  // At most: stem, tail, stage 0's one block, 9 first and 9 later blocks
  // for each of the five middle stages, 9 first blocks of the last stage.
  // Fewer in fact: a stride-1 stage's first block shares its expand and
  // depthwise convs with the previous stage's later blocks, so only the
  // k3 variants (which bring the new project convs) are kept.
  EXPECT_LE(models->size(), 1u + 1u + 1u + 5u * 18u + 9u);
  EXPECT_GE(models->size(), 5u * 9u);
  std::unordered_set<OpSignature, OpSignatureHash> seen;
  for (const MicroModel& m : *models) {
    bool adds = false;
    for (const OpSignature& s : m.signatures) adds |= seen.insert(s).second;
    EXPECT_TRUE(adds) << m.name;
    // Reads only activation 0 from outside; each op writes a new one.
    for (size_t i = 0; i < m.net.ops.size(); ++i) {
      EXPECT_EQ(m.net.ops[i].output, static_cast<int32_t>(i + 1)) << m.name;
      EXPECT_LE(m.net.ops[i].input, static_cast<int32_t>(i)) << m.name;
    }
    EXPECT_EQ(m.net.output, static_cast<int32_t>(m.net.ops.size()));
    // And it writes as a model.
    EXPECT_TRUE(engine::WriteModel(searchspace::BuildQuantGraph(m.net, 1)).ok())
        << m.name;
  }
}

TEST(MicroModelsTest, CutKeepsTheResidualInput) {
  absl::StatusOr<SearchSpace> space = SearchSpace::Builtin("fashion_mnist");
  ASSERT_TRUE(space.ok());
  absl::StatusOr<searchspace::ArchSpec> arch = space->Parse(
      "r28-w0.5:k3e1|k3e4,k5e6|k7e3,k3e3|k5e4,k5e4|k3e6,k7e6|k3e3,k3e3|k5e6");
  ASSERT_TRUE(arch.ok());
  absl::StatusOr<searchspace::Network> net =
      searchspace::BuildNetwork(*space, *arch);
  ASSERT_TRUE(net.ok());
  // Stem (op 0), stage 0's block (1, 2), stage 1's first block (3..5);
  // its second block: ops 6..9 (expand, depthwise, project, add).
  ASSERT_EQ(net->ops[9].type, engine::OpType::kAdd);
  const searchspace::Network cut = CutNetwork(*net, 6, 10);
  ASSERT_EQ(cut.ops.size(), 4u);
  EXPECT_EQ(cut.ops[0].input, 0);
  EXPECT_EQ(cut.ops[3].input, 0);  // the add reads the block input
  EXPECT_EQ(cut.ops[3].input2, 3);
  EXPECT_EQ(cut.activations[0].c, net->activations[net->ops[6].input].c);
  const std::vector<OpSignature> whole = SignaturesOf(*net);
  EXPECT_EQ(SignaturesOf(cut),
            std::vector<OpSignature>(whole.begin() + 6, whole.begin() + 10));
}

}  // namespace
}  // namespace mcunas::latency
