// The accuracy predictor (Once-for-All's): a small MLP from a subnet's
// encoding (searchspace::SearchSpace::Encode: one-hot R, W, kernel and
// expand ratio per block slot) to its accuracy, trained on subnets measured
// through the supernet, so a search can score thousands of candidates
// without running any.
//
//   features -> [Linear -> ReLU] x hidden.size() -> Linear -> + base
//
// `base` is the mean accuracy of the training samples; the net learns the
// difference. Trained with Adam on the mean squared error, full-batch
// (a few hundred samples), deterministic for a seed. Accuracies are in
// percentage points, so RMSE is in points.
//
// Each measured accuracy carries the noise of a finite validation set
// (~0.4 points on 6000 images), and a few hundred samples are few for a
// 3x400 net: at OFA's weight decay it fits that noise exactly. The weight
// decay is therefore chosen by k-fold cross-validation on the training
// subnets (CrossValidateWeightDecay), never on the held-out ones.
//
// A trained predictor is immutable; Predict is thread-safe.
#ifndef MCUNAS_SUPERNET_ACCURACY_PREDICTOR_H_
#define MCUNAS_SUPERNET_ACCURACY_PREDICTOR_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace mcunas::supernet {

struct PredictorSample {
  std::vector<float> features;
  double accuracy = 0.0;  // percentage points
};

struct PredictorOptions {
  std::vector<int32_t> hidden = {400, 400, 400};  // OFA's sizes
  int32_t epochs = 1000;                          // full-batch Adam steps
  float lr = 1e-3f;
  float weight_decay = 0.1f;  // L2, added to the gradient
  uint64_t seed = 1;
};

// The weight decays CrossValidateWeightDecay tries by default.
std::vector<float> DefaultWeightDecayCandidates();

struct WeightDecayChoice {
  float weight_decay = 0.0f;  // the candidate with the lowest RMSE
  // Per candidate, in the order given: its cross-validated RMSE in points.
  std::vector<std::pair<float, double>> rmse;
};

class AccuracyPredictor {
 public:
  // InvalidArgument for no samples or samples of different sizes.
  static absl::StatusOr<std::unique_ptr<AccuracyPredictor>> Train(
      const std::vector<PredictorSample>& samples,
      const PredictorOptions& options);
  // Reads what Save wrote; DataLoss for a damaged file.
  static absl::StatusOr<std::unique_ptr<AccuracyPredictor>> Load(
      const std::string& path);
  absl::Status Save(const std::string& path) const;

  // REQUIRES: features.size() == input_size().
  double Predict(const std::vector<float>& features) const;
  size_t input_size() const { return sizes_.front(); }

 private:
  AccuracyPredictor() = default;
  // sizes_: input, hidden..., 1. layers_[l]: weights [out][in] then bias.
  std::vector<int32_t> sizes_;
  std::vector<std::vector<float>> layers_;
  double base_ = 0.0;
};

// Root mean squared error of the predictor over `samples`, in points.
double PredictorRmse(const AccuracyPredictor& predictor,
                     const std::vector<PredictorSample>& samples);

// For each candidate weight decay, trains `folds` predictors (options as
// given otherwise), each on all samples but one fold (sample i is in fold
// i % folds; the samples are random draws, so that is a random split) and
// pools their errors on the fold left out. Costs candidates x folds
// trainings. InvalidArgument for fewer than 2 folds, fewer samples than
// folds, no candidates, or inconsistent samples.
absl::StatusOr<WeightDecayChoice> CrossValidateWeightDecay(
    const std::vector<PredictorSample>& samples,
    const PredictorOptions& options, const std::vector<float>& candidates,
    int32_t folds);

// How much a held-out figure depends on which subnets were held out: holds
// out each consecutive block of `block_size` samples in turn (the last may
// be shorter), trains on all the others with `options`, and reports every
// block's RMSE and the RMSE pooled over all samples. Costs one training
// per block. InvalidArgument for block_size < 1, fewer than two blocks, or
// inconsistent samples.
struct HeldOutBlocks {
  std::vector<double> rmse;  // per block, in order
  double pooled = 0.0;
};
absl::StatusOr<HeldOutBlocks> RotateHeldOutBlocks(
    const std::vector<PredictorSample>& samples,
    const PredictorOptions& options, int32_t block_size);

}  // namespace mcunas::supernet

#endif  // MCUNAS_SUPERNET_ACCURACY_PREDICTOR_H_
