// Predicts a candidate's latency on a board from its latency table: the sum
// of its ops' entries and an overhead fitted on whole-model measurements
// (what timing ops one by one inside micro-models does not see):
//
//   predicted = scale * sum of op entries + per_op * ops + fixed
//
// Both fits are Theil-Sen (median of pairwise slopes, median intercept)
// over the table's fit models, so one disturbed measurement cannot drag
// them:
// - counted units (emulated instructions, cycles): scale 1 and (per_op,
//   fixed) fitted to measured - sum against the op count. Counts are exact
//   and additive; what is left is the interpreter's per-op dispatch (minus
//   the timer reads op-by-op timing adds, so per_op may be negative) and
//   the per-inference fixed cost.
// - wall-clock time: per_op 0 and (scale, fixed) fitted to measured against
//   sum. An op inside a whole model runs a little slower than the same op
//   timed over and over in a small micro-model, whose weights and
//   activations stay in cache, so the gap grows with the work (about +5%
//   here), while per-op dispatch on a host is tens of nanoseconds. A slope
//   against the op count (48-76 in fashion_mnist, a narrow range) fitted
//   through noisy times was mostly noise (-32 us per op once).
//
//   MCUNAS_ASSIGN_OR_RETURN(LatencyPredictor p,
//                           LatencyPredictor::Load(*store, key, space));
//   MCUNAS_ASSIGN_OR_RETURN(double latency, p.Predict(arch));
//
// A missing signature is an error listing every missing one, never a zero.
// Immutable after Load; thread-safe to share (Function() copies share it).
#ifndef MCUNAS_LATENCY_PREDICTOR_H_
#define MCUNAS_LATENCY_PREDICTOR_H_

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "mcunas/latency/lut_store.h"
#include "mcunas/latency/op_signature.h"
#include "mcunas/searchspace/evaluator.h"
#include "mcunas/searchspace/network.h"
#include "mcunas/searchspace/search_space.h"

namespace mcunas::latency {

struct Overhead {
  double scale = 1;  // times the op sum
  double per_op = 0;
  double fixed = 0;
  int32_t fit_models = 0;  // measurements the fit used
};

// Which overhead terms are fitted (see the file comment).
enum class OverheadForm {
  kPerOp,  // counted units: per_op and fixed
  kScale,  // wall clock: scale and fixed
};

class LatencyPredictor {
 public:
  // The table for `key`, with its overhead fitted on the stored fit models
  // of `space` (which must outlive the predictor). FailedPrecondition when
  // the store has no entries for key — naming the engine builds it does
  // have for the board, if any, since a table from another build is never
  // used.
  static absl::StatusOr<LatencyPredictor> Load(
      const LutStore& store, const LutKey& key,
      const searchspace::SearchSpace& space);

  // From entries already in memory (tests, exported tables).
  LatencyPredictor(const searchspace::SearchSpace& space,
                   const std::vector<OpEntry>& entries, Overhead overhead);

  // Sum of the op entries of `net`. NotFound listing every missing
  // signature (each once) otherwise.
  absl::StatusOr<double> OpSum(const searchspace::Network& net) const;
  absl::StatusOr<double> Predict(const searchspace::Network& net) const;
  absl::StatusOr<double> Predict(const searchspace::ArchSpec& arch) const;

  // For ArchEvaluator: Predict, in the table's unit.
  searchspace::LatencyFunction Function() const;

  // Fits the overhead on `models` (whole-model measurements of this space's
  // architectures); the table's entries must cover them.
  absl::StatusOr<Overhead> FitOverhead(
      const std::vector<ModelMeasurement>& models, OverheadForm form) const;

  const Overhead& overhead() const { return table_->overhead; }
  size_t entries() const { return table_->latency.size(); }

 private:
  struct Table {
    std::unordered_map<OpSignature, double, OpSignatureHash> latency;
    Overhead overhead;
  };

  const searchspace::SearchSpace* space_;
  std::shared_ptr<Table> table_;
};

}  // namespace mcunas::latency

#endif  // MCUNAS_LATENCY_PREDICTOR_H_
