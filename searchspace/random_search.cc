// Random search: uniform over the feasible space (uniform architectures,
// rejection of infeasible ones), without repeats while new ones can be
// found. It learns nothing; its only state is the random generator and the
// proposals (StrategyBase's).
#include "strategy_base.h"

namespace mcunas::searchspace {
namespace {

class RandomSearch final : public StrategyBase {
 public:
  using StrategyBase::StrategyBase;

 private:
  absl::StatusOr<Genome> Propose() override { return SampleFeasible(); }
  void Learn(const Member& /*member*/) override {}
  nlohmann::json SaveOwnState() const override {
    return nlohmann::json::object();
  }
  absl::Status RestoreOwnState(const nlohmann::json& /*state*/) override {
    return absl::OkStatus();
  }
};

}  // namespace

std::unique_ptr<SearchStrategy> MakeRandomSearch(
    const StrategySettings& settings, ArchEvaluator* evaluator,
    std::vector<ArchSpec> pool) {
  return std::make_unique<RandomSearch>("random", settings, evaluator,
                                        std::move(pool));
}

}  // namespace mcunas::searchspace
