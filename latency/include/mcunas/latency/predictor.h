// Predicts a candidate's latency on a board from its latency table: the sum
// of its ops' entries plus an overhead fitted on whole-model measurements
// (the interpreter's per-op dispatch and the per-inference fixed cost,
// which timing ops one by one does not see):
//
//   predicted = sum of op entries + per_op * ops + fixed
//
// For counted units (emulated instructions, cycles), (per_op, fixed) are a
// Theil-Sen fit (median of pairwise slopes, median intercept) of
// measured - sum against the op count over the table's fit models; with
// fewer than two of them, or all with the same op count, per_op is 0. For
// wall-clock time per_op is 0 and fixed the median residual: the op counts
// of a space span a narrow range (48-76 in fashion_mnist), so a slope
// fitted through noisy times is mostly noise, multiplied by the op count
// (a table built under load once fitted -32 us per op and +2.3 ms per
// inference), while the real per-op dispatch cost on a host is tens of
// nanoseconds.
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
  double per_op = 0;
  double fixed = 0;
  int32_t fit_models = 0;  // measurements the fit used
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
  // architectures); the table's entries must cover them. `per_op_term`:
  // fit per_op too (counted units) or only fixed (wall clock).
  absl::StatusOr<Overhead> FitOverhead(
      const std::vector<ModelMeasurement>& models, bool per_op_term) const;

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
