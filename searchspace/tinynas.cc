#include "mcunas/searchspace/tinynas.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "mcunas/common/status_macros.h"
#include "rng.h"

namespace mcunas::searchspace {

uint64_t SpaceCandidate::MacsQuantile(double q) const {
  if (feasible_macs.empty()) return 0;
  const size_t n = feasible_macs.size();
  const size_t rank = static_cast<size_t>(std::ceil(q * n));
  return feasible_macs[std::clamp<size_t>(rank, 1, n) - 1];
}

absl::StatusOr<SpaceSelection> SelectSpace(ArchEvaluator* evaluator,
                                           const SelectionOptions& options) {
  if (options.samples < 1) {
    return absl::InvalidArgumentError("SelectSpace: samples must be >= 1");
  }
  const SearchSpace& space = evaluator->space();
  SpaceSelection selection;
  for (int32_t r : space.def().resolutions) {
    for (int32_t w : space.def().widths_milli) {
      MCUNAS_ASSIGN_OR_RETURN(const SearchSpace sub, space.Restrict(r, w));
      SpaceCandidate c;
      c.resolution = r;
      c.width_milli = w;
      // One stream per (W, R), so adding a width does not change the
      // samples of the others.
      Rng rng(options.seed ^ (static_cast<uint64_t>(r) << 32) ^
              static_cast<uint64_t>(w));
      double sum = 0.0;
      for (int32_t i = 0; i < options.samples; ++i) {
        MCUNAS_ASSIGN_OR_RETURN(
            const Candidate cand,
            evaluator->Evaluate(sub.Decode(sub.SampleGenome(rng))));
        ++c.sampled;
        if (!cand.feasible) continue;
        c.feasible_macs.push_back(cand.metrics.macs);
        sum += static_cast<double>(cand.metrics.macs);
      }
      std::sort(c.feasible_macs.begin(), c.feasible_macs.end());
      c.feasible = static_cast<int32_t>(c.feasible_macs.size());
      c.feasible_fraction = static_cast<double>(c.feasible) / c.sampled;
      c.mean_macs = c.feasible > 0 ? sum / c.feasible : 0.0;
      selection.candidates.push_back(std::move(c));
    }
  }
  for (size_t i = 0; i < selection.candidates.size(); ++i) {
    const SpaceCandidate& c = selection.candidates[i];
    if (c.feasible == 0) continue;
    if (selection.best < 0) {
      selection.best = static_cast<int32_t>(i);
      continue;
    }
    const SpaceCandidate& b = selection.candidates[selection.best];
    if (c.mean_macs > b.mean_macs ||
        (c.mean_macs == b.mean_macs &&
         c.feasible_fraction > b.feasible_fraction)) {
      selection.best = static_cast<int32_t>(i);
    }
  }
  if (selection.best < 0) {
    // Nothing sampled fits: let the probe name the unreachable constraint.
    MCUNAS_RETURN_IF_ERROR(evaluator->ProbeFeasibility(options.seed).status());
    return absl::FailedPreconditionError(
        "no sampled architecture of any (W, R) meets the constraints; "
        "sample more per candidate");
  }
  return selection;
}

std::string FormatSelection(const SpaceSelection& selection) {
  std::string out =
      absl::StrFormat("  %-5s %-5s %9s %10s | %-40s\n", "R", "W", "feasible",
                      "mean MACs", "feasible MACs (M) at CDF 10/25/50/75/90%");
  for (size_t i = 0; i < selection.candidates.size(); ++i) {
    const SpaceCandidate& c = selection.candidates[i];
    std::string cdf = "-";
    if (c.feasible > 0) {
      cdf.clear();
      for (double q : {0.1, 0.25, 0.5, 0.75, 0.9}) {
        absl::StrAppend(&cdf, cdf.empty() ? "" : " ",
                        absl::StrFormat("%.2f", c.MacsQuantile(q) / 1e6));
      }
    }
    absl::StrAppend(
        &out,
        absl::StrFormat("%s %-5d %-5s %8.1f%% %9.2fM | %s\n",
                        static_cast<int32_t>(i) == selection.best ? "*" : " ",
                        c.resolution, FormatWidth(c.width_milli),
                        100.0 * c.feasible_fraction, c.mean_macs / 1e6, cdf));
  }
  return out;
}

}  // namespace mcunas::searchspace
