#include "mcunas/searchspace/evaluator.h"

#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "mcunas/common/status_macros.h"
#include "rng.h"

namespace mcunas::searchspace {
namespace {

// The smallest value seen for one constrained quantity, and where.
struct Smallest {
  double value = std::numeric_limits<double>::infinity();
  ArchSpec arch;
  void Offer(double v, const ArchSpec& a) {
    if (v < value) {
      value = v;
      arch = a;
    }
  }
};

}  // namespace

std::string FormatBytes(uint64_t bytes) {
  return absl::StrFormat("%.1f KiB", bytes / 1024.0);
}

ArchEvaluator::ArchEvaluator(const SearchSpace& space, Constraints constraints,
                             LatencyFunction latency)
    : space_(space), constraints_(constraints), latency_(std::move(latency)) {}

absl::StatusOr<Candidate> ArchEvaluator::Evaluate(const ArchSpec& arch,
                                                  uint64_t hash) {
  const auto it = cache_.find(hash);
  if (it != cache_.end()) return it->second;
  Candidate c;
  MCUNAS_ASSIGN_OR_RETURN(c.metrics, ComputeArchMetrics(space_, arch));
  if (latency_) {
    MCUNAS_ASSIGN_OR_RETURN(c.latency, latency_(arch, c.metrics));
  }
  const Constraints& k = constraints_;
  c.feasible =
      (k.max_sram_bytes == 0 ||
       c.metrics.peak_sram_bytes <= k.max_sram_bytes) &&
      (k.max_flash_bytes == 0 || c.metrics.flash_bytes <= k.max_flash_bytes) &&
      (k.max_latency <= 0.0 || c.latency <= k.max_latency);
  ++computed_;
  // Bounded memory for very long searches: start over rather than grow
  // without limit (entries are cheap to recompute).
  if (cache_.size() >= (1u << 22)) cache_.clear();
  cache_.emplace(hash, c);
  return c;
}

absl::StatusOr<std::vector<ArchSpec>> ArchEvaluator::ProbeFeasibility(
    uint64_t seed, int32_t random_samples, int32_t enough) {
  if (constraints_.max_latency > 0.0 && !latency_) {
    return absl::InvalidArgumentError(
        "a latency limit needs a latency function");
  }
  std::vector<ArchSpec> feasible;
  Smallest sram, flash, latency;
  int32_t checked = 0;
  const auto check = [&](const ArchSpec& arch) -> absl::Status {
    MCUNAS_ASSIGN_OR_RETURN(const Candidate c, Evaluate(arch));
    ++checked;
    sram.Offer(c.metrics.peak_sram_bytes, arch);
    flash.Offer(c.metrics.flash_bytes, arch);
    latency.Offer(c.latency, arch);
    if (c.feasible) feasible.push_back(arch);
    return absl::OkStatus();
  };
  const SpaceDef& def = space_.def();
  for (int32_t r : def.resolutions) {
    for (int32_t w : def.widths_milli) {
      MCUNAS_RETURN_IF_ERROR(check(space_.Smallest(r, w)));
    }
  }
  Rng rng(seed ^ 0x9e3779b97f4a7c15ull);
  for (int32_t i = 0;
       i < random_samples && static_cast<int32_t>(feasible.size()) < enough;
       ++i) {
    MCUNAS_RETURN_IF_ERROR(check(space_.Decode(space_.SampleGenome(rng))));
  }
  if (!feasible.empty()) return feasible;

  const Constraints& k = constraints_;
  std::vector<std::string> unreachable;
  const auto report = [&](const char* what, const std::string& limit,
                          const std::string& seen, const Smallest& s) {
    unreachable.push_back(absl::StrCat(
        what, " <= ", limit, " is unreachable: the smallest seen is ", seen,
        " (", CanonicalString(s.arch), ")"));
  };
  if (k.max_sram_bytes > 0 && sram.value > k.max_sram_bytes) {
    report("peak SRAM", FormatBytes(k.max_sram_bytes),
           FormatBytes(static_cast<uint64_t>(sram.value)), sram);
  }
  if (k.max_flash_bytes > 0 && flash.value > k.max_flash_bytes) {
    report("flash", FormatBytes(k.max_flash_bytes),
           FormatBytes(static_cast<uint64_t>(flash.value)), flash);
  }
  if (k.max_latency > 0.0 && latency.value > k.max_latency) {
    report("latency", absl::StrCat(k.max_latency), absl::StrCat(latency.value),
           latency);
  }
  if (unreachable.empty()) {
    unreachable.push_back(
        "each limit alone is met by some candidate, but none meets all "
        "of them together");
  }
  return absl::FailedPreconditionError(
      absl::StrCat("no architecture in space '", def.name,
                   "' meets the constraints (checked ", checked,
                   "): ", absl::StrJoin(unreachable, "; ")));
}

}  // namespace mcunas::searchspace
