// Search benchmarks (see docs/benchmarks.md, "Search"):
//   - one exact constraint check: ComputeArchMetrics (network shapes, the
//     engine's in-place rule, greedy planner, blob layout) of an uncached
//     architecture;
//   - the acceptance run: evolution with population 100 for 500 generations
//     on the whole fashion_mnist space under SRAM, flash and latency limits,
//     with log(MACs) as a cheap stand-in fitness (it pushes the population
//     to the constraint boundary, so many children are infeasible and
//     retried: every one is checked with the planner).
#include <cmath>
#include <memory>
#include <vector>

#include "benchmark/benchmark.h"
#include "mcunas/searchspace/evaluator.h"
#include "mcunas/searchspace/network.h"
#include "mcunas/searchspace/strategy.h"

namespace mcunas::searchspace {
namespace {

SearchSpace Space(const char* name) {
  absl::StatusOr<SearchSpace> space = SearchSpace::Builtin(name);
  if (!space.ok()) std::abort();
  return *std::move(space);
}

void BM_ExactMetrics(benchmark::State& state, const char* name) {
  const SearchSpace space = Space(name);
  // Distinct architectures, built outside the timed loop.
  ArchEvaluator sampler(space, {});
  StrategySettings settings;
  settings.name = "random";
  auto random = CreateStrategy(settings, &sampler);
  if (!random.ok()) std::abort();
  absl::StatusOr<std::vector<ArchSpec>> archs = (*random)->Ask(1000);
  if (!archs.ok()) std::abort();
  size_t i = 0;
  for (auto _ : state) {
    absl::StatusOr<ArchMetrics> m =
        ComputeArchMetrics(space, (*archs)[i++ % archs->size()]);
    benchmark::DoNotOptimize(m);
  }
}
BENCHMARK_CAPTURE(BM_ExactMetrics, fashion_mnist, "fashion_mnist")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_ExactMetrics, mcunet, "mcunet")
    ->Unit(benchmark::kMicrosecond);

void BM_Evolution100x500(benchmark::State& state) {
  const SearchSpace space = Space("fashion_mnist");
  int64_t checks = 0, told = 0;
  for (auto _ : state) {
    ArchEvaluator evaluator(
        space,
        {.max_sram_bytes = 96 << 10,
         .max_flash_bytes = 512 << 10,
         .max_latency = 8.0},
        [](const ArchSpec&, const ArchMetrics& m) -> absl::StatusOr<double> {
          return m.macs / 1e6;  // "ms" at 1 MAC/ns
        });
    StrategySettings settings;
    settings.name = "evolution";
    settings.seed = 1;
    settings.population = 100;
    auto search = CreateStrategy(settings, &evaluator);
    if (!search.ok()) {
      state.SkipWithError(std::string(search.status().message()).c_str());
      return;
    }
    // The initial population, then 500 generations of 75 children.
    const int64_t budget = 100 + 500 * 75;
    while ((*search)->told() < budget) {
      absl::StatusOr<std::vector<ArchSpec>> archs = (*search)->Ask(75);
      if (!archs.ok()) {
        state.SkipWithError(std::string(archs.status().message()).c_str());
        return;
      }
      std::vector<Evaluation> results;
      for (const ArchSpec& a : *archs) {
        absl::StatusOr<Candidate> c = evaluator.Evaluate(a);
        results.push_back({a, c.ok() ? std::log(double(c->metrics.macs)) : 0});
      }
      if (!(*search)->Tell(results).ok()) std::abort();
    }
    checks = evaluator.computed();
    told = (*search)->told();
  }
  state.counters["checks"] = static_cast<double>(checks);
  state.counters["evaluations"] = static_cast<double>(told);
}
BENCHMARK(BM_Evolution100x500)->Unit(benchmark::kSecond)->Iterations(1);

}  // namespace
}  // namespace mcunas::searchspace

BENCHMARK_MAIN();
