// The latency lookup tables on disk: one SQLite file (WAL) holding, per
// board and engine build, the measured latency of every op signature and the
// whole-model measurements used to fit the predictor's overhead and to
// validate it.
//
// Tables (schema version in PRAGMA user_version; Open migrates older files
// in one transaction each step and refuses newer ones):
//   boards(name, core, latency_unit)
//   engine_builds(build_id)  -- EngineBuildId(): changes with the kernels
//   op_signatures(key, op, kernel, stride, activation, shapes, quant)
//   op_samples(board, build, signature, n, median, spread, speed,
//              measured_at)
//   model_measurements(board, build, arch, purpose, op_count, n, median,
//                      spread, speed, measured_at)
//   speed_baselines(board, build, reference, nominal, measured_at)
// Wall-clock tables are scaled to a reference speed (speed_reference.h):
// `speed` is the factor a row's raw time was multiplied by (1 elsewhere).
// Rows are keyed by (board, build): nothing measured for one board or engine
// build is ever returned for another. Every write is one transaction, so a
// process killed mid-way loses only what it had not committed.
//
//   MCUNAS_ASSIGN_OR_RETURN(std::unique_ptr<LutStore> store,
//                           LutStore::Open("mcunas_lut.db"));
//   LutKey key{"qemu-m4", build_id};
//   MCUNAS_RETURN_IF_ERROR(store->RegisterBoard(profile));
//   MCUNAS_RETURN_IF_ERROR(store->PutOpEntries(key, entries));
//
// A LutStore is not thread-safe; several processes may share the file.
#ifndef MCUNAS_LATENCY_LUT_STORE_H_
#define MCUNAS_LATENCY_LUT_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "mcunas/devices/board_catalog.h"
#include "mcunas/latency/op_signature.h"

namespace mcunas::latency {

class SqliteDb;

// The schema version this build writes.
inline constexpr int64_t kSchemaVersion = 3;

struct LutKey {
  std::string board;
  std::string engine_build;
};

// One op signature's measured latency, in the board's unit.
struct OpEntry {
  OpSignature signature;
  int32_t n = 0;  // samples behind the median
  double median = 0;
  double spread = 0;  // interquartile range of the samples
  double speed = 1;   // the factor the raw times were scaled by
};

// What a whole-model measurement is for.
inline constexpr absl::string_view kPurposeFit = "fit";
inline constexpr absl::string_view kPurposeValidate = "validate";

struct ModelMeasurement {
  std::string arch;     // canonical ArchSpec string
  std::string purpose;  // kPurposeFit or kPurposeValidate
  int32_t op_count = 0;
  int32_t n = 0;
  double median = 0;
  double spread = 0;
  double speed = 1;  // the factor the raw times were scaled by
};

// The speed a wall-clock table is scaled to: the reference model (its id)
// and its time when the table was started.
struct SpeedBaseline {
  std::string reference;
  double nominal = 0;
};

// One (board, build) table, for `mcunas-lut show`.
struct LutSummary {
  std::string board;
  std::string engine_build;
  std::string latency_unit;
  int64_t op_entries = 0;
  int64_t fit_models = 0;
  int64_t validate_models = 0;
  std::string last_measured;  // UTC, "YYYY-MM-DD HH:MM:SS"; empty if none
};

class LutStore {
 public:
  // Opens or creates the file and brings its schema to kSchemaVersion.
  // DataLoss for a file that is not an SQLite database; FailedPrecondition
  // for one written by a newer mcunas (its version named).
  static absl::StatusOr<std::unique_ptr<LutStore>> Open(
      const std::string& path);
  ~LutStore();

  // Records the board (once). FailedPrecondition when the file already has
  // a board of this name with another latency unit: its numbers would mean
  // something else.
  absl::Status RegisterBoard(const devices::BoardProfile& board);

  // Every op entry for `key`, in no particular order.
  absl::StatusOr<std::vector<OpEntry>> OpEntries(const LutKey& key) const;
  // Inserts or replaces the entries, all in one transaction.
  // REQUIRES: RegisterBoard for key.board.
  absl::Status PutOpEntries(const LutKey& key,
                            const std::vector<OpEntry>& entries);

  // Whole-model measurements for `key` with `purpose`, in insertion order.
  absl::StatusOr<std::vector<ModelMeasurement>> Models(
      const LutKey& key, absl::string_view purpose) const;
  absl::Status PutModel(const LutKey& key, const ModelMeasurement& model);

  // The table's speed baseline; nullopt for a table without one.
  absl::StatusOr<std::optional<SpeedBaseline>> Baseline(
      const LutKey& key) const;
  // Records the baseline; an error if the table has one already.
  absl::Status PutBaseline(const LutKey& key, const SpeedBaseline& baseline);
  // Whether nothing at all is measured for `key` yet.
  absl::StatusOr<bool> TableIsEmpty(const LutKey& key) const;

  // Engine builds that have op entries for `board`.
  absl::StatusOr<std::vector<std::string>> BuildsWithEntries(
      absl::string_view board) const;
  // The latency unit recorded for `board`; NotFound when it has none.
  absl::StatusOr<std::string> BoardUnit(absl::string_view board) const;
  absl::StatusOr<std::vector<LutSummary>> Summaries() const;

  const std::string& path() const;

 private:
  explicit LutStore(std::unique_ptr<SqliteDb> db);
  absl::Status Migrate();
  absl::StatusOr<int64_t> EngineBuildRow(absl::string_view build);

  std::unique_ptr<SqliteDb> db_;
};

}  // namespace mcunas::latency

#endif  // MCUNAS_LATENCY_LUT_STORE_H_
