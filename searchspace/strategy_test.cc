#include "mcunas/searchspace/strategy.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "mcunas/searchspace/pareto.h"
#include "rng.h"

namespace mcunas::searchspace {
namespace {

// A separable objective with a planted optimum: every active decision adds
// table[d][choice]; each decision's best choice (drawn from `seed`) is worth
// 1, the others uniform in [0, 0.8). Scores are divided by the optimum
// (found per stage over its depths), so the best architecture scores 1.
class SyntheticObjective {
 public:
  SyntheticObjective(const SearchSpace& space, uint64_t seed) : space_(space) {
    Rng rng(seed);
    for (const Decision& d : space.decisions()) {
      std::vector<double> row(d.choices);
      for (double& v : row) v = 0.8 * rng.Uniform();
      row[rng.Below(d.choices)] = 1.0;
      table_.push_back(row);
    }
    // The optimum: R, W and every stage's best depth with its best blocks.
    const std::vector<Decision>& ds = space.decisions();
    double best = Max(0) + Max(1);
    size_t d = 2;
    for (const StageDef& st : space.def().stages) {
      const size_t depth_decision = d;
      const int32_t slots = st.depths.back();
      double stage_best = 0.0;
      for (size_t i = 0; i < st.depths.size(); ++i) {
        double v = table_[depth_decision][i];
        for (int32_t b = 0; b < st.depths[i]; ++b) {
          v +=
              Max(depth_decision + 1 + 2 * b) + Max(depth_decision + 2 + 2 * b);
        }
        stage_best = std::max(stage_best, v);
      }
      best += stage_best;
      d += 1 + 2 * slots;
    }
    EXPECT_EQ(d, ds.size());
    optimum_ = best;
  }

  double operator()(const ArchSpec& arch) const {
    const Genome g = space_.EncodeGenome(arch);
    double v = 0.0;
    for (size_t d = 0; d < g.size(); ++d) {
      if (space_.Active(g, d)) v += table_[d][g[d]];
    }
    return v / optimum_;
  }

 private:
  double Max(size_t d) const {
    return *std::max_element(table_[d].begin(), table_[d].end());
  }
  const SearchSpace& space_;
  std::vector<std::vector<double>> table_;
  double optimum_ = 1.0;
};

SearchSpace FashionSpace(int32_t r, int32_t w) {
  absl::StatusOr<SearchSpace> space = SearchSpace::Builtin("fashion_mnist");
  EXPECT_TRUE(space.ok()) << space.status();
  absl::StatusOr<SearchSpace> sub = space->Restrict(r, w);
  EXPECT_TRUE(sub.ok()) << sub.status();
  return *std::move(sub);
}

// Runs `budget` evaluations in batches of `batch`; returns the best score.
double RunSearch(const StrategySettings& settings, ArchEvaluator* evaluator,
                 const SyntheticObjective& objective, int32_t budget,
                 int32_t batch = 20) {
  absl::StatusOr<std::unique_ptr<SearchStrategy>> s =
      CreateStrategy(settings, evaluator);
  EXPECT_TRUE(s.ok()) << s.status();
  if (!s.ok()) return 0.0;
  double best = 0.0;
  while ((*s)->told() < budget) {
    const int32_t n =
        std::min<int32_t>(batch, budget - static_cast<int32_t>((*s)->told()));
    absl::StatusOr<std::vector<ArchSpec>> archs = (*s)->Ask(n);
    EXPECT_TRUE(archs.ok()) << archs.status();
    if (!archs.ok()) return best;
    std::vector<Evaluation> results;
    for (const ArchSpec& a : *archs) {
      results.push_back({a, objective(a)});
      best = std::max(best, results.back().score);
    }
    EXPECT_TRUE((*s)->Tell(results).ok());
  }
  return best;
}

StrategySettings Settings(const std::string& name, uint64_t seed) {
  StrategySettings s;
  s.name = name;
  s.seed = seed;
  if (name == "evolution") {
    s.population = 20;
    s.mutation_probability = 0.03;
  }
  return s;
}

// Acceptance: evolution and RL get within 1% of the optimum in 1,000
// evaluations and beat random search's median at the same budget (seeds
// 1..5, a different planted optimum per seed). Constraint checks run on
// every proposal (a generous SRAM budget that most of the space meets).
TEST(StrategyTest, EvolutionAndRlReachTheOptimumAndBeatRandom) {
  const SearchSpace space = FashionSpace(28, 500);
  constexpr int32_t kBudget = 1000;
  std::vector<double> random_best, evolution_best, rl_best;
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    const SyntheticObjective objective(space, 100 + seed);
    ArchEvaluator evaluator(space, {.max_sram_bytes = 256 << 10});
    random_best.push_back(
        RunSearch(Settings("random", seed), &evaluator, objective, kBudget));
    evolution_best.push_back(
        RunSearch(Settings("evolution", seed), &evaluator, objective, kBudget));
    rl_best.push_back(
        RunSearch(Settings("rl", seed), &evaluator, objective, kBudget));
  }
  std::vector<double> sorted = random_best;
  std::sort(sorted.begin(), sorted.end());
  const double random_median = sorted[sorted.size() / 2];
  for (size_t i = 0; i < evolution_best.size(); ++i) {
    SCOPED_TRACE(testing::Message() << "seed " << i + 1);
    EXPECT_GE(evolution_best[i], 0.99);
    EXPECT_GE(rl_best[i], 0.99);
    EXPECT_GT(evolution_best[i], random_median);
    EXPECT_GT(rl_best[i], random_median);
  }
  for (size_t i = 0; i < evolution_best.size(); ++i) {
    std::printf(
        "seed %zu: gap to optimum  random %.2f%%  evolution %.2f%%  "
        "rl %.2f%%\n",
        i + 1, 100 * (1 - random_best[i]), 100 * (1 - evolution_best[i]),
        100 * (1 - rl_best[i]));
  }
  std::printf("random median gap %.2f%%\n", 100 * (1 - random_median));
}

TEST(StrategyTest, RegularizedEvolutionImprovesOnRandom) {
  const SearchSpace space = FashionSpace(28, 500);
  const SyntheticObjective objective(space, 42);
  ArchEvaluator evaluator(space, {});
  StrategySettings s = Settings("regularized_evolution", 3);
  s.population = 20;
  s.sample_size = 5;
  s.mutation_probability = 0.03;
  const double regularized = RunSearch(s, &evaluator, objective, 1000);
  const double random =
      RunSearch(Settings("random", 3), &evaluator, objective, 1000);
  EXPECT_GT(regularized, random);
  EXPECT_GE(regularized, 0.93);
}

// Saves mid-search (with proposals outstanding), restores into a fresh
// strategy, and checks the rest of the run proposes exactly the same
// architectures as an uninterrupted one.
TEST(StrategyTest, SaveRestoreContinuesIdentically) {
  const SearchSpace space = FashionSpace(28, 500);
  const SyntheticObjective objective(space, 9);
  for (const char* name :
       {"random", "evolution", "regularized_evolution", "rl"}) {
    SCOPED_TRACE(name);
    StrategySettings settings = Settings(name, 11);
    settings.population = 20;
    settings.sample_size = 5;
    ArchEvaluator evaluator(space, {.max_sram_bytes = 200 << 10});
    const auto step = [&](SearchStrategy& s, std::vector<ArchSpec>* log) {
      absl::StatusOr<std::vector<ArchSpec>> archs = s.Ask(7);
      ASSERT_TRUE(archs.ok()) << archs.status();
      log->insert(log->end(), archs->begin(), archs->end());
      std::vector<Evaluation> results;
      for (const ArchSpec& a : *archs) results.push_back({a, objective(a)});
      ASSERT_TRUE(s.Tell(results).ok());
    };
    auto a = CreateStrategy(settings, &evaluator);
    ASSERT_TRUE(a.ok()) << a.status();
    std::vector<ArchSpec> uninterrupted;
    for (int i = 0; i < 12; ++i) step(**a, &uninterrupted);

    auto b = CreateStrategy(settings, &evaluator);
    ASSERT_TRUE(b.ok());
    std::vector<ArchSpec> resumed;
    for (int i = 0; i < 5; ++i) step(**b, &resumed);
    // A crash after an Ask, before its Tell.
    absl::StatusOr<std::vector<ArchSpec>> outstanding = (*b)->Ask(7);
    ASSERT_TRUE(outstanding.ok());
    resumed.insert(resumed.end(), outstanding->begin(), outstanding->end());
    const std::string state = (*b)->SaveState();
    b->reset();

    ArchEvaluator fresh_evaluator(space, {.max_sram_bytes = 200 << 10});
    auto c = CreateStrategy(settings, &fresh_evaluator);
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE((*c)->RestoreState(state).ok());
    std::vector<Evaluation> late;
    for (const ArchSpec& a2 : *outstanding) late.push_back({a2, objective(a2)});
    ASSERT_TRUE((*c)->Tell(late).ok());
    for (int i = 6; i < 12; ++i) step(**c, &resumed);
    ASSERT_EQ(resumed.size(), uninterrupted.size());
    for (size_t i = 0; i < resumed.size(); ++i) {
      EXPECT_EQ(CanonicalString(resumed[i]), CanonicalString(uninterrupted[i]))
          << "proposal " << i;
    }
  }
}

TEST(StrategyTest, RestoreRejectsAnotherStrategysState) {
  const SearchSpace space = FashionSpace(28, 500);
  ArchEvaluator evaluator(space, {});
  auto evo = CreateStrategy(Settings("evolution", 1), &evaluator);
  auto rl = CreateStrategy(Settings("rl", 1), &evaluator);
  ASSERT_TRUE(evo.ok() && rl.ok());
  const absl::Status s = (*rl)->RestoreState((*evo)->SaveState());
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("saved by 'evolution'"), std::string::npos) << s;
  EXPECT_FALSE((*rl)->RestoreState("{not json").ok());
}

TEST(StrategyTest, TellRejectsUnknownArchitectures) {
  const SearchSpace space = FashionSpace(28, 500);
  ArchEvaluator evaluator(space, {});
  auto s = CreateStrategy(Settings("random", 1), &evaluator);
  ASSERT_TRUE(s.ok());
  absl::StatusOr<std::vector<ArchSpec>> archs = (*s)->Ask(2);
  ASSERT_TRUE(archs.ok());
  EXPECT_TRUE((*s)->Tell({{(*archs)[0], 0.5}}).ok());
  const absl::Status again = (*s)->Tell({{(*archs)[0], 0.5}});
  EXPECT_EQ(again.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(again.message().find("already told"), std::string::npos);
  EXPECT_FALSE((*s)->Tell({{(*archs)[1], std::nan("")}}).ok());
  EXPECT_EQ((*s)->told(), 1);
}

TEST(StrategyTest, EveryProposalMeetsTheConstraints) {
  absl::StatusOr<SearchSpace> space = SearchSpace::Builtin("mcunet");
  ASSERT_TRUE(space.ok());
  const Constraints limits{.max_sram_bytes = 128 << 10,
                           .max_flash_bytes = 1 << 20};
  ArchEvaluator evaluator(*space, limits);
  for (const char* name :
       {"random", "evolution", "regularized_evolution", "rl"}) {
    StrategySettings settings = Settings(name, 5);
    settings.population = 20;
    settings.sample_size = 5;
    auto s = CreateStrategy(settings, &evaluator);
    ASSERT_TRUE(s.ok()) << s.status();
    for (int round = 0; round < 5; ++round) {
      absl::StatusOr<std::vector<ArchSpec>> archs = (*s)->Ask(10);
      ASSERT_TRUE(archs.ok()) << archs.status();
      std::vector<Evaluation> results;
      for (const ArchSpec& a : *archs) {
        absl::StatusOr<Candidate> c = evaluator.Evaluate(a);
        ASSERT_TRUE(c.ok());
        EXPECT_LE(c->metrics.peak_sram_bytes, limits.max_sram_bytes) << name;
        EXPECT_LE(c->metrics.flash_bytes, limits.max_flash_bytes) << name;
        results.push_back({a, static_cast<double>(c->metrics.macs)});
      }
      ASSERT_TRUE((*s)->Tell(results).ok());
    }
  }
}

// Acceptance: an unreachable SRAM budget is an error naming the constraint,
// in well under a second.
TEST(StrategyTest, InfeasibleConstraintsFailFast) {
  absl::StatusOr<SearchSpace> space = SearchSpace::Builtin("mcunet");
  ASSERT_TRUE(space.ok());
  ArchEvaluator evaluator(*space, {.max_sram_bytes = 8 << 10});
  const auto start = std::chrono::steady_clock::now();
  auto s = CreateStrategy(Settings("evolution", 1), &evaluator);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.status().message().find("peak SRAM <= 8.0 KiB is unreachable"),
            std::string::npos)
      << s.status();
  EXPECT_LT(seconds, 1.0);
  std::printf("infeasible 8 KiB SRAM reported in %.3f s: %s\n", seconds,
              std::string(s.status().message()).c_str());
}

TEST(StrategyTest, UnknownStrategyAndBadSettings) {
  const SearchSpace space = FashionSpace(28, 500);
  ArchEvaluator evaluator(space, {});
  EXPECT_FALSE(CreateStrategy(Settings("annealing", 1), &evaluator).ok());
  StrategySettings bad = Settings("rl", 1);
  bad.pareto = true;
  EXPECT_FALSE(CreateStrategy(bad, &evaluator).ok());
}

// Acceptance: in Pareto mode the front's hypervolume over (accuracy,
// latency, SRAM, flash) grows with the budget.
TEST(StrategyTest, ParetoHypervolumeGrowsWithBudget) {
  absl::StatusOr<SearchSpace> full = SearchSpace::Builtin("fashion_mnist");
  ASSERT_TRUE(full.ok());
  absl::StatusOr<SearchSpace> space = full->Restrict(28, 700);
  ASSERT_TRUE(space.ok());
  const SyntheticObjective objective(*space, 77);
  // Latency proxy: 1 ms per million MACs.
  ArchEvaluator evaluator(
      *space, {.max_sram_bytes = 128 << 10},
      [](const ArchSpec&, const ArchMetrics& m) -> absl::StatusOr<double> {
        return m.macs / 1e6;
      });
  StrategySettings settings = Settings("evolution", 4);
  settings.pareto = true;
  settings.population = 40;
  auto s = CreateStrategy(settings, &evaluator);
  ASSERT_TRUE(s.ok()) << s.status();
  const Point reference = {0.0, 50.0, 128.0 * 1024, 2.0 * 1024 * 1024};
  std::vector<Point> points;
  std::vector<double> volumes;
  for (int32_t budget : {100, 300, 1000}) {
    while ((*s)->told() < budget) {
      absl::StatusOr<std::vector<ArchSpec>> archs = (*s)->Ask(20);
      ASSERT_TRUE(archs.ok());
      std::vector<Evaluation> results;
      for (const ArchSpec& a : *archs) {
        results.push_back({a, objective(a)});
        absl::StatusOr<Candidate> c = evaluator.Evaluate(a);
        ASSERT_TRUE(c.ok());
        points.push_back(ObjectivesOf(results.back().score, *c));
      }
      ASSERT_TRUE((*s)->Tell(results).ok());
    }
    volumes.push_back(Hypervolume(points, reference));
    std::printf("budget %d: front %zu, hypervolume %.6g\n", budget,
                ParetoFront(points).size(), volumes.back());
  }
  EXPECT_GT(volumes[1], volumes[0]);
  EXPECT_GT(volumes[2], volumes[1]);
}

}  // namespace
}  // namespace mcunas::searchspace
