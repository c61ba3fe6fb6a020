#include "mcunas/latency/speed_reference.h"

#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "mcunas/common/status_macros.h"
#include "mcunas/searchspace/search_space.h"
#include "measurable_model.h"

namespace mcunas::latency {
namespace {

// About 1 ms on this project's 2-core build machine: long enough to time
// well, short enough to run between every two repeats. Never change it
// silently: a table's baseline names the model, and another model makes old
// tables unusable.
constexpr char kReferenceSpace[] = "fashion_mnist";
constexpr char kReferenceArch[] =
    "r28-w0.5:k3e1|k3e4,k3e4|k5e4,k5e4|k3e4,k3e4|k5e4,k5e4|k3e4,k3e4|k3e4";
constexpr uint32_t kReferenceSeed = 1;

// Runs per reference timing; the median is taken.
constexpr int32_t kReferenceRuns = 5;
// Reference timings whose median becomes a new table's baseline.
constexpr int kBaselineTimings = 9;

}  // namespace

bool UsesSpeedReference(const devices::BoardProfile& board) {
  return board.latency_unit == devices::LatencyUnit::kNanoseconds;
}

absl::StatusOr<std::unique_ptr<SpeedReference>> SpeedReference::ForTable(
    LutStore& store, const LutKey& key, devices::Device& device) {
  std::unique_ptr<SpeedReference> reference(new SpeedReference());
  {
    MCUNAS_ASSIGN_OR_RETURN(const searchspace::SearchSpace space,
                            searchspace::SearchSpace::Builtin(kReferenceSpace));
    MCUNAS_ASSIGN_OR_RETURN(const searchspace::ArchSpec arch,
                            space.Parse(kReferenceArch));
    MCUNAS_ASSIGN_OR_RETURN(const searchspace::Network net,
                            searchspace::BuildNetwork(space, arch));
    MCUNAS_ASSIGN_OR_RETURN(MeasurableModel model,
                            MakeMeasurable(net, kReferenceSeed));
    reference->id_ =
        absl::StrFormat("%s@%016x", kReferenceArch,
                        searchspace::Fnv1a64(absl::string_view(
                            reinterpret_cast<const char*>(model.blob.data()),
                            model.blob.size())));
    reference->blob_ = std::move(model.blob);
    reference->inputs_ = std::move(model.inputs);
  }

  MCUNAS_ASSIGN_OR_RETURN(const std::optional<SpeedBaseline> stored,
                          store.Baseline(key));
  if (stored.has_value()) {
    if (stored->reference != reference->id_) {
      return absl::FailedPreconditionError(absl::StrCat(
          store.path(), ": the table of ", key.board, " (engine build ",
          key.engine_build, ") is scaled to speed reference ",
          stored->reference, ", this mcunas times ", reference->id_,
          "; build the table into another --db"));
    }
    reference->nominal_ = stored->nominal;
    return reference;
  }
  MCUNAS_ASSIGN_OR_RETURN(const bool empty, store.TableIsEmpty(key));
  if (!empty) {
    return absl::FailedPreconditionError(absl::StrCat(
        store.path(), ": the table of ", key.board, " (engine build ",
        key.engine_build,
        ") holds wall-clock measurements taken without a speed reference "
        "(an older mcunas); they cannot be mixed with scaled ones: build the "
        "table into another --db"));
  }
  std::vector<double> times;
  for (int i = 0; i < kBaselineTimings; ++i) {
    MCUNAS_ASSIGN_OR_RETURN(const double t, reference->Time(device));
    times.push_back(t);
  }
  reference->nominal_ = devices::Summarize(std::move(times)).median;
  MCUNAS_RETURN_IF_ERROR(store.PutBaseline(
      key, SpeedBaseline{reference->id_, reference->nominal_}));
  return reference;
}

absl::StatusOr<double> SpeedReference::Time(devices::Device& device) const {
  devices::RunOptions options;
  options.warmup = 1;
  options.runs = kReferenceRuns;
  absl::StatusOr<devices::RunResult> run = device.Run(blob_, inputs_, options);
  if (!run.ok()) {
    return absl::Status(
        run.status().code(),
        absl::StrCat("timing the speed reference: ", run.status().message()));
  }
  if (!(run->stats.median > 0)) {
    return absl::InternalError(absl::StrCat("the speed reference measured ",
                                            run->stats.median, " on ",
                                            device.profile().name));
  }
  return run->stats.median;
}

absl::StatusOr<std::vector<double>> SpeedReference::FactorsAround(
    devices::Device& device, int32_t repeats,
    const std::function<absl::Status(int32_t)>& measure) const {
  std::vector<double> factors;
  MCUNAS_ASSIGN_OR_RETURN(double before, Time(device));
  for (int32_t r = 0; r < repeats; ++r) {
    MCUNAS_RETURN_IF_ERROR(measure(r));
    MCUNAS_ASSIGN_OR_RETURN(const double after, Time(device));
    factors.push_back(nominal_ / std::sqrt(before * after));
    before = after;
  }
  return factors;
}

}  // namespace mcunas::latency
