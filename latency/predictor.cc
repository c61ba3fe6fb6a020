#include "mcunas/latency/predictor.h"

#include <unordered_set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "mcunas/common/status_macros.h"
#include "mcunas/devices/device.h"

namespace mcunas::latency {
namespace {

struct Line {
  double slope = 0;
  double intercept = 0;
};

// Theil-Sen: the slope is the median of the pairwise slopes and the
// intercept the median of y - slope * x, so an odd disturbed measurement
// cannot drag the line the way it drags least squares. Exact on exact data,
// as emulated counts are. With no two distinct x the slope is 0 (nothing
// separates it from the intercept).
Line TheilSen(const std::vector<double>& xs, const std::vector<double>& ys) {
  std::vector<double> slopes;
  for (size_t i = 0; i < xs.size(); ++i) {
    for (size_t j = i + 1; j < xs.size(); ++j) {
      if (xs[j] != xs[i]) slopes.push_back((ys[j] - ys[i]) / (xs[j] - xs[i]));
    }
  }
  Line line;
  line.slope =
      slopes.empty() ? 0.0 : devices::Summarize(std::move(slopes)).median;
  std::vector<double> intercepts;
  for (size_t i = 0; i < xs.size(); ++i) {
    intercepts.push_back(ys[i] - line.slope * xs[i]);
  }
  line.intercept = devices::Summarize(std::move(intercepts)).median;
  return line;
}

}  // namespace

LatencyPredictor::LatencyPredictor(const searchspace::SearchSpace& space,
                                   const std::vector<OpEntry>& entries,
                                   Overhead overhead)
    : space_(&space), table_(std::make_shared<Table>()) {
  for (const OpEntry& e : entries) table_->latency[e.signature] = e.median;
  table_->overhead = overhead;
}

absl::StatusOr<LatencyPredictor> LatencyPredictor::Load(
    const LutStore& store, const LutKey& key,
    const searchspace::SearchSpace& space) {
  MCUNAS_ASSIGN_OR_RETURN(const std::vector<OpEntry> entries,
                          store.OpEntries(key));
  if (entries.empty()) {
    MCUNAS_ASSIGN_OR_RETURN(const std::vector<std::string> builds,
                            store.BuildsWithEntries(key.board));
    std::string others =
        builds.empty() ? std::string("it has none for this board at all")
                       : absl::StrCat("it has tables for other engine builds (",
                                      absl::StrJoin(builds, ", "),
                                      "), which are never used for this one");
    return absl::FailedPreconditionError(
        absl::StrCat(store.path(), ": no latency table for board ", key.board,
                     " and engine build ", key.engine_build, "; ", others,
                     ". Run `mcunas-lut build ", key.board, "`"));
  }
  LatencyPredictor predictor(space, entries, Overhead{});
  MCUNAS_ASSIGN_OR_RETURN(const std::vector<ModelMeasurement> fits,
                          store.Models(key, kPurposeFit));
  MCUNAS_ASSIGN_OR_RETURN(const std::string unit, store.BoardUnit(key.board));
  const OverheadForm form =
      unit == devices::LatencyUnitName(devices::LatencyUnit::kNanoseconds)
          ? OverheadForm::kScale
          : OverheadForm::kPerOp;
  MCUNAS_ASSIGN_OR_RETURN(const Overhead overhead,
                          predictor.FitOverhead(fits, form));
  return LatencyPredictor(space, entries, overhead);
}

absl::StatusOr<double> LatencyPredictor::OpSum(
    const searchspace::Network& net) const {
  double sum = 0;
  std::vector<std::string> missing;
  std::unordered_set<OpSignature, OpSignatureHash> reported;
  for (const OpSignature& s : SignaturesOf(net)) {
    auto it = table_->latency.find(s);
    if (it != table_->latency.end()) {
      sum += it->second;
    } else if (reported.insert(s).second) {
      missing.push_back(s.Key());
    }
  }
  if (!missing.empty()) {
    return absl::NotFoundError(absl::StrCat(
        "latency table has no entry for ", missing.size(), " op signature",
        missing.size() == 1 ? "" : "s", ": ", absl::StrJoin(missing, "; "),
        " (build the table for this space: `mcunas-lut build`)"));
  }
  return sum;
}

absl::StatusOr<double> LatencyPredictor::Predict(
    const searchspace::Network& net) const {
  MCUNAS_ASSIGN_OR_RETURN(const double sum, OpSum(net));
  const Overhead& o = table_->overhead;
  return o.scale * sum + o.per_op * static_cast<double>(net.ops.size()) +
         o.fixed;
}

absl::StatusOr<double> LatencyPredictor::Predict(
    const searchspace::ArchSpec& arch) const {
  MCUNAS_ASSIGN_OR_RETURN(const searchspace::Network net,
                          searchspace::BuildNetwork(*space_, arch));
  absl::StatusOr<double> latency = Predict(net);
  if (!latency.ok()) {
    return absl::Status(latency.status().code(),
                        absl::StrCat(searchspace::CanonicalString(arch), ": ",
                                     latency.status().message()));
  }
  return latency;
}

searchspace::LatencyFunction LatencyPredictor::Function() const {
  LatencyPredictor self = *this;  // shares the table
  return [self](const searchspace::ArchSpec& arch,
                const searchspace::ArchMetrics&) { return self.Predict(arch); };
}

absl::StatusOr<Overhead> LatencyPredictor::FitOverhead(
    const std::vector<ModelMeasurement>& models, OverheadForm form) const {
  std::vector<double> sums, op_counts, measured;
  for (const ModelMeasurement& m : models) {
    MCUNAS_ASSIGN_OR_RETURN(const searchspace::ArchSpec arch,
                            space_->Parse(m.arch));
    MCUNAS_ASSIGN_OR_RETURN(const searchspace::Network net,
                            searchspace::BuildNetwork(*space_, arch));
    absl::StatusOr<double> sum = OpSum(net);
    if (!sum.ok()) {
      return absl::Status(
          sum.status().code(),
          absl::StrCat("fit model ", m.arch, ": ", sum.status().message()));
    }
    sums.push_back(*sum);
    op_counts.push_back(static_cast<double>(net.ops.size()));
    measured.push_back(m.median);
  }
  Overhead o;
  o.fit_models = static_cast<int32_t>(sums.size());
  if (sums.empty()) return o;
  if (form == OverheadForm::kPerOp) {
    // measured - sum = per_op * ops + fixed.
    std::vector<double> residuals;
    for (size_t i = 0; i < sums.size(); ++i) {
      residuals.push_back(measured[i] - sums[i]);
    }
    const Line line = TheilSen(op_counts, residuals);
    o.per_op = line.slope;
    o.fixed = line.intercept;
  } else {
    // measured = scale * sum + fixed.
    const Line line = TheilSen(sums, measured);
    o.scale = line.slope;
    o.fixed = line.intercept;
  }
  return o;
}

}  // namespace mcunas::latency
