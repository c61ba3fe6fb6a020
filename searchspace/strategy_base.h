// Private to searchspace. What every strategy shares: the random state,
// the feasible sampling with bounded retries, the bookkeeping of proposals
// not yet told, the set of architectures already proposed, and the common
// part of the saved state. Subclasses implement Propose (one child) and
// Learn (one told evaluation) and their own state. Not thread-safe.
#ifndef MCUNAS_SEARCHSPACE_STRATEGY_BASE_H_
#define MCUNAS_SEARCHSPACE_STRATEGY_BASE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "mcunas/searchspace/strategy.h"
#include "nlohmann/json.hpp"
#include "rng.h"

namespace mcunas::searchspace {

// One told (or pending) architecture with everything selection needs.
struct Member {
  Genome genome;
  uint64_t hash = 0;
  double score = 0.0;
  Candidate candidate;
};

class StrategyBase : public SearchStrategy {
 public:
  StrategyBase(std::string name, const StrategySettings& settings,
               ArchEvaluator* evaluator, std::vector<ArchSpec> feasible_pool);

  absl::StatusOr<std::vector<ArchSpec>> Ask(int32_t n) final;
  absl::Status Tell(const std::vector<Evaluation>& evaluations) final;
  std::string SaveState() const final;
  absl::Status RestoreState(absl::string_view state) final;
  const std::string& name() const final { return name_; }
  int64_t told() const final { return told_; }

 protected:
  // One new child genome (feasible: use SampleFeasible / FeasibleChild).
  virtual absl::StatusOr<Genome> Propose() = 0;
  // Integrates one told evaluation (`member.score` set).
  virtual void Learn(const Member& member) = 0;
  virtual nlohmann::json SaveOwnState() const = 0;
  virtual absl::Status RestoreOwnState(const nlohmann::json& state) = 0;

  // Calls `make` until it gives a feasible genome not proposed before (at
  // most max_attempts calls, at most 20 of them repeats); else the first
  // feasible repeat; else *found = false.
  absl::StatusOr<Genome> FirstFeasible(const std::function<Genome()>& make,
                                       bool* found);
  // A uniform feasible genome, new if possible within max_attempts (then a
  // feasible duplicate). ResourceExhausted when nothing feasible was drawn.
  absl::StatusOr<Genome> SampleFeasible();
  // Calls `make` until it gives a feasible, new genome (max_attempts); else
  // a feasible duplicate it made; else SampleFeasible; else a genome from
  // the feasibility probe.
  absl::StatusOr<Genome> FeasibleChild(const std::function<Genome()>& make);

  Genome Mutate(const Genome& parent, double probability);
  Genome Crossover(const Genome& a, const Genome& b);

  const SearchSpace& space() const { return evaluator_->space(); }
  Rng& rng() { return rng_; }
  const StrategySettings& settings() const { return settings_; }

  // Saved as genome and score; the candidate is recomputed on restore.
  static nlohmann::json MemberToJson(const Member& m);
  absl::StatusOr<Member> MemberFromJson(const nlohmann::json& j);

 private:
  std::string name_;
  StrategySettings settings_;
  ArchEvaluator* evaluator_;
  std::vector<ArchSpec> feasible_pool_;  // from the probe; last resort
  Rng rng_;
  std::multimap<uint64_t, Member> pending_;  // proposed, not told
  std::set<uint64_t> seen_;                  // every hash proposed
  int64_t told_ = 0;
};

// Factories, one per strategy file.
std::unique_ptr<SearchStrategy> MakeRandomSearch(
    const StrategySettings& settings, ArchEvaluator* evaluator,
    std::vector<ArchSpec> pool);
std::unique_ptr<SearchStrategy> MakeEvolution(const StrategySettings& settings,
                                              ArchEvaluator* evaluator,
                                              std::vector<ArchSpec> pool);
std::unique_ptr<SearchStrategy> MakeRegularizedEvolution(
    const StrategySettings& settings, ArchEvaluator* evaluator,
    std::vector<ArchSpec> pool);
std::unique_ptr<SearchStrategy> MakeReinforce(const StrategySettings& settings,
                                              ArchEvaluator* evaluator,
                                              std::vector<ArchSpec> pool);

}  // namespace mcunas::searchspace

#endif  // MCUNAS_SEARCHSPACE_STRATEGY_BASE_H_
