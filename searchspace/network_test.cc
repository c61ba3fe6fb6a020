#include "mcunas/searchspace/network.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "mcunas/engine/host/model_file.h"
#include "mcunas/engine/host/model_metrics.h"
#include "rng.h"

namespace mcunas::searchspace {
namespace {

SearchSpace Builtin(const char* name) {
  absl::StatusOr<SearchSpace> space = SearchSpace::Builtin(name);
  EXPECT_TRUE(space.ok()) << space.status();
  return *std::move(space);
}

// The metrics `mcunas-model info` prints for `path`, by line label.
std::map<std::string, uint64_t> RunModelInfo(const std::string& path) {
  std::map<std::string, uint64_t> values;
  const std::string command = absl::StrCat(MCUNAS_MODEL_TOOL, " info ", path);
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return values;
  std::string out;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0)
    out.append(buffer, n);
  EXPECT_EQ(pclose(pipe), 0) << out;
  const std::pair<const char*, const char*> labels[] = {
      {"params", "params "},       {"macs", "MACs "},
      {"peak_sram", "peak SRAM "}, {"lower_bound", "SRAM lower bound "},
      {"flash", "flash "},         {"weights", "  weights "},
      {"op_data", "  op data "}};
  for (absl::string_view line : absl::StrSplit(out, '\n')) {
    for (const auto& [key, label] : labels) {
      if (!absl::StartsWith(line, label)) continue;
      // "<label>   <number> ..." (bytes are "<n> B (x KiB)").
      std::vector<absl::string_view> words =
          absl::StrSplit(line.substr(strlen(label)), ' ', absl::SkipEmpty());
      uint64_t v = 0;
      if (!words.empty() && absl::SimpleAtoi(words[0], &v)) values[key] = v;
    }
  }
  return values;
}

void ExpectSameMetrics(const ArchMetrics& fast, const engine::EngineMetrics& m,
                       const std::string& name) {
  EXPECT_EQ(fast.params, m.params) << name;
  EXPECT_EQ(fast.macs, m.macs) << name;
  EXPECT_EQ(fast.peak_sram_bytes, m.peak_sram_bytes) << name;
  EXPECT_EQ(fast.sram_lower_bound, m.sram_lower_bound) << name;
  EXPECT_EQ(fast.flash_bytes, m.flash_bytes) << name;
  EXPECT_EQ(fast.weight_bytes, m.weight_bytes) << name;
  EXPECT_EQ(fast.op_data_bytes, m.op_data_bytes) << name;
}

TEST(NetworkTest, BuildsTheDocumentedOps) {
  const SearchSpace space = Builtin("fashion_mnist");
  absl::StatusOr<ArchSpec> arch = space.Parse(
      "r28-w1.0:k3e1|k3e3,k5e4|k3e3,k3e3|k3e3,k3e3|k3e3,k3e3|"
      "k3e3,k3e3|k7e6");
  ASSERT_TRUE(arch.ok()) << arch.status();
  absl::StatusOr<Network> net = BuildNetwork(space, *arch);
  ASSERT_TRUE(net.ok()) << net.status();
  EXPECT_EQ(net->ops[0].type, engine::OpType::kConv2D);
  EXPECT_EQ(net->activations[net->ops[0].output].h, 14);
  EXPECT_EQ(net->activations[net->ops[0].output].c, 32);
  EXPECT_EQ(net->ops[1].type, engine::OpType::kDepthwiseConv2D);
  EXPECT_EQ(net->ops.back().type, engine::OpType::kFullyConnected);
  EXPECT_EQ(net->activations[net->output].c, 10);
  EXPECT_TRUE(net->activations[net->output].flat);
  int adds = 0;
  for (const NetOp& op : net->ops) adds += op.type == engine::OpType::kAdd;
  // Only a stage's later blocks keep their shape: one residual in each of
  // the five depth-2 stages.
  EXPECT_EQ(adds, 5);
}

TEST(NetworkTest, BlobLoadsAndMatchesFastMetrics) {
  for (const char* name : {"fashion_mnist", "mcunet"}) {
    const SearchSpace space = Builtin(name);
    Rng rng(7);
    for (int i = 0; i < 20; ++i) {
      const ArchSpec arch = space.Decode(space.SampleGenome(rng));
      const std::string label = CanonicalString(arch);
      absl::StatusOr<std::vector<uint8_t>> blob = BuildModelBlob(space, arch);
      ASSERT_TRUE(blob.ok()) << label << ": " << blob.status();
      auto loaded = engine::LoadedModel::FromBytes(*blob);
      ASSERT_TRUE(loaded.ok()) << label << ": " << loaded.status();
      absl::StatusOr<ArchMetrics> fast = ComputeArchMetrics(space, arch);
      ASSERT_TRUE(fast.ok()) << fast.status();
      ExpectSameMetrics(*fast, engine::ComputeMetrics((*loaded)->model()),
                        label);
    }
  }
}

// The acceptance check: for 240 random specs (both built-in spaces, all
// resolutions and widths), the space's metrics equal what the real
// `mcunas-model info` prints for the written blob.
TEST(NetworkTest, MetricsEqualMcunasModelInfo) {
  const std::string dir = ::testing::TempDir();
  int checked = 0;
  for (const char* name : {"fashion_mnist", "mcunet"}) {
    const SearchSpace space = Builtin(name);
    Rng rng(2024);
    for (int i = 0; i < 120; ++i) {
      const ArchSpec arch = space.Decode(space.SampleGenome(rng));
      const std::string label = CanonicalString(arch);
      absl::StatusOr<std::vector<uint8_t>> blob = BuildModelBlob(space, arch);
      ASSERT_TRUE(blob.ok()) << label << ": " << blob.status();
      const std::string path =
          absl::StrCat(dir, "/searchspace_", getpid(), "_", i, ".mcunas");
      {
        std::ofstream file(path, std::ios::binary);
        file.write(reinterpret_cast<const char*>(blob->data()),
                   static_cast<std::streamsize>(blob->size()));
      }
      const std::map<std::string, uint64_t> info = RunModelInfo(path);
      std::remove(path.c_str());
      absl::StatusOr<ArchMetrics> fast = ComputeArchMetrics(space, arch);
      ASSERT_TRUE(fast.ok()) << fast.status();
      ASSERT_EQ(info.size(), 7u) << label;
      EXPECT_EQ(fast->params, info.at("params")) << label;
      EXPECT_EQ(fast->macs, info.at("macs")) << label;
      EXPECT_EQ(fast->peak_sram_bytes, info.at("peak_sram")) << label;
      EXPECT_EQ(fast->sram_lower_bound, info.at("lower_bound")) << label;
      EXPECT_EQ(fast->flash_bytes, info.at("flash")) << label;
      EXPECT_EQ(fast->weight_bytes, info.at("weights")) << label;
      EXPECT_EQ(fast->op_data_bytes, info.at("op_data")) << label;
      ++checked;
    }
  }
  EXPECT_GE(checked, 200);
}

TEST(NetworkTest, RejectsArchOutsideTheSpace) {
  const SearchSpace space = Builtin("fashion_mnist");
  absl::StatusOr<ArchSpec> arch = ParseArchSpec("r28-w0.5:k3e1|k3e3");
  ASSERT_TRUE(arch.ok());
  absl::StatusOr<ArchMetrics> m = ComputeArchMetrics(space, *arch);
  EXPECT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("has 2 stages"), std::string::npos)
      << m.status();
}

}  // namespace
}  // namespace mcunas::searchspace
