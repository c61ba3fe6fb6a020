#include "lut_commands.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "mcunas/devices/board_catalog.h"
#include "mcunas/devices/device.h"
#include "mcunas/latency/engine_build.h"
#include "mcunas/latency/lut_builder.h"
#include "mcunas/latency/lut_store.h"
#include "mcunas/latency/predictor.h"
#include "mcunas/latency/validation.h"
#include "mcunas/searchspace/search_space.h"

namespace mcunas::tools {
namespace {

using latency::LutKey;
using latency::LutStore;

int Fail(const absl::Status& status) {
  std::cerr << "mcunas-lut: " << status.message() << "\n";
  return 1;
}

absl::StatusOr<searchspace::SearchSpace> LoadNamedSpace(
    const std::string& name) {
  for (const std::string& builtin : searchspace::SearchSpace::BuiltinNames()) {
    if (builtin == name) return searchspace::SearchSpace::Builtin(name);
  }
  absl::StatusOr<searchspace::SpaceDef> def = searchspace::LoadSpaceFile(name);
  if (!def.ok()) {
    return absl::Status(
        def.status().code(),
        absl::StrCat(
            "space '", name, "' is neither a built-in space (",
            absl::StrJoin(searchspace::SearchSpace::BuiltinNames(), ", "),
            ") nor a readable space file: ", def.status().message()));
  }
  return searchspace::SearchSpace::Create(*std::move(def));
}

// The space of --space, restricted by --resolution and --width.
absl::StatusOr<searchspace::SearchSpace> LoadSpace(const LutFlags& flags) {
  absl::StatusOr<searchspace::SearchSpace> space = LoadNamedSpace(flags.space);
  if (!space.ok() || (flags.resolution == 0 && flags.width_milli == 0)) {
    return space;
  }
  if (flags.resolution == 0 || flags.width_milli == 0) {
    return absl::InvalidArgumentError(
        "--resolution and --width go together (one (R, W) of the space)");
  }
  return space->Restrict(flags.resolution, flags.width_milli);
}

std::vector<std::string> FirmwareDirs(const LutFlags& flags) {
  if (flags.firmware_dir.empty()) return {};
  return {flags.firmware_dir};
}

absl::StatusOr<devices::BoardCatalog> LoadCatalog(const LutFlags& flags) {
  return devices::BoardCatalog::Load(
      flags.catalog.empty() ? devices::DefaultCatalogPath() : flags.catalog);
}

// Everything a board command needs, opened in order.
struct Session {
  devices::BoardProfile profile;
  LutKey key;
  std::unique_ptr<LutStore> store;
  std::unique_ptr<devices::Device> device;  // only when measuring
};

absl::StatusOr<Session> OpenSession(const std::string& board,
                                    const LutFlags& flags, bool with_device) {
  Session s;
  absl::StatusOr<devices::BoardCatalog> catalog = LoadCatalog(flags);
  if (!catalog.ok()) return catalog.status();
  absl::StatusOr<devices::BoardProfile> profile = catalog->Find(board);
  if (!profile.ok()) return profile.status();
  s.profile = *std::move(profile);
  absl::StatusOr<std::string> build =
      latency::EngineBuildId(s.profile, FirmwareDirs(flags));
  if (!build.ok()) return build.status();
  s.key = LutKey{s.profile.name, *std::move(build)};
  absl::StatusOr<std::unique_ptr<LutStore>> store = LutStore::Open(flags.db);
  if (!store.ok()) return store.status();
  s.store = *std::move(store);
  if (with_device) {
    devices::DeviceOptions options;
    options.firmware_dirs = FirmwareDirs(flags);
    absl::StatusOr<std::unique_ptr<devices::Device>> device =
        devices::OpenDevice(s.profile, options);
    if (!device.ok()) return device.status();
    s.device = *std::move(device);
  }
  return s;
}

latency::MeasureOptions MeasureOptionsOf(const devices::BoardProfile& board,
                                         const LutFlags& flags) {
  latency::MeasureOptions m =
      latency::DefaultMeasureOptions(board.latency_unit);
  if (flags.warmup >= 0) m.warmup = flags.warmup;
  if (flags.runs >= 1) m.runs = flags.runs;
  if (flags.repeats >= 1) m.repeats = flags.repeats;
  m.timeout = absl::Seconds(flags.timeout_seconds);
  return m;
}

// A progress line: rewritten in place on a terminal, one line per tenth of
// the work otherwise (logs stay short).
class ProgressPrinter {
 public:
  explicit ProgressPrinter(bool quiet)
      : quiet_(quiet), tty_(isatty(fileno(stderr)) != 0) {}
  ~ProgressPrinter() {
    if (!quiet_ && tty_ && printed_) std::cerr << "\n";
  }

  void operator()(const latency::BuildProgress& p) {
    if (quiet_ || p.total == 0) return;
    const int64_t tenth = std::max<int64_t>(1, p.total / 10);
    if (!tty_ && p.done % tenth != 0 && p.done != p.total) return;
    // Time left from the rate so far; known models cost nothing, so the
    // estimate is conservative early in an incremental build.
    const double seconds = absl::ToDoubleSeconds(p.elapsed);
    const double left =
        p.done > 0 ? seconds / p.done * (p.total - p.done) : 0.0;
    const std::string line = absl::StrFormat(
        "[%s] %d/%d models (%d measured), %.1f s elapsed, ~%.0f s left",
        p.phase, p.done, p.total, p.measured, seconds, left);
    if (tty_) {
      std::cerr << "\r" << line << "\x1b[K" << std::flush;
      printed_ = true;
    } else {
      std::cerr << line << "\n";
    }
  }

 private:
  bool quiet_;
  bool tty_;
  bool printed_ = false;
};

absl::Status WriteText(const std::string& path, const std::string& text) {
  if (path == "-") {
    std::cout << text;
    return absl::OkStatus();
  }
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file << text;
  file.close();
  if (!file) return absl::UnavailableError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

}  // namespace

int BuildCommand(const std::string& board, int fit_models,
                 const LutFlags& flags) {
  absl::StatusOr<searchspace::SearchSpace> space = LoadSpace(flags);
  if (!space.ok()) return Fail(space.status());
  absl::StatusOr<Session> s = OpenSession(board, flags, true);
  if (!s.ok()) return Fail(s.status());
  latency::BuildOptions options;
  options.measure = MeasureOptionsOf(s->profile, flags);
  options.fit_models = fit_models;
  std::cout << "building the latency table of " << board << " ("
            << devices::LatencyUnitName(s->profile.latency_unit)
            << ", engine build " << s->key.engine_build << ") for space "
            << space->def().name << " in " << flags.db << "\n";
  absl::StatusOr<latency::BuildReport> report;
  {
    ProgressPrinter printer(flags.quiet);
    report = latency::BuildLut(
        *space, *s->device, *s->store, s->key, options,
        [&printer](const latency::BuildProgress& p) { printer(p); });
  }
  if (!report.ok()) return Fail(report.status());
  std::cout << absl::StrFormat(
      "%d op signatures in %d micro-models: measured %d signatures (%d "
      "micro-models), %d fit models; %.1f s\n",
      report->signatures, report->micro_models, report->signatures_measured,
      report->micro_models_measured, report->fit_models_measured,
      absl::ToDoubleSeconds(report->elapsed));
  absl::StatusOr<latency::LatencyPredictor> predictor =
      latency::LatencyPredictor::Load(*s->store, s->key, *space);
  if (!predictor.ok()) return Fail(predictor.status());
  const latency::Overhead& o = predictor->overhead();
  std::cout << absl::StrFormat(
      "overhead fitted on %d models: %.4f x op sum + %.1f per op + %.1f per "
      "inference (%s)\n",
      o.fit_models, o.scale, o.per_op, o.fixed,
      devices::LatencyUnitName(s->profile.latency_unit));
  return 0;
}

int ShowCommand(const LutFlags& flags) {
  absl::StatusOr<std::unique_ptr<LutStore>> store = LutStore::Open(flags.db);
  if (!store.ok()) return Fail(store.status());
  absl::StatusOr<std::vector<latency::LutSummary>> summaries =
      (*store)->Summaries();
  if (!summaries.ok()) return Fail(summaries.status());
  if (summaries->empty()) {
    std::cout << flags.db << ": no latency tables yet (mcunas-lut build)\n";
    return 0;
  }
  // Which builds are this checkout's, to mark them; a board whose firmware
  // is not built simply has no current table.
  absl::StatusOr<devices::BoardCatalog> catalog = LoadCatalog(flags);
  std::cout << absl::StrFormat("%-12s %-44s %-24s %8s %5s %8s  %s\n", "board",
                               "engine build", "unit", "ops", "fit", "validate",
                               "last measured (UTC)");
  for (const latency::LutSummary& t : *summaries) {
    bool current = false;
    if (catalog.ok()) {
      absl::StatusOr<devices::BoardProfile> profile = catalog->Find(t.board);
      if (profile.ok()) {
        absl::StatusOr<std::string> build =
            latency::EngineBuildId(*profile, FirmwareDirs(flags));
        current = build.ok() && *build == t.engine_build;
      }
    }
    std::cout << absl::StrFormat("%-12s %-44s %-24s %8d %5d %8d  %s%s\n",
                                 t.board, t.engine_build, t.latency_unit,
                                 t.op_entries, t.fit_models, t.validate_models,
                                 t.last_measured, current ? "  (current)" : "");
  }
  return 0;
}

int ValidateCommand(const std::string& board, int candidates,
                    const std::string& svg_path, const std::string& csv_path,
                    bool remeasure, const LutFlags& flags) {
  absl::StatusOr<searchspace::SearchSpace> space = LoadSpace(flags);
  if (!space.ok()) return Fail(space.status());
  absl::StatusOr<Session> s = OpenSession(board, flags, true);
  if (!s.ok()) return Fail(s.status());
  absl::StatusOr<latency::LatencyPredictor> predictor =
      latency::LatencyPredictor::Load(*s->store, s->key, *space);
  if (!predictor.ok()) return Fail(predictor.status());
  latency::ValidateOptions options;
  options.candidates = candidates;
  options.measure = MeasureOptionsOf(s->profile, flags);
  options.reuse_stored = !remeasure;
  absl::StatusOr<latency::ValidationReport> report;
  {
    ProgressPrinter printer(flags.quiet);
    report = latency::Validate(
        *space, *s->device, *s->store, s->key, *predictor, options,
        [&printer](const latency::BuildProgress& p) { printer(p); });
  }
  if (!report.ok()) return Fail(report.status());
  std::cout << board << ", engine build " << s->key.engine_build << ", space "
            << space->def().name << ": " << latency::FormatReport(*report);
  if (!svg_path.empty()) {
    const std::string title =
        absl::StrCat(board, ": latency table vs whole-model measurements (",
                     space->def().name, ")");
    absl::Status written =
        WriteText(svg_path, latency::ScatterSvg(*report, title));
    if (!written.ok()) return Fail(written);
    std::cout << "scatter plot: " << svg_path << "\n";
  }
  if (!csv_path.empty()) {
    absl::Status written = WriteText(csv_path, latency::CasesCsv(*report));
    if (!written.ok()) return Fail(written);
  }
  return 0;
}

int ExportCommand(const std::string& board, const std::string& out_path,
                  const LutFlags& flags) {
  absl::StatusOr<Session> s = OpenSession(board, flags, false);
  if (!s.ok()) return Fail(s.status());
  absl::StatusOr<std::vector<latency::OpEntry>> entries =
      s->store->OpEntries(s->key);
  if (!entries.ok()) return Fail(entries.status());
  if (entries->empty()) {
    return Fail(absl::NotFoundError(
        absl::StrCat(flags.db, ": no table for ", board, " and engine build ",
                     s->key.engine_build, " (mcunas-lut build ", board, ")")));
  }
  std::sort(entries->begin(), entries->end(),
            [](const latency::OpEntry& a, const latency::OpEntry& b) {
              return a.signature.Key() < b.signature.Key();
            });
  std::string csv = absl::StrCat(
      "# board ", board, ", engine build ", s->key.engine_build, ", unit ",
      devices::LatencyUnitName(s->profile.latency_unit), "\n",
      "signature,op,kernel,stride,activation,in_h,in_w,in_c,out_h,out_w,"
      "out_c,quant,n,median,spread,speed\n");
  for (const latency::OpEntry& e : *entries) {
    const latency::OpSignature& g = e.signature;
    absl::StrAppend(
        &csv, absl::StrFormat("\"%s\",%s,%d,%d,%s,%d,%d,%d,%d,%d,%d,%s,%d,"
                              "%.3f,%.3f,%.4f\n",
                              g.Key(), g.OpName(), g.kernel, g.stride,
                              g.ActivationName(), g.in_h, g.in_w, g.in_c,
                              g.out_h, g.out_w, g.out_c, g.quant, e.n, e.median,
                              e.spread, e.speed));
  }
  absl::Status written = WriteText(out_path, csv);
  if (!written.ok()) return Fail(written);
  return 0;
}

}  // namespace mcunas::tools
