// Builds a board's latency table for a search space: measures every op
// signature of the space on the board with micro-models (micro_models.h),
// one board session for all of them, then a few whole candidates that the
// predictor fits its overhead on.
//
// Wall-clock boards' times are scaled to the table's reference speed
// (speed_reference.h), so entries measured minutes apart add up.
//
// Incremental and resumable: what the store already has for (board, engine
// build) is not measured again, and every micro-model's entries and every
// whole-model measurement are committed as soon as they are measured, so a
// builder killed at any point loses at most the model it was measuring.
//
// Not thread-safe (the device and store are used from the calling thread).
#ifndef MCUNAS_LATENCY_LUT_BUILDER_H_
#define MCUNAS_LATENCY_LUT_BUILDER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "mcunas/devices/device.h"
#include "mcunas/latency/lut_store.h"
#include "mcunas/latency/speed_reference.h"
#include "mcunas/searchspace/search_space.h"

namespace mcunas::latency {

// How many times to measure. Emulated boards count instructions
// deterministically, so one run is enough there; wall-clock boards (the
// host) need warm-up and repeats.
struct MeasureOptions {
  int32_t warmup = 0;
  int32_t runs = 1;     // per ProfileOps or Run call
  int32_t repeats = 1;  // op tables: ProfileOps calls; median of them
  absl::Duration timeout = absl::Seconds(30);
  uint32_t seed = 1;  // weights and inputs of the measured models
};

// Defaults for a board's latency unit: 0 + 1 x 1 for counts, 3 + 7 x 11 for
// wall-clock nanoseconds.
MeasureOptions DefaultMeasureOptions(devices::LatencyUnit unit);

struct BuildOptions {
  MeasureOptions measure;
  // Whole candidates measured for the overhead fit (drawn from the space's
  // architectures that fit the board, from fit_seed; never used for
  // validation).
  int32_t fit_models = 20;
  uint64_t fit_seed = 7001;
};

struct BuildProgress {
  const char* phase = "ops";  // "ops" then "fit"
  int64_t done = 0;           // models handled so far in this phase
  int64_t total = 0;          // models in this phase
  int64_t measured = 0;       // of done, how many needed measuring
  absl::Duration elapsed;     // since the build started
};
using ProgressFunction = std::function<void(const BuildProgress&)>;

struct BuildReport {
  int64_t micro_models = 0;
  int64_t micro_models_measured = 0;  // the rest were known
  int64_t signatures = 0;             // distinct op signatures of the space
  int64_t signatures_measured = 0;
  int64_t fit_models_measured = 0;
  absl::Duration elapsed;
};

// Measures what `store` lacks for `key` on `device`. The device must be the
// board key.board names, with the engine build key.engine_build.
absl::StatusOr<BuildReport> BuildLut(const searchspace::SearchSpace& space,
                                     devices::Device& device, LutStore& store,
                                     const LutKey& key,
                                     const BuildOptions& options,
                                     const ProgressFunction& progress);

// Measures one whole architecture on `device`: median over options.repeats
// Run calls of each one's median, each scaled by `reference` when given
// (wall-clock boards; see speed_reference.h). For fit and validation.
absl::StatusOr<ModelMeasurement> MeasureArch(
    const searchspace::SearchSpace& space, const searchspace::ArchSpec& arch,
    devices::Device& device, const MeasureOptions& options,
    const SpeedReference* reference);

// The table's speed reference for a wall-clock board (creating its baseline
// if the table is new); null for boards that count (speed_reference.h).
absl::StatusOr<std::unique_ptr<SpeedReference>> ReferenceFor(
    LutStore& store, const LutKey& key, devices::Device& device);

// `count` distinct architectures drawn from `space` with `seed` (each
// decision uniform), skipping any in `exclude` (canonical strings) and any
// `accept` refuses (when given).
std::vector<searchspace::ArchSpec> SampleArchs(
    const searchspace::SearchSpace& space, int32_t count, uint64_t seed,
    const std::vector<std::string>& exclude = {},
    const std::function<bool(const searchspace::ArchSpec&)>& accept = nullptr);

// Whether `arch` fits `board`'s SRAM and flash budgets (the candidates a
// search on that board could return).
bool FitsBoard(const searchspace::SearchSpace& space,
               const searchspace::ArchSpec& arch,
               const devices::BoardProfile& board);

}  // namespace mcunas::latency

#endif  // MCUNAS_LATENCY_LUT_BUILDER_H_
