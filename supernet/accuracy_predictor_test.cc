#include "mcunas/supernet/accuracy_predictor.h"

#include <cmath>
#include <cstdio>
#include <random>

#include "gtest/gtest.h"

namespace mcunas::supernet {
namespace {

// Encodings like SearchSpace::Encode's (per slot a one-hot kernel and a
// one-hot expand ratio, inactive slots zero) and accuracies from a planted
// additive table plus a depth interaction and measurement noise.
std::vector<PredictorSample> Synthetic(int n, uint32_t seed,
                                       double noise_points = 0.05) {
  constexpr int kSlots = 12;
  std::mt19937 table_rng(42);
  std::uniform_real_distribution<double> u(0.0, 0.6);
  std::vector<double> table(kSlots * 6);
  for (double& t : table) t = u(table_rng);
  std::mt19937 rng(seed);
  std::normal_distribution<double> noise(0.0, noise_points);
  std::vector<PredictorSample> out;
  for (int i = 0; i < n; ++i) {
    PredictorSample s;
    s.features.assign(kSlots * 6, 0.0f);
    const int active = 6 + static_cast<int>(rng() % 7);
    double acc = 85.0 + 0.1 * active * active / 10.0;
    for (int slot = 0; slot < active; ++slot) {
      const int k = static_cast<int>(rng() % 3),
                e = static_cast<int>(rng() % 3);
      s.features[slot * 6 + k] = 1.0f;
      s.features[slot * 6 + 3 + e] = 1.0f;
      acc += table[slot * 6 + k] + table[slot * 6 + 3 + e];
    }
    s.accuracy = acc + noise(rng);
    out.push_back(std::move(s));
  }
  return out;
}

TEST(AccuracyPredictorTest, LearnsAPlantedFunctionAndGeneralises) {
  const std::vector<PredictorSample> train = Synthetic(300, 1);
  const std::vector<PredictorSample> test = Synthetic(200, 2);
  PredictorOptions options;
  options.hidden = {64, 64};
  options.epochs = 800;
  absl::StatusOr<std::unique_ptr<AccuracyPredictor>> p =
      AccuracyPredictor::Train(train, options);
  ASSERT_TRUE(p.ok()) << p.status();
  double mean = 0.0, spread = 0.0;
  for (const PredictorSample& s : train) mean += s.accuracy;
  mean /= train.size();
  for (const PredictorSample& s : test) {
    spread += (s.accuracy - mean) * (s.accuracy - mean);
  }
  spread = std::sqrt(spread / test.size());
  const double rmse = PredictorRmse(**p, test);
  EXPECT_GT(spread, 1.0);  // the task is not trivial
  EXPECT_LT(rmse, 0.25 * spread) << "spread " << spread;
  EXPECT_LT(rmse, 0.5);

  // Save and load give the same predictions; damage is detected.
  const std::string path = testing::TempDir() + "/predictor.bin";
  ASSERT_TRUE((*p)->Save(path).ok());
  absl::StatusOr<std::unique_ptr<AccuracyPredictor>> q =
      AccuracyPredictor::Load(path);
  ASSERT_TRUE(q.ok()) << q.status();
  for (const PredictorSample& s : test) {
    EXPECT_EQ((*p)->Predict(s.features), (*q)->Predict(s.features));
  }
  std::FILE* f = std::fopen(path.c_str(), "r+b");
  ASSERT_NE(f, nullptr);
  std::fseek(f, 40, SEEK_SET);
  std::fputc(0x5a, f);
  std::fclose(f);
  EXPECT_EQ(AccuracyPredictor::Load(path).status().code(),
            absl::StatusCode::kDataLoss);
  std::remove(path.c_str());
}

// Cross-validation over a tiny decay (the net fits what it sees) and a huge
// one (the net is held at zero: the training mean).
WeightDecayChoice CrossValidateTinyAndHuge(
    const std::vector<PredictorSample>& samples) {
  PredictorOptions options;
  options.hidden = {64, 64};
  options.epochs = 400;
  const std::vector<float> candidates = {1e-4f, 1000.0f};
  absl::StatusOr<WeightDecayChoice> choice =
      CrossValidateWeightDecay(samples, options, candidates, 4);
  EXPECT_TRUE(choice.ok()) << choice.status();
  if (!choice.ok()) return {};
  EXPECT_EQ(choice->rmse.size(), candidates.size());
  for (size_t i = 0; i < candidates.size() && i < choice->rmse.size(); ++i) {
    EXPECT_EQ(choice->rmse[i].first, candidates[i]);
  }
  return *choice;
}

TEST(AccuracyPredictorTest, CrossValidationKeepsTheNetWhereThereIsSignal) {
  const WeightDecayChoice choice =
      CrossValidateTinyAndHuge(Synthetic(160, 1, 0.05));
  ASSERT_EQ(choice.rmse.size(), 2u);
  EXPECT_EQ(choice.weight_decay, 1e-4f);
  EXPECT_LT(choice.rmse[0].second, 0.5 * choice.rmse[1].second);
}

TEST(AccuracyPredictorTest, CrossValidationFallsBackToTheMeanOnPureNoise) {
  // The same encodings, accuracies that do not depend on them: any fit is
  // a fit of the noise, and held-out folds show it.
  std::vector<PredictorSample> samples = Synthetic(160, 1);
  std::mt19937 rng(7);
  std::normal_distribution<double> noise(0.0, 1.0);
  for (PredictorSample& s : samples) s.accuracy = 87.0 + noise(rng);
  const WeightDecayChoice choice = CrossValidateTinyAndHuge(samples);
  ASSERT_EQ(choice.rmse.size(), 2u);
  EXPECT_EQ(choice.weight_decay, 1000.0f)
      << choice.rmse[0].second << " vs " << choice.rmse[1].second;
}

TEST(AccuracyPredictorTest, CrossValidationRejectsImpossibleSplits) {
  const std::vector<PredictorSample> s = Synthetic(3, 1);
  EXPECT_EQ(CrossValidateWeightDecay(s, PredictorOptions(), {0.1f}, 1)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CrossValidateWeightDecay(s, PredictorOptions(), {0.1f}, 4)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      CrossValidateWeightDecay(s, PredictorOptions(), {}, 2).status().code(),
      absl::StatusCode::kInvalidArgument);
}

TEST(AccuracyPredictorTest, RotatedBlocksAreEachHeldOutOnce) {
  const std::vector<PredictorSample> samples = Synthetic(250, 1);
  PredictorOptions options;
  options.hidden = {64, 64};
  options.epochs = 400;
  absl::StatusOr<HeldOutBlocks> blocks =
      RotateHeldOutBlocks(samples, options, 100);
  ASSERT_TRUE(blocks.ok()) << blocks.status();
  ASSERT_EQ(blocks->rmse.size(), 3u);  // 100, 100 and the last 50

  // The middle block's figure is that of a predictor trained on the rest.
  std::vector<PredictorSample> rest(samples.begin(), samples.begin() + 100);
  rest.insert(rest.end(), samples.begin() + 200, samples.end());
  const std::vector<PredictorSample> middle(samples.begin() + 100,
                                            samples.begin() + 200);
  absl::StatusOr<std::unique_ptr<AccuracyPredictor>> p =
      AccuracyPredictor::Train(rest, options);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(blocks->rmse[1], PredictorRmse(**p, middle));

  const double pooled = std::sqrt((100 * blocks->rmse[0] * blocks->rmse[0] +
                                   100 * blocks->rmse[1] * blocks->rmse[1] +
                                   50 * blocks->rmse[2] * blocks->rmse[2]) /
                                  250);
  EXPECT_NEAR(blocks->pooled, pooled, 1e-12);
  EXPECT_LT(blocks->pooled, 0.5);  // the planted function is learnable

  EXPECT_EQ(RotateHeldOutBlocks(samples, options, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RotateHeldOutBlocks(samples, options, 250).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(AccuracyPredictorTest, RejectsInconsistentSamples) {
  std::vector<PredictorSample> s = Synthetic(4, 1);
  s[2].features.pop_back();
  EXPECT_EQ(AccuracyPredictor::Train(s, PredictorOptions()).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(AccuracyPredictor::Train({}, PredictorOptions()).ok());
}

}  // namespace
}  // namespace mcunas::supernet
