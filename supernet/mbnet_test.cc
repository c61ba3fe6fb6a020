#include "mcunas/supernet/mbnet.h"

#include <cmath>
#include <random>

#include "gtest/gtest.h"
#include "mcunas/engine/host/float_reference.h"
#include "mcunas/supernet/ops.h"
#include "test_data.h"

namespace mcunas::supernet {
namespace {

using testing::ExpectGradientMatches;

// Two stages (a residual block, an expand-1 block, a stride-2 block) on 8x8
// inputs: every code path of the net, small enough for finite differences.
MbnetConfig TinyConfig() {
  MbnetConfig c;
  c.resolution = 8;
  c.input_channels = 2;
  c.stem_channels = 4;
  c.stem_stride = 1;
  c.stages = {{4, 1, {{3, 2}, {3, 1}}}, {6, 2, {{5, 3}, {3, 2}}}};
  c.head_channels = 8;
  c.classes = 3;
  return c;
}

Tensor RandomImages(int32_t n, const MbnetConfig& c, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  Tensor t({n, c.resolution, c.resolution, c.input_channels});
  for (float& v : t.values()) v = normal(rng);
  return t;
}

TEST(MbnetConfigTest, ReferenceNetsHaveTheIssuesMacs) {
  const MbnetConfig largest = ReferenceMbnetConfig(0.5f, 28, 4, 7, 6);
  const MbnetConfig smallest = ReferenceMbnetConfig(0.5f, 28, 2, 3, 3);
  EXPECT_TRUE(ValidateMbnetConfig(largest).ok());
  EXPECT_EQ(largest.stem_channels, 16);
  EXPECT_EQ(largest.stages[1].channels, 12);
  EXPECT_EQ(largest.head_channels, 640);
  EXPECT_NEAR(MbnetMacs(largest) / 1e6, 25.2, 0.1);
  EXPECT_NEAR(MbnetMacs(smallest) / 1e6, 4.0, 0.1);
}

TEST(MbnetConfigTest, RejectsBadConfigs) {
  MbnetConfig c = TinyConfig();
  c.stages[1].blocks[0].kernel = 4;
  EXPECT_EQ(ValidateMbnetConfig(c).code(), absl::StatusCode::kInvalidArgument);
  c = TinyConfig();
  c.stages.clear();
  EXPECT_FALSE(Mbnet::Create(c, 1).ok());
}

// The whole net's backward (every layer, residual adds, pooling, classifier
// and loss together) against finite differences of the loss.
TEST(MbnetTest, BackwardMatchesFiniteDifferences) {
  const MbnetConfig config = TinyConfig();
  absl::StatusOr<std::unique_ptr<Mbnet>> net = Mbnet::Create(config, 3);
  ASSERT_TRUE(net.ok()) << net.status();
  ThreadPool pool(2);
  const Tensor images = RandomImages(6, config, 4);
  const std::vector<int32_t> labels = {0, 1, 2, 2, 1, 0};
  Tensor logits, dlogits;
  (*net)->Forward(pool, images, ForwardMode::kTrain, &logits);
  SoftmaxCrossEntropy(logits, labels, &dlogits, nullptr);
  (*net)->Backward(pool, dlogits);
  auto loss = [&] {
    Tensor out;
    (*net)->Forward(pool, images, ForwardMode::kTrain, &out);
    return SoftmaxCrossEntropy(out, labels, nullptr, nullptr);
  };
  std::mt19937 rng(5);
  int checked = 0;
  for (Parameter* p : (*net)->Parameters()) {
    const std::vector<float> analytic = p->grad;
    std::uniform_int_distribution<size_t> pick(0, p->value.size() - 1);
    for (int s = 0; s < 3; ++s) {
      const size_t i = pick(rng);
      ExpectGradientMatches(p, i, analytic[i], loss);
      ++checked;
    }
  }
  EXPECT_GT(checked, 60);
}

TEST(MbnetTest, ExportedGraphComputesTheSameLogits) {
  const MbnetConfig config = TinyConfig();
  absl::StatusOr<std::unique_ptr<Mbnet>> net = Mbnet::Create(config, 7);
  ASSERT_TRUE(net.ok());
  ThreadPool pool(2);
  // A few training forwards give non-trivial running statistics; random
  // gammas and betas make the BN folding matter.
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(0.5f, 1.5f);
  for (Parameter* p : (*net)->Parameters()) {
    if (p->name.find("bn.") != std::string::npos) {
      for (float& v : p->value)
        v = u(rng) - (p->name.find("beta") != std::string::npos ? 1.0f : 0.0f);
    }
  }
  Tensor logits;
  for (int i = 0; i < 3; ++i) {
    (*net)->Forward(pool, RandomImages(8, config, 10 + i), ForwardMode::kTrain,
                    &logits);
  }
  absl::StatusOr<engine::FloatGraph> graph = (*net)->ExportFloatGraph();
  ASSERT_TRUE(graph.ok()) << graph.status();
  const Tensor images = RandomImages(3, config, 99);
  (*net)->Forward(pool, images, ForwardMode::kInfer, &logits);
  const int64_t per = images.size() / 3;
  for (int n = 0; n < 3; ++n) {
    std::vector<float> image(images.data() + n * per,
                             images.data() + (n + 1) * per);
    absl::StatusOr<std::vector<float>> out =
        engine::RunFloatGraphOutput(*graph, image);
    ASSERT_TRUE(out.ok()) << out.status();
    ASSERT_EQ(out->size(), 3u);
    for (int k = 0; k < 3; ++k) {
      EXPECT_NEAR((*out)[k], logits.data()[n * 3 + k],
                  1e-4 + 1e-4 * std::abs((*out)[k]));
    }
  }
}

TEST(MbnetTest, RecalibrationAveragesBatchStatistics) {
  const MbnetConfig config = TinyConfig();
  absl::StatusOr<std::unique_ptr<Mbnet>> net = Mbnet::Create(config, 2);
  ASSERT_TRUE(net.ok());
  ThreadPool pool(1);
  const Tensor a = RandomImages(4, config, 1);
  Tensor b = RandomImages(4, config, 2);
  for (float& v : b.values()) v = 2.0f * v + 1.0f;
  Tensor logits;
  // Each batch alone: the stem's running mean after one recalibration batch
  // is that batch's mean.
  (*net)->ResetRunningStats();
  (*net)->Forward(pool, a, ForwardMode::kRecalibrate, &logits);
  const std::vector<float> mean_a = (*net)->BatchNormStats()[0]->mean;
  (*net)->ResetRunningStats();
  (*net)->Forward(pool, b, ForwardMode::kRecalibrate, &logits);
  const std::vector<float> mean_b = (*net)->BatchNormStats()[0]->mean;
  (*net)->ResetRunningStats();
  (*net)->Forward(pool, a, ForwardMode::kRecalibrate, &logits);
  (*net)->Forward(pool, b, ForwardMode::kRecalibrate, &logits);
  const std::vector<float>& both = (*net)->BatchNormStats()[0]->mean;
  for (size_t c = 0; c < both.size(); ++c) {
    EXPECT_NEAR(both[c], 0.5f * (mean_a[c] + mean_b[c]), 1e-5);
  }
}

}  // namespace
}  // namespace mcunas::supernet
