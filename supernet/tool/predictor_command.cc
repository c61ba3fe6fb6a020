// predictor: measure random subnets of a trained supernet (float accuracy
// on the validation split after BN recalibration), train the accuracy
// predictor on some and report its RMSE on the held-out rest.
//
// Measurements are appended to --samples (one "arch,accuracy" line each, the
// accuracy in percent, flushed as it goes), so an interrupted run measures only
// what is missing when run again.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <random>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "commands.h"
#include "mcunas/common/status_macros.h"
#include "mcunas/supernet/accuracy_predictor.h"
#include "mcunas/supernet/checkpoint.h"
#include "mcunas/supernet/evaluate.h"
#include "mcunas/supernet/supernet_checkpoint.h"
#include "tool_util.h"

namespace mcunas::supernet::tool {
namespace {

using Clock = std::chrono::steady_clock;

// Folds of the weight-decay cross-validation.
constexpr int32_t kFolds = 5;

absl::StatusOr<std::map<std::string, double>> ReadSamples(
    const std::string& path) {
  std::map<std::string, double> out;
  std::ifstream in(path);
  std::string line;
  int64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) continue;
    // ArchSpecs contain commas: the accuracy is after the last one.
    const size_t comma = line.rfind(',');
    double accuracy = 0.0;
    if (comma == std::string::npos ||
        !absl::SimpleAtod(line.substr(comma + 1), &accuracy)) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", number,
                       ": expected \"arch,accuracy\", got \"", line, "\""));
    }
    out[line.substr(0, comma)] = accuracy;
  }
  return out;
}

absl::Status RunPredictor(const PredictorFlags& flags) {
  if (flags.held_out <= 0 || flags.held_out >= flags.subnets) {
    return absl::InvalidArgumentError(
        "--held-out must be positive and smaller than --subnets");
  }
  MCUNAS_ASSIGN_OR_RETURN(Data data, LoadData(flags.data));
  MCUNAS_ASSIGN_OR_RETURN(Checkpoint ckpt, ReadCheckpoint(flags.checkpoint));
  MCUNAS_ASSIGN_OR_RETURN(std::unique_ptr<ElasticSupernet> net,
                          SupernetFromCheckpoint(ckpt, flags.checkpoint));
  const int32_t r = net->config().resolution;
  BatchLoader calibration(&data.train, data.split.train, Pipeline(data, r), 0);
  BatchLoader validation(&data.train, data.split.validation, Pipeline(data, r),
                         0);
  if (validation.size() == 0) {
    return absl::InvalidArgumentError("no validation split (--val-fraction)");
  }

  // The subnets: distinct uniform samples (OFA's sampler), by seed.
  std::vector<searchspace::ArchSpec> archs;
  std::set<std::string> seen;
  std::mt19937_64 rng(flags.seed);
  const Elasticity all{true, true, true};
  for (int attempts = 0; static_cast<int32_t>(archs.size()) < flags.subnets &&
                         attempts < flags.subnets * 100;
       ++attempts) {
    searchspace::ArchSpec a = net->Sample(all, rng);
    if (seen.insert(searchspace::CanonicalString(a)).second) {
      archs.push_back(std::move(a));
    }
  }
  if (static_cast<int32_t>(archs.size()) < flags.subnets) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the space has fewer than ", flags.subnets, " distinct subnets"));
  }
  MCUNAS_ASSIGN_OR_RETURN(auto measured, ReadSamples(flags.samples));
  std::ofstream out(flags.samples, std::ios::app);
  if (!out) {
    return absl::InternalError(absl::StrCat(flags.samples, ": cannot open"));
  }
  ThreadPool pool(flags.threads);
  const Clock::time_point start = Clock::now();
  Clock::time_point last_log = start;
  int64_t done = 0, todo = 0;
  for (const searchspace::ArchSpec& a : archs) {
    todo += measured.count(searchspace::CanonicalString(a)) == 0;
  }
  Log()->info("{} subnets, {} already measured in {}", archs.size(),
              archs.size() - todo, flags.samples);
  for (const searchspace::ArchSpec& a : archs) {
    const std::string name = searchspace::CanonicalString(a);
    if (measured.count(name) != 0) continue;
    MCUNAS_ASSIGN_OR_RETURN(
        EvalResult e,
        EvaluateSubnet(*net, a, pool, calibration, flags.recalibrate,
                       validation, flags.validation_images));
    measured[name] = 100 * e.accuracy();
    out << name << "," << absl::StrCat(100 * e.accuracy()) << "\n";
    out.flush();
    ++done;
    const Clock::time_point now = Clock::now();
    if (now - last_log >= std::chrono::seconds(10) || done == todo) {
      const double s = std::chrono::duration<double>(now - start).count();
      Log()->info("measured {}/{} subnets ({:.1f} s each, left {})", done, todo,
                  s / done, Duration(s / done * (todo - done)));
      last_log = now;
    }
  }

  std::vector<PredictorSample> train, held_out;
  for (size_t i = 0; i < archs.size(); ++i) {
    PredictorSample s{net->space().Encode(archs[i]),
                      measured[searchspace::CanonicalString(archs[i])]};
    (static_cast<int32_t>(i) < flags.subnets - flags.held_out ? train
                                                              : held_out)
        .push_back(std::move(s));
  }
  PredictorOptions options;
  options.epochs = flags.epochs;
  options.seed = flags.seed;
  if (flags.weight_decay >= 0) {
    options.weight_decay = flags.weight_decay;
  } else {
    // Chosen on the training subnets only: the held-out ones stay unseen
    // until the final figure.
    MCUNAS_ASSIGN_OR_RETURN(
        const WeightDecayChoice choice,
        CrossValidateWeightDecay(train, options,
                                 DefaultWeightDecayCandidates(), kFolds));
    for (const auto& [weight_decay, rmse] : choice.rmse) {
      Log()->info("weight decay {}: {}-fold cross-validated RMSE {:.3f}",
                  weight_decay, kFolds, rmse);
    }
    options.weight_decay = choice.weight_decay;
  }
  Log()->info("training the predictor with weight decay {}",
              options.weight_decay);
  const Clock::time_point fit = Clock::now();
  MCUNAS_ASSIGN_OR_RETURN(std::unique_ptr<AccuracyPredictor> predictor,
                          AccuracyPredictor::Train(train, options));
  double mean = 0.0, spread = 0.0;
  for (const PredictorSample& s : train) mean += s.accuracy;
  mean /= train.size();
  for (const PredictorSample& s : held_out) {
    spread += (s.accuracy - mean) * (s.accuracy - mean);
  }
  spread = std::sqrt(spread / held_out.size());
  std::printf(
      "predictor: trained on %zu subnets in %.1f s; RMSE %.3f points on them, "
      "%.3f points on %zu held-out subnets (predicting the mean: %.3f)\n",
      train.size(), std::chrono::duration<double>(Clock::now() - fit).count(),
      PredictorRmse(*predictor, train), PredictorRmse(*predictor, held_out),
      held_out.size(), spread);
  if (!flags.out.empty()) {
    MCUNAS_RETURN_IF_ERROR(predictor->Save(flags.out));
    Log()->info("wrote {}", flags.out);
  }
  if (flags.rotate) {
    // Every subnet in sampling order; block k is subnets
    // [k * held_out, (k + 1) * held_out), so when --subnets is a multiple
    // of --held-out the last block is the one above. The weight decay stays
    // the one chosen above, on subnets that are now held out: these figures
    // show how much the held-out figure depends on the block, the one above
    // is the clean one.
    std::vector<PredictorSample> every = train;
    every.insert(every.end(), held_out.begin(), held_out.end());
    MCUNAS_ASSIGN_OR_RETURN(
        const HeldOutBlocks blocks,
        RotateHeldOutBlocks(every, options, flags.held_out));
    for (size_t b = 0; b < blocks.rmse.size(); ++b) {
      const size_t first = b * flags.held_out + 1;
      std::printf("held out subnets %zu-%zu: RMSE %.3f points\n", first,
                  std::min(every.size(), first + flags.held_out - 1),
                  blocks.rmse[b]);
    }
    std::printf(
        "pooled over all %zu subnets, each held out once: RMSE %.3f "
        "points\n",
        every.size(), blocks.pooled);
  }
  return absl::OkStatus();
}

}  // namespace

int PredictorCommand(const PredictorFlags& flags) {
  return Exit(RunPredictor(flags));
}

}  // namespace mcunas::supernet::tool
