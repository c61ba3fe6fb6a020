#include "mcunas/latency/validation.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "mcunas/common/status_macros.h"

namespace mcunas::latency {
namespace {

// Text for an SVG element: the XML special characters escaped.
std::string XmlText(absl::string_view text) {
  std::string out;
  for (char ch : text) {
    switch (ch) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += ch;
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<ValidationReport> Validate(const searchspace::SearchSpace& space,
                                          devices::Device& device,
                                          LutStore& store, const LutKey& key,
                                          const LatencyPredictor& predictor,
                                          const ValidateOptions& options,
                                          const ProgressFunction& progress) {
  const absl::Time start = absl::Now();
  MCUNAS_RETURN_IF_ERROR(store.RegisterBoard(device.profile()));
  MCUNAS_ASSIGN_OR_RETURN(const std::unique_ptr<SpeedReference> reference,
                          ReferenceFor(store, key, device));
  MCUNAS_ASSIGN_OR_RETURN(const std::vector<ModelMeasurement> fits,
                          store.Models(key, kPurposeFit));
  std::vector<std::string> fit_archs;
  for (const ModelMeasurement& m : fits) fit_archs.push_back(m.arch);
  const devices::BoardProfile& board = device.profile();
  const std::vector<searchspace::ArchSpec> archs =
      SampleArchs(space, options.candidates, options.seed, fit_archs,
                  [&](const searchspace::ArchSpec& arch) {
                    return FitsBoard(space, arch, board);
                  });

  std::unordered_map<std::string, ModelMeasurement> stored;
  if (options.reuse_stored) {
    MCUNAS_ASSIGN_OR_RETURN(const std::vector<ModelMeasurement> old,
                            store.Models(key, kPurposeValidate));
    for (const ModelMeasurement& m : old) stored[m.arch] = m;
  }

  ValidationReport report;
  report.unit =
      std::string(devices::LatencyUnitName(device.profile().latency_unit));
  BuildProgress p;
  p.phase = "validate";
  p.total = static_cast<int64_t>(archs.size());
  for (const searchspace::ArchSpec& arch : archs) {
    const std::string name = searchspace::CanonicalString(arch);
    ModelMeasurement m;
    auto it = stored.find(name);
    if (it != stored.end()) {
      m = it->second;
    } else {
      MCUNAS_ASSIGN_OR_RETURN(m, MeasureArch(space, arch, device,
                                             options.measure, reference.get()));
      m.purpose = std::string(kPurposeValidate);
      MCUNAS_RETURN_IF_ERROR(store.PutModel(key, m));
      ++p.measured;
    }
    MCUNAS_ASSIGN_OR_RETURN(const double predicted, predictor.Predict(arch));
    report.cases.push_back({name, predicted, m.median, m.spread, m.speed});
    ++p.done;
    p.elapsed = absl::Now() - start;
    if (progress) progress(p);
  }
  Summarize(report);
  return report;
}

void Summarize(ValidationReport& report) {
  const double n = static_cast<double>(report.cases.size());
  if (n == 0) return;
  double in5 = 0, in10 = 0, sum = 0;
  std::vector<double> noise;
  report.speed_min = report.speed_max = report.cases[0].speed;
  for (const ValidationCase& c : report.cases) {
    report.speed_min = std::min(report.speed_min, c.speed);
    report.speed_max = std::max(report.speed_max, c.speed);
    const double e = std::fabs(c.RelativeError());
    in5 += e <= 0.05 ? 1 : 0;
    in10 += e <= 0.10 ? 1 : 0;
    sum += e;
    noise.push_back(c.measured > 0 ? c.spread / c.measured : 0);
  }
  report.within_5 = in5 / n;
  report.within_10 = in10 / n;
  report.mape = sum / n;
  report.median_noise = devices::Summarize(std::move(noise)).median;
}

std::string FormatReport(const ValidationReport& report, int32_t worst) {
  std::string out = absl::StrFormat(
      "%d held-out candidates, latency in %s\n"
      "  within +-5%%:   %5.1f%%\n"
      "  within +-10%%:  %5.1f%%\n"
      "  MAPE:          %6.2f%%\n"
      "  noise (median IQR / measured): %.2f%%\n",
      report.cases.size(), report.unit, 100 * report.within_5,
      100 * report.within_10, 100 * report.mape, 100 * report.median_noise);
  if (report.speed_min != 1 || report.speed_max != 1) {
    absl::StrAppend(
        &out,
        absl::StrFormat("  scaled to the table's reference speed: factors "
                        "%.3f-%.3f (raw time = measured / factor)\n",
                        report.speed_min, report.speed_max));
  }
  std::vector<ValidationCase> sorted = report.cases;
  std::sort(sorted.begin(), sorted.end(),
            [](const ValidationCase& a, const ValidationCase& b) {
              return std::fabs(a.RelativeError()) >
                     std::fabs(b.RelativeError());
            });
  if (sorted.size() > static_cast<size_t>(worst)) sorted.resize(worst);
  if (sorted.empty()) return out;
  absl::StrAppend(&out, "worst cases:\n",
                  absl::StrFormat("  %14s %14s %8s  %s\n", "predicted",
                                  "measured", "error", "architecture"));
  for (const ValidationCase& c : sorted) {
    absl::StrAppend(
        &out, absl::StrFormat("  %14.0f %14.0f %+7.2f%%  %s\n", c.predicted,
                              c.measured, 100 * c.RelativeError(), c.arch));
  }
  return out;
}

std::string CasesCsv(const ValidationReport& report) {
  std::string csv = absl::StrCat("# unit ", report.unit,
                                 "\narch,predicted,measured,spread,speed,"
                                 "error_percent\n");
  for (const ValidationCase& c : report.cases) {
    absl::StrAppend(&csv,
                    absl::StrFormat("\"%s\",%.1f,%.1f,%.1f,%.4f,%.3f\n", c.arch,
                                    c.predicted, c.measured, c.spread, c.speed,
                                    100 * c.RelativeError()));
  }
  return csv;
}

std::string ScatterSvg(const ValidationReport& report,
                       const std::string& title) {
  constexpr double kSize = 480, kMargin = 90;
  double hi = 0;
  for (const ValidationCase& c : report.cases) {
    hi = std::max({hi, c.predicted, c.measured});
  }
  hi = hi > 0 ? hi * 1.05 : 1;
  const auto x = [&](double v) { return kMargin + v / hi * kSize; };
  const auto y = [&](double v) { return kMargin + kSize - v / hi * kSize; };
  std::string svg = absl::StrFormat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
      "height=\"%.0f\" font-family=\"sans-serif\" font-size=\"12\">\n"
      "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
      kSize + 2 * kMargin, kSize + 2 * kMargin);
  // Each error band is the region between y = (1 + b) x and y = (1 - b) x.
  for (const auto& [band, color] :
       {std::pair<double, const char*>{0.10, "#e8f0fb"},
        std::pair<double, const char*>{0.05, "#cfe0f7"}}) {
    absl::StrAppend(
        &svg, absl::StrFormat("<polygon points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f "
                              "%.1f,%.1f\" fill=\"%s\"/>\n",
                              x(0), y(0), x(hi / (1 + band)), y(hi), x(hi),
                              y(hi), x(hi), y(hi * (1 - band)), color));
  }
  absl::StrAppend(
      &svg,
      absl::StrFormat("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                      "stroke=\"#888\"/>\n",
                      x(0), y(0), x(hi), y(hi)),
      absl::StrFormat("<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                      "height=\"%.1f\" fill=\"none\" stroke=\"black\"/>\n",
                      kMargin, kMargin, kSize, kSize));
  for (int i = 0; i <= 4; ++i) {
    const double v = hi * i / 4;
    absl::StrAppend(
        &svg,
        absl::StrFormat("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">"
                        "%.3g</text>\n",
                        x(v), kMargin + kSize + 16, v),
        absl::StrFormat("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">"
                        "%.3g</text>\n",
                        kMargin - 6, y(v) + 4, v));
  }
  for (const ValidationCase& c : report.cases) {
    const bool in5 = std::fabs(c.RelativeError()) <= 0.05;
    absl::StrAppend(
        &svg, absl::StrFormat("<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" "
                              "fill=\"%s\"><title>%s</title></circle>\n",
                              x(c.measured), y(c.predicted),
                              in5 ? "#1f5fbf" : "#d62728", XmlText(c.arch)));
  }
  absl::StrAppend(
      &svg,
      absl::StrFormat("<text x=\"%.1f\" y=\"24\" text-anchor=\"middle\" "
                      "font-size=\"14\">%s</text>\n",
                      kMargin + kSize / 2, XmlText(title)),
      absl::StrFormat(
          "<text x=\"%.1f\" y=\"42\" text-anchor=\"middle\">%d candidates: "
          "%.1f%% within 5%%, %.1f%% within 10%%, MAPE %.2f%%</text>\n"
          "<text x=\"%.1f\" y=\"58\" text-anchor=\"middle\" "
          "font-size=\"11\">shaded: within 10%% and 5%%; red points: "
          "outside 5%%</text>\n",
          kMargin + kSize / 2, report.cases.size(), 100 * report.within_5,
          100 * report.within_10, 100 * report.mape, kMargin + kSize / 2),
      absl::StrFormat("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">"
                      "measured (%s)</text>\n",
                      kMargin + kSize / 2, kMargin + kSize + 40, report.unit),
      absl::StrFormat("<text transform=\"translate(%.1f %.1f) rotate(-90)\" "
                      "text-anchor=\"middle\">predicted (%s)</text>\n",
                      16.0, kMargin + kSize / 2, report.unit),
      "</svg>\n");
  return svg;
}

}  // namespace mcunas::latency
