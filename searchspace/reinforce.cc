// REINFORCE (Williams 1992) over the space's decisions. The policy is an
// independent softmax per decision (a logit per choice, all 0 at first, so
// the first proposals are uniform over genomes). For each told evaluation,
// with baseline b (an exponential moving average of the scores) and s the
// moving RMS of (score - b):
//
//   A = clamp((score - b) / s, -3, 3)
//   logits[d] += lr * (A * grad log p(choice_d) + entropy_weight * grad H_d)
//
// for every decision that was active in the proposal (an inactive block
// slot did not affect the score). Dividing by the RMS makes the learning rate
// independent of the score's scale (accuracy in [0, 1] or anything else);
// the clamp keeps one outlier from saturating the policy. The entropy bonus
// slows premature collapse. Proposals are drawn from the policy and retried
// while infeasible (bounded; see StrategyBase::FeasibleChild).
#include <algorithm>
#include <cmath>

#include "json_util.h"
#include "mcunas/common/status_macros.h"
#include "strategy_base.h"

namespace mcunas::searchspace {
namespace {

constexpr double kMaxAdvantage = 3.0;

std::vector<double> Softmax(const std::vector<double>& logits) {
  const double top = *std::max_element(logits.begin(), logits.end());
  std::vector<double> p(logits.size());
  double sum = 0.0;
  for (size_t i = 0; i < p.size(); ++i) {
    p[i] = std::exp(logits[i] - top);
    sum += p[i];
  }
  for (double& v : p) v /= sum;
  return p;
}

class Reinforce final : public StrategyBase {
 public:
  Reinforce(const StrategySettings& s, ArchEvaluator* evaluator,
            std::vector<ArchSpec> pool)
      : StrategyBase("rl", s, evaluator, std::move(pool)) {
    for (const Decision& d : space().decisions()) {
      logits_.emplace_back(d.choices, 0.0);
    }
  }

 private:
  absl::StatusOr<Genome> Propose() override {
    return FeasibleChild([&] {
      Genome g(logits_.size());
      for (size_t d = 0; d < logits_.size(); ++d) {
        const std::vector<double> p = Softmax(logits_[d]);
        double u = rng().Uniform();
        size_t pick = 0;
        while (pick + 1 < p.size() && u >= p[pick]) u -= p[pick++];
        g[d] = static_cast<int32_t>(pick);
      }
      return g;
    });
  }

  void Learn(const Member& m) override {
    const double decay = settings().baseline_decay;
    if (updates_ == 0) baseline_ = m.score;
    const double diff = m.score - baseline_;
    mean_square_ = updates_ == 0
                       ? diff * diff
                       : decay * mean_square_ + (1.0 - decay) * diff * diff;
    baseline_ = decay * baseline_ + (1.0 - decay) * m.score;
    ++updates_;
    const double rms = std::sqrt(mean_square_);
    const double advantage =
        rms > 0.0 ? std::clamp(diff / rms, -kMaxAdvantage, kMaxAdvantage) : 0.0;
    const double lr = settings().learning_rate;
    const double beta = settings().entropy_weight;
    for (size_t d = 0; d < logits_.size(); ++d) {
      if (logits_[d].size() < 2 || !space().Active(m.genome, d)) continue;
      const std::vector<double> p = Softmax(logits_[d]);
      double entropy = 0.0;
      for (double v : p) entropy -= v > 0.0 ? v * std::log(v) : 0.0;
      for (size_t i = 0; i < p.size(); ++i) {
        const double log_grad =
            (static_cast<int32_t>(i) == m.genome[d] ? 1.0 : 0.0) - p[i];
        const double entropy_grad =
            p[i] > 0.0 ? -p[i] * (std::log(p[i]) + entropy) : 0.0;
        logits_[d][i] += lr * (advantage * log_grad + beta * entropy_grad);
      }
    }
  }

  Json SaveOwnState() const override {
    return {{"logits", logits_},
            {"baseline", baseline_},
            {"mean_square", mean_square_},
            {"updates", updates_}};
  }
  absl::Status RestoreOwnState(const Json& j) override {
    MCUNAS_ASSIGN_OR_RETURN(const Json* list, ReadArray(j, "logits"));
    std::vector<std::vector<double>> logits;
    for (const Json& row : *list) {
      MCUNAS_ASSIGN_OR_RETURN(std::vector<double> values,
                              ReadDoubles(row, "logits"));
      logits.push_back(std::move(values));
    }
    if (logits.size() != logits_.size()) {
      return absl::InvalidArgumentError("logits do not fit this space");
    }
    for (size_t d = 0; d < logits.size(); ++d) {
      if (logits[d].size() != logits_[d].size()) {
        return absl::InvalidArgumentError("logits do not fit this space");
      }
    }
    MCUNAS_ASSIGN_OR_RETURN(const double baseline, ReadDouble(j, "baseline"));
    MCUNAS_ASSIGN_OR_RETURN(const double mean_square,
                            ReadDouble(j, "mean_square"));
    MCUNAS_ASSIGN_OR_RETURN(const int64_t updates, ReadInt(j, "updates"));
    logits_ = std::move(logits);
    baseline_ = baseline;
    mean_square_ = mean_square;
    updates_ = updates;
    return absl::OkStatus();
  }

  std::vector<std::vector<double>> logits_;  // per decision, per choice
  double baseline_ = 0.0;
  double mean_square_ = 0.0;  // of score - baseline
  int64_t updates_ = 0;
};

}  // namespace

std::unique_ptr<SearchStrategy> MakeReinforce(const StrategySettings& settings,
                                              ArchEvaluator* evaluator,
                                              std::vector<ArchSpec> pool) {
  return std::make_unique<Reinforce>(settings, evaluator, std::move(pool));
}

}  // namespace mcunas::searchspace
