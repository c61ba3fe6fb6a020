#include "mcunas/latency/lut_builder.h"

#include <memory>
#include <random>
#include <unordered_set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "mcunas/common/status_macros.h"
#include "mcunas/latency/micro_models.h"
#include "mcunas/searchspace/network.h"
#include "measurable_model.h"

namespace mcunas::latency {
namespace {

using searchspace::ArchSpec;
using searchspace::SearchSpace;

devices::RunOptions RunOptionsOf(const MeasureOptions& m) {
  devices::RunOptions run;
  run.warmup = m.warmup;
  run.runs = m.runs;
  run.timeout = m.timeout;
  return run;
}

// Runs measure(r) for each repeat r and returns the factors repeat r's
// times are to be multiplied by: nominal / reference speed around it with
// a reference (speed_reference.h), else 1.
absl::StatusOr<std::vector<double>> RepeatScaled(
    const SpeedReference* reference, devices::Device& device, int32_t repeats,
    const std::function<absl::Status(int32_t)>& measure) {
  if (reference != nullptr) {
    return reference->FactorsAround(device, repeats, measure);
  }
  for (int32_t r = 0; r < repeats; ++r) MCUNAS_RETURN_IF_ERROR(measure(r));
  return std::vector<double>(static_cast<size_t>(repeats), 1.0);
}

// Median and interquartile range of repeated (scaled) measurements of one
// op; `speed` is the median of the repeats' factors.
OpEntry EntryOf(const OpSignature& signature, std::vector<double> samples,
                int32_t runs_each, double speed) {
  const devices::LatencyStats stats = devices::Summarize(std::move(samples));
  OpEntry e;
  e.signature = signature;
  e.n = stats.n * runs_each;
  e.median = stats.median;
  e.spread = stats.spread;
  e.speed = speed;
  return e;
}

// Measures `model`'s ops and returns the entries for signatures not in
// `known` (the first op of each signature).
absl::StatusOr<std::vector<OpEntry>> MeasureMicroModel(
    const MicroModel& model, devices::Device& device,
    const MeasureOptions& options, const SpeedReference* reference,
    const std::unordered_set<OpSignature, OpSignatureHash>& known) {
  MCUNAS_ASSIGN_OR_RETURN(const MeasurableModel measurable,
                          MakeMeasurable(model.net, options.seed));
  // per_op[i][r]: op i in repeat r.
  std::vector<std::vector<double>> per_op(model.signatures.size());
  absl::StatusOr<std::vector<double>> factors = RepeatScaled(
      reference, device, options.repeats, [&](int32_t) -> absl::Status {
        MCUNAS_ASSIGN_OR_RETURN(
            const std::vector<double> ops,
            device.ProfileOps(measurable.blob, measurable.inputs,
                              RunOptionsOf(options)));
        if (ops.size() != per_op.size()) {
          return absl::InternalError(
              absl::StrCat("the board timed ", ops.size(),
                           " ops, the model has ", per_op.size()));
        }
        for (size_t i = 0; i < ops.size(); ++i) per_op[i].push_back(ops[i]);
        return absl::OkStatus();
      });
  if (!factors.ok()) {
    return absl::Status(factors.status().code(),
                        absl::StrCat("measuring micro-model ", model.name, ": ",
                                     factors.status().message()));
  }
  for (std::vector<double>& samples : per_op) {
    for (size_t r = 0; r < samples.size(); ++r) samples[r] *= (*factors)[r];
  }
  const double speed = devices::Summarize(*std::move(factors)).median;
  std::vector<OpEntry> entries;
  std::unordered_set<OpSignature, OpSignatureHash> taken = known;
  for (size_t i = 0; i < per_op.size(); ++i) {
    if (!taken.insert(model.signatures[i]).second) continue;
    entries.push_back(EntryOf(model.signatures[i], std::move(per_op[i]),
                              options.runs, speed));
  }
  return entries;
}

}  // namespace

MeasureOptions DefaultMeasureOptions(devices::LatencyUnit unit) {
  MeasureOptions m;
  if (unit == devices::LatencyUnit::kNanoseconds) {
    m.warmup = 3;
    m.runs = 7;
    m.repeats = 11;
  }
  return m;
}

absl::StatusOr<std::unique_ptr<SpeedReference>> ReferenceFor(
    LutStore& store, const LutKey& key, devices::Device& device) {
  if (!UsesSpeedReference(device.profile())) {
    return std::unique_ptr<SpeedReference>();
  }
  return SpeedReference::ForTable(store, key, device);
}

bool FitsBoard(const SearchSpace& space, const ArchSpec& arch,
               const devices::BoardProfile& board) {
  const absl::StatusOr<searchspace::ArchMetrics> m =
      searchspace::ComputeArchMetrics(space, arch);
  return m.ok() && m->peak_sram_bytes <= board.sram_budget &&
         m->flash_bytes <= board.flash_budget;
}

std::vector<ArchSpec> SampleArchs(
    const SearchSpace& space, int32_t count, uint64_t seed,
    const std::vector<std::string>& exclude,
    const std::function<bool(const ArchSpec&)>& accept) {
  std::unordered_set<std::string> seen(exclude.begin(), exclude.end());
  std::mt19937_64 rng(seed);
  std::vector<ArchSpec> archs;
  // Uniform over each decision (R, W, depths, kernels, expands), so small
  // and large candidates are both well represented. Bounded: a tiny space
  // may have fewer than `count` architectures.
  for (int64_t tries = 0; static_cast<int32_t>(archs.size()) < count &&
                          tries < int64_t{count} * 100;
       ++tries) {
    searchspace::Genome genome;
    for (const searchspace::Decision& d : space.decisions()) {
      genome.push_back(static_cast<int32_t>(rng() % d.choices));
    }
    ArchSpec arch = space.Decode(genome);
    if (seen.insert(searchspace::CanonicalString(arch)).second &&
        (!accept || accept(arch))) {
      archs.push_back(std::move(arch));
    }
  }
  return archs;
}

absl::StatusOr<ModelMeasurement> MeasureArch(const SearchSpace& space,
                                             const ArchSpec& arch,
                                             devices::Device& device,
                                             const MeasureOptions& options,
                                             const SpeedReference* reference) {
  MCUNAS_ASSIGN_OR_RETURN(const searchspace::Network net,
                          searchspace::BuildNetwork(space, arch));
  MCUNAS_ASSIGN_OR_RETURN(const MeasurableModel measurable,
                          MakeMeasurable(net, options.seed));
  std::vector<double> medians;  // one per repeat
  absl::StatusOr<std::vector<double>> factors = RepeatScaled(
      reference, device, options.repeats, [&](int32_t) -> absl::Status {
        MCUNAS_ASSIGN_OR_RETURN(const devices::RunResult run,
                                device.Run(measurable.blob, measurable.inputs,
                                           RunOptionsOf(options)));
        medians.push_back(run.stats.median);
        return absl::OkStatus();
      });
  if (!factors.ok()) {
    return absl::Status(factors.status().code(),
                        absl::StrCat("measuring ", CanonicalString(arch), ": ",
                                     factors.status().message()));
  }
  for (size_t r = 0; r < medians.size(); ++r) medians[r] *= (*factors)[r];
  const devices::LatencyStats stats = devices::Summarize(std::move(medians));
  ModelMeasurement m;
  m.arch = CanonicalString(arch);
  m.op_count = static_cast<int32_t>(net.ops.size());
  m.n = stats.n * options.runs;
  m.median = stats.median;
  m.spread = stats.spread;
  m.speed = devices::Summarize(*std::move(factors)).median;
  return m;
}

absl::StatusOr<BuildReport> BuildLut(const SearchSpace& space,
                                     devices::Device& device, LutStore& store,
                                     const LutKey& key,
                                     const BuildOptions& options,
                                     const ProgressFunction& progress) {
  const absl::Time start = absl::Now();
  MCUNAS_RETURN_IF_ERROR(store.RegisterBoard(device.profile()));
  MCUNAS_ASSIGN_OR_RETURN(const std::unique_ptr<SpeedReference> reference,
                          ReferenceFor(store, key, device));
  MCUNAS_ASSIGN_OR_RETURN(const std::vector<MicroModel> models,
                          CoveringMicroModels(space));
  std::unordered_set<OpSignature, OpSignatureHash> known;
  {
    MCUNAS_ASSIGN_OR_RETURN(const std::vector<OpEntry> entries,
                            store.OpEntries(key));
    for (const OpEntry& e : entries) known.insert(e.signature);
  }
  BuildReport report;
  report.micro_models = static_cast<int64_t>(models.size());
  {
    std::unordered_set<OpSignature, OpSignatureHash> all;
    for (const MicroModel& m : models) {
      all.insert(m.signatures.begin(), m.signatures.end());
    }
    report.signatures = static_cast<int64_t>(all.size());
  }

  BuildProgress p;
  p.total = report.micro_models;
  for (const MicroModel& model : models) {
    bool complete = true;
    for (const OpSignature& s : model.signatures) {
      complete &= known.count(s) != 0;
    }
    if (!complete) {
      MCUNAS_ASSIGN_OR_RETURN(const std::vector<OpEntry> entries,
                              MeasureMicroModel(model, device, options.measure,
                                                reference.get(), known));
      MCUNAS_RETURN_IF_ERROR(store.PutOpEntries(key, entries));
      for (const OpEntry& e : entries) known.insert(e.signature);
      report.signatures_measured += static_cast<int64_t>(entries.size());
      ++report.micro_models_measured;
      ++p.measured;
    }
    ++p.done;
    p.elapsed = absl::Now() - start;
    if (progress) progress(p);
  }

  MCUNAS_ASSIGN_OR_RETURN(const std::vector<ModelMeasurement> fitted,
                          store.Models(key, kPurposeFit));
  std::unordered_set<std::string> have;
  for (const ModelMeasurement& m : fitted) have.insert(m.arch);
  const devices::BoardProfile& board = device.profile();
  const std::vector<ArchSpec> fit_archs = SampleArchs(
      space, options.fit_models, options.fit_seed, {},
      [&](const ArchSpec& arch) { return FitsBoard(space, arch, board); });
  p = BuildProgress{};
  p.phase = "fit";
  p.total = static_cast<int64_t>(fit_archs.size());
  for (const ArchSpec& arch : fit_archs) {
    if (have.count(CanonicalString(arch)) == 0) {
      MCUNAS_ASSIGN_OR_RETURN(
          ModelMeasurement m,
          MeasureArch(space, arch, device, options.measure, reference.get()));
      m.purpose = std::string(kPurposeFit);
      MCUNAS_RETURN_IF_ERROR(store.PutModel(key, m));
      ++report.fit_models_measured;
      ++p.measured;
    }
    ++p.done;
    p.elapsed = absl::Now() - start;
    if (progress) progress(p);
  }
  report.elapsed = absl::Now() - start;
  return report;
}

}  // namespace mcunas::latency
