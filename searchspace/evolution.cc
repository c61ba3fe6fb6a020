// Evolutionary strategies.
//
// Evolution (Once-for-All's): the first `population` proposals are uniform
// feasible samples. Once they are told, the best parent_ratio of them become
// the parents. Each generation then proposes population - parents children:
// mutation_ratio * population mutants of a random parent (each decision
// resampled with probability mutation_probability) and the rest uniform
// crossovers of two random parents; when that many children are told, the
// parents are re-selected from parents + children (elitist). Selection is by
// score, or with `pareto` by non-dominated rank and crowding (NSGA-II) on
// (score, latency, SRAM, flash). Children are asked ahead freely: the
// generation advances on what is told.
//
// Regularized (aging) evolution (Real et al. 2019): once `population`
// uniform samples are told, each child mutates the best of sample_size
// members drawn at random; each told child joins the population and the
// oldest member leaves.
#include <algorithm>
#include <deque>
#include <numeric>

#include "json_util.h"
#include "mcunas/common/status_macros.h"
#include "mcunas/searchspace/pareto.h"
#include "strategy_base.h"

namespace mcunas::searchspace {
namespace {

class Evolution final : public StrategyBase {
 public:
  Evolution(const StrategySettings& s, ArchEvaluator* evaluator,
            std::vector<ArchSpec> pool)
      : StrategyBase("evolution", s, evaluator, std::move(pool)) {
    parents_wanted_ = std::clamp<int32_t>(
        static_cast<int32_t>(std::lround(s.parent_ratio * s.population)), 1,
        s.population - 1);
    children_wanted_ = s.population - parents_wanted_;
    mutants_wanted_ = std::clamp<int32_t>(
        static_cast<int32_t>(std::lround(s.mutation_ratio * s.population)), 0,
        children_wanted_);
  }

 private:
  absl::StatusOr<Genome> Propose() override {
    if (parents_.empty()) {
      return FeasibleChild([&] { return space().SampleGenome(rng()); });
    }
    const int32_t slot = static_cast<int32_t>(child_slot_++ % children_wanted_);
    const int32_t n = static_cast<int32_t>(parents_.size());
    if (slot < mutants_wanted_) {
      return FeasibleChild([&] {
        return Mutate(parents_[rng().Below(n)].genome,
                      settings().mutation_probability);
      });
    }
    return FeasibleChild([&] {
      const Genome& a = parents_[rng().Below(n)].genome;
      const Genome& b = parents_[rng().Below(n)].genome;
      return Crossover(a, b);
    });
  }

  void Learn(const Member& member) override {
    std::vector<Member>& batch = parents_.empty() ? initial_ : children_;
    batch.push_back(member);
    const size_t wanted = parents_.empty()
                              ? static_cast<size_t>(settings().population)
                              : static_cast<size_t>(children_wanted_);
    if (batch.size() < wanted) return;
    std::vector<Member> pool = parents_;
    pool.insert(pool.end(), batch.begin(), batch.end());
    batch.clear();
    parents_ = Select(std::move(pool));
    child_slot_ = 0;
    ++generation_;
  }

  // The best parents_wanted_ of `pool`.
  std::vector<Member> Select(std::vector<Member> pool) const {
    std::vector<int32_t> order;
    if (settings().pareto) {
      std::vector<Point> points;
      for (const Member& m : pool) {
        points.push_back(ObjectivesOf(m.score, m.candidate));
      }
      order = SelectByRankAndCrowding(points, parents_wanted_);
    } else {
      order.resize(pool.size());
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
        return pool[a].score > pool[b].score;
      });
      order.resize(std::min<size_t>(order.size(), parents_wanted_));
    }
    std::vector<Member> chosen;
    for (int32_t i : order) chosen.push_back(std::move(pool[i]));
    return chosen;
  }

  static Json ListToJson(const std::vector<Member>& members) {
    Json list = Json::array();
    for (const Member& m : members) list.push_back(MemberToJson(m));
    return list;
  }
  absl::StatusOr<std::vector<Member>> ListFromJson(const Json& j,
                                                   const char* key) {
    MCUNAS_ASSIGN_OR_RETURN(const Json* list, ReadArray(j, key));
    std::vector<Member> members;
    for (const Json& m : *list) {
      MCUNAS_ASSIGN_OR_RETURN(Member member, MemberFromJson(m));
      members.push_back(std::move(member));
    }
    return members;
  }

  Json SaveOwnState() const override {
    return {{"initial", ListToJson(initial_)},
            {"parents", ListToJson(parents_)},
            {"children", ListToJson(children_)},
            {"child_slot", child_slot_},
            {"generation", generation_}};
  }
  absl::Status RestoreOwnState(const Json& j) override {
    MCUNAS_ASSIGN_OR_RETURN(std::vector<Member> initial,
                            ListFromJson(j, "initial"));
    MCUNAS_ASSIGN_OR_RETURN(std::vector<Member> parents,
                            ListFromJson(j, "parents"));
    MCUNAS_ASSIGN_OR_RETURN(std::vector<Member> children,
                            ListFromJson(j, "children"));
    MCUNAS_ASSIGN_OR_RETURN(const int64_t slot, ReadInt(j, "child_slot"));
    MCUNAS_ASSIGN_OR_RETURN(const int64_t generation, ReadInt(j, "generation"));
    initial_ = std::move(initial);
    parents_ = std::move(parents);
    children_ = std::move(children);
    child_slot_ = slot;
    generation_ = generation;
    return absl::OkStatus();
  }

  int32_t parents_wanted_ = 1;
  int32_t children_wanted_ = 1;
  int32_t mutants_wanted_ = 0;
  std::vector<Member> initial_;  // told before the first selection
  std::vector<Member> parents_;
  std::vector<Member> children_;  // told since the last selection
  int64_t child_slot_ = 0;        // children proposed since then
  int64_t generation_ = 0;
};

class RegularizedEvolution final : public StrategyBase {
 public:
  RegularizedEvolution(const StrategySettings& s, ArchEvaluator* evaluator,
                       std::vector<ArchSpec> pool)
      : StrategyBase("regularized_evolution", s, evaluator, std::move(pool)) {}

 private:
  absl::StatusOr<Genome> Propose() override {
    if (static_cast<int32_t>(population_.size()) < settings().population) {
      return FeasibleChild([&] { return space().SampleGenome(rng()); });
    }
    const int32_t n = static_cast<int32_t>(population_.size());
    const Member* best = nullptr;
    for (int32_t i = 0; i < settings().sample_size; ++i) {
      const Member& m = population_[rng().Below(n)];
      if (best == nullptr || m.score > best->score) best = &m;
    }
    const Genome parent = best->genome;
    return FeasibleChild(
        [&] { return Mutate(parent, settings().mutation_probability); });
  }

  void Learn(const Member& member) override {
    population_.push_back(member);
    if (static_cast<int32_t>(population_.size()) > settings().population) {
      population_.pop_front();
    }
  }

  Json SaveOwnState() const override {
    Json list = Json::array();
    for (const Member& m : population_) list.push_back(MemberToJson(m));
    return {{"population", std::move(list)}};
  }
  absl::Status RestoreOwnState(const Json& j) override {
    MCUNAS_ASSIGN_OR_RETURN(const Json* list, ReadArray(j, "population"));
    std::deque<Member> population;
    for (const Json& m : *list) {
      MCUNAS_ASSIGN_OR_RETURN(Member member, MemberFromJson(m));
      population.push_back(std::move(member));
    }
    population_ = std::move(population);
    return absl::OkStatus();
  }

  std::deque<Member> population_;  // oldest first
};

}  // namespace

std::unique_ptr<SearchStrategy> MakeEvolution(const StrategySettings& settings,
                                              ArchEvaluator* evaluator,
                                              std::vector<ArchSpec> pool) {
  return std::make_unique<Evolution>(settings, evaluator, std::move(pool));
}

std::unique_ptr<SearchStrategy> MakeRegularizedEvolution(
    const StrategySettings& settings, ArchEvaluator* evaluator,
    std::vector<ArchSpec> pool) {
  return std::make_unique<RegularizedEvolution>(settings, evaluator,
                                                std::move(pool));
}

}  // namespace mcunas::searchspace
