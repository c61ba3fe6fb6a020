// Search strategies behind one ask/tell interface: the caller asks for
// architectures, evaluates them (accuracy from the supernet, a predictor, or
// anything else), and tells the scores back. Every proposal already meets
// the hard constraints (SRAM, flash, latency) of the evaluator the strategy
// was created with.
//
//   ArchEvaluator evaluator(space, {.max_sram_bytes = 320 << 10});
//   StrategySettings settings;
//   settings.name = "evolution";
//   settings.seed = 7;
//   MCUNAS_ASSIGN_OR_RETURN(std::unique_ptr<SearchStrategy> search,
//                           CreateStrategy(settings, &evaluator));
//   for (int round = 0; round < 100; ++round) {
//     MCUNAS_ASSIGN_OR_RETURN(std::vector<ArchSpec> archs, search->Ask(16));
//     std::vector<Evaluation> results;
//     for (const ArchSpec& a : archs) results.push_back({a, Accuracy(a)});
//     MCUNAS_RETURN_IF_ERROR(search->Tell(results));
//     store.Save(search->SaveState());  // resume from here after a crash
//   }
//
// Strategies ("name" in StrategySettings):
//   random                 uniform over the feasible space (rejection).
//   evolution              OFA's: a population; each generation keeps the
//                          best parent_ratio as parents and fills the rest
//                          with mutants (mutation_ratio of the children;
//                          each decision resampled with probability
//                          mutation_probability) and uniform crossovers.
//                          With pareto = true, parents are chosen by
//                          non-dominated rank and crowding (NSGA-II) over
//                          (score, latency, SRAM, flash).
//   regularized_evolution  aging evolution (Real et al. 2019): tournament of
//                          sample_size, mutate the winner, the oldest dies.
//   rl                     REINFORCE: an independent softmax per decision,
//                          moving-average baseline, entropy bonus.
//
// Determinism: a strategy's proposals are a function of its settings, the
// evaluator's constraints and the scores told, in order. SaveState captures
// everything else (random state, population or policy, proposals not yet
// told), so a strategy restored from it proposes exactly what the original
// would have. Infeasible children are retried at most max_attempts times
// and then replaced by a random feasible architecture, so Ask never hangs;
// when nothing is feasible CreateStrategy fails fast (ProbeFeasibility).
//
// A strategy is not thread-safe; the evaluator must outlive it.
#ifndef MCUNAS_SEARCHSPACE_STRATEGY_H_
#define MCUNAS_SEARCHSPACE_STRATEGY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "mcunas/searchspace/arch_spec.h"
#include "mcunas/searchspace/evaluator.h"

namespace mcunas::searchspace {

struct Evaluation {
  ArchSpec arch;       // as proposed by Ask
  double score = 0.0;  // higher is better (e.g. accuracy); finite
};

struct StrategySettings {
  std::string name = "evolution";
  uint64_t seed = 0;
  // Tries per child before falling back to a random feasible architecture;
  // and per random sample before giving up (Ask then fails with
  // ResourceExhausted naming the feasible fraction it saw).
  int32_t max_attempts = 200;
  // Multi-objective selection (evolution only).
  bool pareto = false;

  // evolution and regularized_evolution.
  int32_t population = 100;
  double parent_ratio = 0.25;
  double mutation_ratio = 0.5;
  double mutation_probability = 0.1;
  int32_t sample_size = 25;  // regularized_evolution's tournament

  // rl.
  double learning_rate = 0.3;
  double baseline_decay = 0.9;  // baseline <- d * baseline + (1 - d) * score
  double entropy_weight = 0.001;
};

class SearchStrategy {
 public:
  virtual ~SearchStrategy() = default;

  // Proposes `n` feasible architectures, not proposed before unless the
  // strategy could not find a new one within max_attempts.
  virtual absl::StatusOr<std::vector<ArchSpec>> Ask(int32_t n) = 0;
  // Scores for proposals of earlier Asks (each at most once, any order).
  // Fails with InvalidArgument on an unknown architecture or a non-finite
  // score; on failure nothing is recorded.
  virtual absl::Status Tell(const std::vector<Evaluation>& evaluations) = 0;

  virtual std::string SaveState() const = 0;
  // REQUIRES: the strategy was created with the same settings and
  // constraints as the one saved. Fails on a malformed state or one saved by
  // another strategy or seed.
  virtual absl::Status RestoreState(absl::string_view state) = 0;

  virtual const std::string& name() const = 0;
  // Evaluations told so far.
  virtual int64_t told() const = 0;
};

// Checks the settings, runs ProbeFeasibility (fails fast when the
// constraints cannot be met) and builds the named strategy. `evaluator`
// must outlive the strategy.
absl::StatusOr<std::unique_ptr<SearchStrategy>> CreateStrategy(
    const StrategySettings& settings, ArchEvaluator* evaluator);

}  // namespace mcunas::searchspace

#endif  // MCUNAS_SEARCHSPACE_STRATEGY_H_
