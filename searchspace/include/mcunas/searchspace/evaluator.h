// Hard constraints (peak SRAM, flash, latency) and the evaluator that checks
// an architecture against them. Metrics come from ComputeArchMetrics (the
// engine's planner and blob layout, exact) and are cached by ArchHash;
// latency comes from a pluggable function (a LUT predictor, a measured
// table, a MACs proxy in tests).
//
// Before a search starts, ProbeFeasibility answers "is there anything to
// find?" in well under a second: it checks the smallest architecture of every
// (R, W) and a bounded number of random ones, and when none fits returns
// FailedPrecondition naming each constraint that no candidate met and the
// smallest value seen for it, e.g.
//   no architecture in space 'fashion_mnist' meets the constraints (checked
//   1040): peak SRAM <= 8.0 KiB is unreachable: the smallest seen is
//   12.5 KiB (r16-w0.3:k3e1|k3e3,k3e3|...)
//
// The evaluator is not thread-safe (its cache is unguarded); use one per
// search.
#ifndef MCUNAS_SEARCHSPACE_EVALUATOR_H_
#define MCUNAS_SEARCHSPACE_EVALUATOR_H_

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "mcunas/searchspace/arch_spec.h"
#include "mcunas/searchspace/network.h"
#include "mcunas/searchspace/search_space.h"

namespace mcunas::searchspace {

// 0 means "no limit".
struct Constraints {
  uint64_t max_sram_bytes = 0;   // peak SRAM (the planned arena)
  uint64_t max_flash_bytes = 0;  // the model blob
  double max_latency = 0.0;      // in the latency function's unit
};

// Latency of an architecture in some unit (ms, cycles, emulated
// instructions). Must be deterministic for a given architecture.
using LatencyFunction =
    std::function<absl::StatusOr<double>(const ArchSpec&, const ArchMetrics&)>;

struct Candidate {
  ArchMetrics metrics;
  double latency = 0.0;  // 0 without a latency function
  bool feasible = false;
};

class ArchEvaluator {
 public:
  // `space` must outlive the evaluator. `latency` may be empty (then
  // max_latency must be 0).
  ArchEvaluator(const SearchSpace& space, Constraints constraints,
                LatencyFunction latency = nullptr);

  // Metrics, latency and feasibility of `arch` (cached). Fails when `arch`
  // is not in the space or the latency function fails.
  absl::StatusOr<Candidate> Evaluate(const ArchSpec& arch) {
    return Evaluate(arch, ArchHash(arch));
  }
  // The same, for a caller that has the hash. REQUIRES: hash ==
  // ArchHash(arch).
  absl::StatusOr<Candidate> Evaluate(const ArchSpec& arch, uint64_t hash);

  // Checks the smallest architecture of every (R, W) and up to
  // `random_samples` uniform ones (from `seed`), stopping at the first
  // `enough` feasible ones, which it returns. FailedPrecondition (see the
  // header comment) when none is feasible; InvalidArgument when a latency
  // limit is set without a latency function.
  absl::StatusOr<std::vector<ArchSpec>> ProbeFeasibility(
      uint64_t seed, int32_t random_samples = 1000, int32_t enough = 64);

  const Constraints& constraints() const { return constraints_; }
  const SearchSpace& space() const { return space_; }
  bool has_latency() const { return static_cast<bool>(latency_); }
  // Evaluations computed (not served from the cache).
  int64_t computed() const { return computed_; }
  size_t cache_size() const { return cache_.size(); }

 private:
  const SearchSpace& space_;
  Constraints constraints_;
  LatencyFunction latency_;
  // Keyed by ArchHash; a 64-bit collision would merge two architectures,
  // which at a million entries has odds of ~1e-8.
  std::unordered_map<uint64_t, Candidate> cache_;
  int64_t computed_ = 0;
};

// "12.5 KiB".
std::string FormatBytes(uint64_t bytes);

}  // namespace mcunas::searchspace

#endif  // MCUNAS_SEARCHSPACE_EVALUATOR_H_
