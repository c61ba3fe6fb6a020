// TinyNAS stage 1 (Lin et al., MCUNet 2020): choose the (W, R) sub-space to
// search. For every width multiplier W and resolution R of the space, sample
// architectures uniformly, keep those that meet the hard constraints, and
// pick the (W, R) whose feasible models have the largest mean MACs — more
// computation that still fits tends to mean more accuracy. Each candidate's
// feasible fraction and MACs distribution (its empirical CDF) is reported so
// a user can see why one won.
//
//   ArchEvaluator evaluator(space, {.max_sram_bytes = 320 << 10,
//                                   .max_flash_bytes = 1 << 20});
//   MCUNAS_ASSIGN_OR_RETURN(SpaceSelection sel,
//                           SelectSpace(&evaluator, {.samples = 1000}));
//   std::cout << FormatSelection(sel);
//   MCUNAS_ASSIGN_OR_RETURN(SearchSpace sub, space.Restrict(
//       sel.candidates[sel.best].resolution,
//       sel.candidates[sel.best].width_milli));
//
// Stateless functions; the evaluator is used (and its cache filled), so
// not thread-safe with respect to it.
#ifndef MCUNAS_SEARCHSPACE_TINYNAS_H_
#define MCUNAS_SEARCHSPACE_TINYNAS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "mcunas/searchspace/evaluator.h"

namespace mcunas::searchspace {

struct SpaceCandidate {
  int32_t resolution = 0;
  int32_t width_milli = 0;
  int32_t sampled = 0;
  int32_t feasible = 0;
  double feasible_fraction = 0.0;
  double mean_macs = 0.0;               // over the feasible samples; 0 if none
  std::vector<uint64_t> feasible_macs;  // sorted: the empirical CDF

  // The MACs below which a fraction q of the feasible models lie (nearest
  // rank). 0 when none is feasible. REQUIRES: 0 <= q <= 1.
  uint64_t MacsQuantile(double q) const;
};

struct SpaceSelection {
  std::vector<SpaceCandidate> candidates;  // R-major, as in the space
  int32_t best = -1;                       // index of the chosen candidate
};

struct SelectionOptions {
  int32_t samples = 1000;  // per (W, R)
  uint64_t seed = 0;
};

// Fails with FailedPrecondition (as ArchEvaluator::ProbeFeasibility words
// it) when no sample of any (W, R) is feasible. Ties on mean MACs go to the
// larger feasible fraction, then to the earlier candidate.
absl::StatusOr<SpaceSelection> SelectSpace(ArchEvaluator* evaluator,
                                           const SelectionOptions& options);

// A table: one row per (W, R) with its feasible fraction, mean MACs and MACs
// at the 10/25/50/75/90% points of its CDF; the chosen row marked "*".
std::string FormatSelection(const SpaceSelection& selection);

}  // namespace mcunas::searchspace

#endif  // MCUNAS_SEARCHSPACE_TINYNAS_H_
