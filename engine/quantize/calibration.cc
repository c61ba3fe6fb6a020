// Activation calibration (Calibrate in quantizer.h).
//
// Why MSE-optimal clipping rather than a percentile: a percentile is one
// global knob whose meaning depends on the tensor's size and on the number of
// calibration inputs (at 99.99% a tensor with fewer than 10^4 observed values
// is not clipped at all), and it clips dense tails (ReLU6 saturating at 6) as
// readily as rare outliers. Minimising the expected squared error of the
// quantised tensor decides per tensor, from its own distribution, whether
// clipping pays: it keeps the range when the tail is dense and clips when a
// few outliers would coarsen the step for everything else.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "mcunas/common/status_macros.h"
#include "mcunas/engine/host/float_reference.h"
#include "mcunas/engine/host/quantizer.h"

namespace mcunas::engine {
namespace {

// Values of one tensor over all calibration inputs, as a histogram over
// [lo, hi] (which contains 0). Exact zeros (ReLU outputs, padding) are
// counted apart: 0 is always exactly representable, so they never add error.
struct Histogram {
  float lo = 0.0f;
  float hi = 0.0f;
  std::vector<double> counts;
  double zeros = 0.0;

  void Add(const std::vector<float>& values) {
    const double bins = static_cast<double>(counts.size());
    const double width = static_cast<double>(hi) - lo;
    for (float v : values) {
      if (v == 0.0f) {
        zeros += 1.0;
        continue;
      }
      int64_t b = width > 0.0
                      ? static_cast<int64_t>((v - double{lo}) / width * bins)
                      : 0;
      b = std::clamp<int64_t>(b, 0, static_cast<int64_t>(counts.size()) - 1);
      counts[b] += 1.0;
    }
  }
};

// Squared error of quantising the histogram's values with the parameters
// ChooseQuantParams picks for [min, max], taking the values of each bin as
// uniformly spread over it: the bin is split where the quantised value
// changes (rounding boundaries, clamping at the ends) and (x - q(x))^2 is
// integrated exactly on each piece. Exact where bins are narrower than a
// step and still right where they are wider (a crude step^2 / 12 is not:
// with a few steps over the data it is off by 2x). O(bins + 256).
double QuantizationError(const Histogram& h, float min, float max) {
  const QuantParams p = ChooseQuantParams(min, max);
  const double s = p.scale;
  const double lowest = (-128.0 - p.zero_point) * s;  // level 0
  const double width =
      (static_cast<double>(h.hi) - h.lo) / static_cast<double>(h.counts.size());
  // Integral of (x - g)^2 over [a, b].
  const auto integral = [](double a, double b, double g) {
    return ((b - g) * (b - g) * (b - g) - (a - g) * (a - g) * (a - g)) / 3.0;
  };
  double error = 0.0;
  for (size_t bin = 0; bin < h.counts.size(); ++bin) {
    if (h.counts[bin] == 0.0) continue;
    const double a = h.lo + static_cast<double>(bin) * width;
    const double b = a + width;
    double x = a;
    // The level nearest to x (0..255); it covers up to (level + 0.5) steps.
    int level = static_cast<int>(
        std::clamp(std::floor((a - lowest) / s + 0.5), 0.0, 255.0));
    double sum = 0.0;
    while (x < b) {
      const double end =
          level >= 255 ? b
                       : std::max(x, std::min(b, lowest + (level + 0.5) * s));
      sum += integral(x, end, lowest + level * s);
      x = end;
      ++level;
    }
    error += h.counts[bin] / width * sum;
  }
  return error;
}

// Searches shrunken ranges of [h.lo, h.hi]: both ends by the same factor,
// then the upper end alone, then the lower end alone (a one-sided long tail is
// common, e.g. residual sums). Factors k / kSteps for k = 1..kSteps, so a
// range can shrink to 1% when a rare outlier is far out. O(3 * kSteps *
// bins).
TensorRange MseRange(const Histogram& h) {
  constexpr int kSteps = 128;
  TensorRange best{h.lo, h.hi};
  double best_error = QuantizationError(h, best.min, best.max);
  const auto consider = [&](float min, float max) {
    const double e = QuantizationError(h, min, max);
    if (e < best_error) {
      best_error = e;
      best = {min, max};
    }
  };
  for (int k = 1; k < kSteps; ++k) {
    const double f = static_cast<double>(k) / kSteps;
    consider(static_cast<float>(h.lo * f), static_cast<float>(h.hi * f));
  }
  const TensorRange joint = best;
  for (int k = 1; k < kSteps; ++k) {
    const double f = static_cast<double>(k) / kSteps;
    consider(joint.min, static_cast<float>(joint.max * f));
  }
  const TensorRange upper = best;
  for (int k = 1; k < kSteps; ++k) {
    const double f = static_cast<double>(k) / kSteps;
    consider(static_cast<float>(upper.min * f), upper.max);
  }
  return best;
}

}  // namespace

absl::StatusOr<Calibration> Calibrate(
    const FloatGraph& graph, const std::vector<std::vector<float>>& inputs,
    const QuantizeOptions& options) {
  if (inputs.empty()) {
    return absl::InvalidArgumentError("calibration needs at least one input");
  }
  if (options.method == CalibrationMethod::kMse &&
      options.histogram_bins < 16) {
    return absl::InvalidArgumentError(absl::StrCat(
        "histogram_bins ", options.histogram_bins, " is below 16"));
  }
  const size_t n = graph.tensors.size();
  Calibration result;
  std::vector<TensorRange>& ranges = result.ranges;
  ranges.assign(n, {std::numeric_limits<float>::infinity(),
                    -std::numeric_limits<float>::infinity()});
  std::vector<std::vector<double>> sums(n);
  for (size_t t = 0; t < n; ++t) {
    sums[t].assign(graph.tensors[t].shape.back(), 0.0);
  }
  for (const std::vector<float>& input : inputs) {
    MCUNAS_ASSIGN_OR_RETURN(FloatTensorValues values,
                            RunFloatGraph(graph, input));
    for (size_t t = 0; t < n; ++t) {
      const size_t channels = sums[t].size();
      for (size_t i = 0; i < values[t].size(); ++i) {
        const float v = values[t][i];
        ranges[t].min = std::min(ranges[t].min, v);
        ranges[t].max = std::max(ranges[t].max, v);
        sums[t][i % channels] += v;
      }
    }
  }
  result.channel_means.resize(n);
  for (size_t t = 0; t < n; ++t) {
    // Every tensor is computed, so the range is set; widen it to contain 0
    // as ChooseQuantParams would.
    ranges[t].min = std::min(ranges[t].min, 0.0f);
    ranges[t].max = std::max(ranges[t].max, 0.0f);
    const double count =
        static_cast<double>(inputs.size()) *
        static_cast<double>(ShapeElements(graph.tensors[t].shape)) /
        static_cast<double>(sums[t].size());
    for (double sum : sums[t]) {
      result.channel_means[t].push_back(static_cast<float>(sum / count));
    }
  }
  if (options.method == CalibrationMethod::kMinMax) return result;

  // Second pass: histograms over the observed ranges.
  std::vector<Histogram> histograms(n);
  for (size_t t = 0; t < n; ++t) {
    histograms[t].lo = ranges[t].min;
    histograms[t].hi = ranges[t].max;
    histograms[t].counts.assign(options.histogram_bins, 0.0);
  }
  for (const std::vector<float>& input : inputs) {
    MCUNAS_ASSIGN_OR_RETURN(FloatTensorValues values,
                            RunFloatGraph(graph, input));
    for (size_t t = 0; t < n; ++t) histograms[t].Add(values[t]);
  }
  for (size_t t = 0; t < n; ++t) {
    const bool io = static_cast<int32_t>(t) == graph.input ||
                    static_cast<int32_t>(t) == graph.output;
    if (!io && ranges[t].max > ranges[t].min) {
      ranges[t] = MseRange(histograms[t]);
    }
  }
  return result;
}

}  // namespace mcunas::engine
