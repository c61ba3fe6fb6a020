// How good a latency table is: held-out candidates (never used for the
// overhead fit) measured whole on the board against the predictor, with the
// share within +-5% and +-10%, the mean absolute percentage error, the
// worst cases and the measurement noise. Text table and SVG scatter plot
// for people.
//
// Not thread-safe (device and store used from the calling thread).
#ifndef MCUNAS_LATENCY_VALIDATION_H_
#define MCUNAS_LATENCY_VALIDATION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "mcunas/devices/device.h"
#include "mcunas/latency/lut_builder.h"
#include "mcunas/latency/lut_store.h"
#include "mcunas/latency/predictor.h"
#include "mcunas/searchspace/search_space.h"

namespace mcunas::latency {

struct ValidationCase {
  std::string arch;
  double predicted = 0;
  double measured = 0;
  double spread = 0;  // of the measurement (IQR of repeats)
  // Wall-clock boards: the factor the measurement was scaled by to the
  // table's reference speed (speed_reference.h); 1 elsewhere.
  double speed = 1;
  // (predicted - measured) / measured.
  double RelativeError() const { return (predicted - measured) / measured; }
};

struct ValidationReport {
  std::string unit;
  std::vector<ValidationCase> cases;
  double within_5 = 0;      // share of cases with |error| <= 5%
  double within_10 = 0;     // ... <= 10%
  double mape = 0;          // mean |error|, as a fraction
  double median_noise = 0;  // median of spread / measured over cases
  // Range of the cases' speed factors: how far the machine's speed moved
  // while they were measured (both 1 when nothing was scaled).
  double speed_min = 1;
  double speed_max = 1;
};

struct ValidateOptions {
  int32_t candidates = 200;
  uint64_t seed = 9001;  // never the fit seed
  MeasureOptions measure;
  // Reuse whole-model measurements already stored for these candidates.
  bool reuse_stored = true;
};

// Measures `options.candidates` held-out architectures of `space` that fit
// the board's budgets on `device` (storing each measurement in `store` as it is
// taken) and compares them with `predictor`.
absl::StatusOr<ValidationReport> Validate(const searchspace::SearchSpace& space,
                                          devices::Device& device,
                                          LutStore& store, const LutKey& key,
                                          const LatencyPredictor& predictor,
                                          const ValidateOptions& options,
                                          const ProgressFunction& progress);

// Computes the shares, MAPE, noise and speed range from report.cases.
void Summarize(ValidationReport& report);

// The summary and the `worst` cases by |error|, as aligned text.
std::string FormatReport(const ValidationReport& report, int32_t worst = 10);

// Every case as CSV: arch, predicted, measured, spread, speed, error (%).
std::string CasesCsv(const ValidationReport& report);

// A scatter plot of predicted against measured with the y = x line and the
// +-5% and +-10% bands, as a self-contained SVG document.
std::string ScatterSvg(const ValidationReport& report,
                       const std::string& title);

}  // namespace mcunas::latency

#endif  // MCUNAS_LATENCY_VALIDATION_H_
