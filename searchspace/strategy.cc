// The strategy factory and StrategyBase: feasible sampling with bounded
// retries, proposal bookkeeping and the common saved state.
#include <algorithm>
#include <cmath>
#include <optional>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "json_util.h"
#include "mcunas/common/status_macros.h"
#include "strategy_base.h"

namespace mcunas::searchspace {
namespace {

absl::Status CheckSettings(const StrategySettings& s) {
  const auto fail = [&](const std::string& message) {
    return absl::InvalidArgumentError(
        absl::StrCat("strategy '", s.name, "': ", message));
  };
  if (s.max_attempts < 1) return fail("max_attempts must be >= 1");
  if (s.population < 2) return fail("population must be >= 2");
  if (!(s.parent_ratio > 0.0 && s.parent_ratio < 1.0)) {
    return fail("parent_ratio must be in (0, 1)");
  }
  if (!(s.mutation_ratio >= 0.0 && s.mutation_ratio <= 1.0)) {
    return fail("mutation_ratio must be in [0, 1]");
  }
  if (!(s.mutation_probability > 0.0 && s.mutation_probability <= 1.0)) {
    return fail("mutation_probability must be in (0, 1]");
  }
  if (s.name == "regularized_evolution" &&
      (s.sample_size < 1 || s.sample_size > s.population)) {
    return fail("sample_size must be in 1..population");
  }
  if (!(s.learning_rate > 0.0) || !std::isfinite(s.learning_rate)) {
    return fail("learning_rate must be positive");
  }
  if (!(s.baseline_decay >= 0.0 && s.baseline_decay < 1.0)) {
    return fail("baseline_decay must be in [0, 1)");
  }
  if (!(s.entropy_weight >= 0.0) || !std::isfinite(s.entropy_weight)) {
    return fail("entropy_weight must be >= 0");
  }
  if (s.pareto && s.name != "evolution" && s.name != "random") {
    return fail("pareto mode is supported by 'evolution' and 'random'");
  }
  return absl::OkStatus();
}

std::string HashHex(uint64_t hash) { return absl::StrFormat("%016x", hash); }

}  // namespace

absl::StatusOr<std::unique_ptr<SearchStrategy>> CreateStrategy(
    const StrategySettings& settings, ArchEvaluator* evaluator) {
  using Factory = std::unique_ptr<SearchStrategy> (*)(
      const StrategySettings&, ArchEvaluator*, std::vector<ArchSpec>);
  const std::pair<const char*, Factory> kFactories[] = {
      {"random", MakeRandomSearch},
      {"evolution", MakeEvolution},
      {"regularized_evolution", MakeRegularizedEvolution},
      {"rl", MakeReinforce},
  };
  Factory factory = nullptr;
  for (const auto& [name, f] : kFactories) {
    if (settings.name == name) factory = f;
  }
  if (factory == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown strategy '", settings.name,
                     "' (have: random, evolution, regularized_evolution, rl)"));
  }
  MCUNAS_RETURN_IF_ERROR(CheckSettings(settings));
  MCUNAS_ASSIGN_OR_RETURN(std::vector<ArchSpec> pool,
                          evaluator->ProbeFeasibility(settings.seed));
  return factory(settings, evaluator, std::move(pool));
}

StrategyBase::StrategyBase(std::string name, const StrategySettings& settings,
                           ArchEvaluator* evaluator,
                           std::vector<ArchSpec> feasible_pool)
    : name_(std::move(name)),
      settings_(settings),
      evaluator_(evaluator),
      feasible_pool_(std::move(feasible_pool)),
      rng_(settings.seed) {}

absl::StatusOr<Genome> StrategyBase::FirstFeasible(
    const std::function<Genome()>& make, bool* found) {
  // New and feasible wins. A repeat costs no metrics (it is cached) but
  // retrying for novelty is capped separately, since a converged population
  // makes mostly repeats.
  const int32_t max_repeats = std::min(settings_.max_attempts, 20);
  std::optional<Genome> repeat;
  int32_t repeats = 0;
  *found = false;
  for (int32_t i = 0; i < settings_.max_attempts && repeats < max_repeats;
       ++i) {
    Genome g = make();
    const ArchSpec arch = space().Decode(g);
    const uint64_t hash = ArchHash(arch);
    const bool is_new = seen_.count(hash) == 0;
    if (!is_new && repeat) {
      ++repeats;
      continue;
    }
    MCUNAS_ASSIGN_OR_RETURN(const Candidate c,
                            evaluator_->Evaluate(arch, hash));
    if (!c.feasible) continue;
    if (is_new) {
      *found = true;
      return g;
    }
    ++repeats;
    repeat = std::move(g);
  }
  if (repeat) {
    *found = true;
    return *std::move(repeat);
  }
  return Genome{};
}

absl::StatusOr<Genome> StrategyBase::SampleFeasible() {
  bool found = false;
  MCUNAS_ASSIGN_OR_RETURN(
      Genome g,
      FirstFeasible([&] { return space().SampleGenome(rng_); }, &found));
  if (found) return g;
  return absl::ResourceExhaustedError(absl::StrCat(
      "no feasible architecture in ", settings_.max_attempts,
      " uniform samples; the feasible part of space '", space().def().name,
      "' is too small for uniform sampling (raise max_attempts or relax the "
      "constraints)"));
}

absl::StatusOr<Genome> StrategyBase::FeasibleChild(
    const std::function<Genome()>& make) {
  bool found = false;
  MCUNAS_ASSIGN_OR_RETURN(Genome g, FirstFeasible(make, &found));
  if (found) return g;
  absl::StatusOr<Genome> sampled = SampleFeasible();
  if (sampled.ok()) return sampled;
  // The probe found these; a strategy never stalls while one exists.
  return space().EncodeGenome(
      feasible_pool_[rng_.Below(static_cast<int32_t>(feasible_pool_.size()))]);
}

Genome StrategyBase::Mutate(const Genome& parent, double probability) {
  Genome child = parent;
  const std::vector<Decision>& decisions = space().decisions();
  for (size_t d = 0; d < decisions.size(); ++d) {
    if (decisions[d].choices > 1 && rng_.Bernoulli(probability)) {
      child[d] = rng_.Below(decisions[d].choices);
    }
  }
  return child;
}

Genome StrategyBase::Crossover(const Genome& a, const Genome& b) {
  Genome child(a.size());
  for (size_t d = 0; d < child.size(); ++d) {
    // Selected with a mask, not a branch: the draw is a coin flip, so a
    // branch on it would be mispredicted half the time.
    const int32_t from_b = -static_cast<int32_t>(rng_.Bernoulli(0.5));
    child[d] = (a[d] & ~from_b) | (b[d] & from_b);
  }
  return child;
}

absl::StatusOr<std::vector<ArchSpec>> StrategyBase::Ask(int32_t n) {
  if (n < 0) return absl::InvalidArgumentError("Ask: n must be >= 0");
  std::vector<ArchSpec> out;
  for (int32_t i = 0; i < n; ++i) {
    MCUNAS_ASSIGN_OR_RETURN(Genome g, Propose());
    Member m;
    ArchSpec arch = space().Decode(g);
    m.hash = ArchHash(arch);
    MCUNAS_ASSIGN_OR_RETURN(m.candidate, evaluator_->Evaluate(arch, m.hash));
    m.genome = std::move(g);
    seen_.insert(m.hash);
    pending_.emplace(m.hash, std::move(m));
    out.push_back(std::move(arch));
  }
  return out;
}

absl::Status StrategyBase::Tell(const std::vector<Evaluation>& evaluations) {
  // Validate everything first, so a bad batch records nothing.
  std::map<uint64_t, int32_t> uses;
  std::vector<uint64_t> hashes;
  for (const Evaluation& e : evaluations) {
    const uint64_t h = ArchHash(e.arch);
    if (static_cast<int32_t>(pending_.count(h)) <= uses[h]++) {
      return absl::InvalidArgumentError(
          absl::StrCat("Tell: \"", CanonicalString(e.arch),
                       "\" was not proposed, or was already told"));
    }
    if (!std::isfinite(e.score)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Tell: score of \"", CanonicalString(e.arch), "\" is not finite"));
    }
    hashes.push_back(h);
  }
  for (size_t i = 0; i < evaluations.size(); ++i) {
    const auto it = pending_.find(hashes[i]);
    Member m = std::move(it->second);
    pending_.erase(it);
    m.score = evaluations[i].score;
    ++told_;
    Learn(m);
  }
  return absl::OkStatus();
}

Json StrategyBase::MemberToJson(const Member& m) {
  return Json{{"genome", m.genome}, {"score", m.score}};
}

absl::StatusOr<Member> StrategyBase::MemberFromJson(const Json& j) {
  Member m;
  MCUNAS_ASSIGN_OR_RETURN(const Json* genome, ReadArray(j, "genome"));
  MCUNAS_ASSIGN_OR_RETURN(m.genome, ReadInts(*genome, "genome"));
  MCUNAS_ASSIGN_OR_RETURN(m.score, ReadDouble(j, "score"));
  const std::vector<Decision>& decisions = space().decisions();
  bool valid = m.genome.size() == decisions.size();
  for (size_t d = 0; valid && d < decisions.size(); ++d) {
    valid = m.genome[d] >= 0 && m.genome[d] < decisions[d].choices;
  }
  if (!valid) {
    return absl::InvalidArgumentError("a genome does not fit this space");
  }
  const ArchSpec arch = space().Decode(m.genome);
  m.hash = ArchHash(arch);
  MCUNAS_ASSIGN_OR_RETURN(m.candidate, evaluator_->Evaluate(arch));
  return m;
}

std::string StrategyBase::SaveState() const {
  Json pending = Json::array();
  for (const auto& [hash, m] : pending_) pending.push_back(MemberToJson(m));
  Json seen = Json::array();
  for (uint64_t h : seen_) seen.push_back(HashHex(h));
  const Json state = {{"strategy", name_},
                      {"seed", HashHex(settings_.seed)},
                      {"rng", rng_.Save()},
                      {"told", told_},
                      {"pending", std::move(pending)},
                      {"seen", std::move(seen)},
                      {"own", SaveOwnState()}};
  return state.dump();
}

absl::Status StrategyBase::RestoreState(absl::string_view text) {
  const auto fail = [&](const absl::Status& s) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot restore strategy '", name_, "': ", s.message()));
  };
  absl::StatusOr<Json> parsed = ParseJson(text, "saved state");
  if (!parsed.ok()) return fail(parsed.status());
  const Json& j = *parsed;
  // Everything is read into locals first; the strategy changes only once
  // the whole state has been accepted.
  absl::Status s = [&]() -> absl::Status {
    MCUNAS_ASSIGN_OR_RETURN(const std::string name, ReadString(j, "strategy"));
    MCUNAS_ASSIGN_OR_RETURN(const std::string seed, ReadString(j, "seed"));
    if (name != name_ || seed != HashHex(settings_.seed)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "it was saved by '", name, "' with seed ", seed, ", this is '", name_,
          "' with seed ", HashHex(settings_.seed)));
    }
    MCUNAS_ASSIGN_OR_RETURN(const std::string rng_state, ReadString(j, "rng"));
    Rng rng(0);
    MCUNAS_RETURN_IF_ERROR(rng.Restore(rng_state));
    MCUNAS_ASSIGN_OR_RETURN(const int64_t told, ReadInt(j, "told"));
    MCUNAS_ASSIGN_OR_RETURN(const Json* pending_json, ReadArray(j, "pending"));
    std::multimap<uint64_t, Member> pending;
    for (const Json& p : *pending_json) {
      MCUNAS_ASSIGN_OR_RETURN(Member m, MemberFromJson(p));
      pending.emplace(m.hash, std::move(m));
    }
    MCUNAS_ASSIGN_OR_RETURN(const Json* seen_json, ReadArray(j, "seen"));
    std::set<uint64_t> seen;
    for (const Json& h : *seen_json) {
      uint64_t v = 0;
      if (!h.is_string() || !absl::SimpleHexAtoi(h.get<std::string>(), &v)) {
        return absl::InvalidArgumentError("'seen' must hold hex hashes");
      }
      seen.insert(v);
    }
    const auto own = j.find("own");
    if (own == j.end()) return absl::InvalidArgumentError("missing 'own'");
    MCUNAS_RETURN_IF_ERROR(RestoreOwnState(*own));
    rng_ = rng;
    told_ = told;
    pending_ = std::move(pending);
    seen_ = std::move(seen);
    return absl::OkStatus();
  }();
  if (!s.ok()) return fail(s);
  return absl::OkStatus();
}

}  // namespace mcunas::searchspace
