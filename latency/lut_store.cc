#include "mcunas/latency/lut_store.h"

#include <iterator>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "mcunas/common/status_macros.h"
#include "sqlite_db.h"

namespace mcunas::latency {
namespace {

// Migration i takes a file from user_version i to i + 1. Never edit a step
// that has shipped: add one.
constexpr absl::string_view kMigrations[] = {
    // 0 -> 1: boards, engine builds, op signatures and their samples.
    R"sql(
CREATE TABLE boards (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  core TEXT NOT NULL,
  latency_unit TEXT NOT NULL
);
CREATE TABLE engine_builds (
  id INTEGER PRIMARY KEY,
  build_id TEXT NOT NULL UNIQUE
);
CREATE TABLE op_signatures (
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL UNIQUE,
  op TEXT NOT NULL,
  kernel INTEGER NOT NULL,
  stride INTEGER NOT NULL,
  activation TEXT NOT NULL,
  in_h INTEGER NOT NULL, in_w INTEGER NOT NULL, in_c INTEGER NOT NULL,
  out_h INTEGER NOT NULL, out_w INTEGER NOT NULL, out_c INTEGER NOT NULL,
  quant TEXT NOT NULL
);
CREATE TABLE op_samples (
  board_id INTEGER NOT NULL REFERENCES boards(id),
  build_id INTEGER NOT NULL REFERENCES engine_builds(id),
  signature_id INTEGER NOT NULL REFERENCES op_signatures(id),
  n INTEGER NOT NULL CHECK (n > 0),
  median REAL NOT NULL,
  spread REAL NOT NULL,
  measured_at TEXT NOT NULL DEFAULT (datetime('now')),
  PRIMARY KEY (board_id, build_id, signature_id)
);
)sql",
    // 1 -> 2: whole-model measurements (overhead fit and validation).
    R"sql(
CREATE TABLE model_measurements (
  board_id INTEGER NOT NULL REFERENCES boards(id),
  build_id INTEGER NOT NULL REFERENCES engine_builds(id),
  arch TEXT NOT NULL,
  purpose TEXT NOT NULL CHECK (purpose IN ('fit', 'validate')),
  op_count INTEGER NOT NULL,
  n INTEGER NOT NULL CHECK (n > 0),
  median REAL NOT NULL,
  spread REAL NOT NULL,
  measured_at TEXT NOT NULL DEFAULT (datetime('now')),
  PRIMARY KEY (board_id, build_id, arch)
);
)sql",
    // 2 -> 3: wall-clock tables scaled to a reference speed
    // (speed_reference.h). `speed` is the factor a row's raw time was
    // multiplied by (1: not scaled).
    R"sql(
CREATE TABLE speed_baselines (
  board_id INTEGER NOT NULL REFERENCES boards(id),
  build_id INTEGER NOT NULL REFERENCES engine_builds(id),
  reference TEXT NOT NULL,
  nominal REAL NOT NULL CHECK (nominal > 0),
  measured_at TEXT NOT NULL DEFAULT (datetime('now')),
  PRIMARY KEY (board_id, build_id)
);
ALTER TABLE op_samples ADD COLUMN speed REAL NOT NULL DEFAULT 1;
ALTER TABLE model_measurements ADD COLUMN speed REAL NOT NULL DEFAULT 1;
)sql",
};
static_assert(std::size(kMigrations) == kSchemaVersion,
              "one migration per schema version");

// The (board, build) rows of `key` as a SQL condition over columns
// board_id and build_id, parameters ?1 (board) and ?2 (build).
constexpr absl::string_view kKeyCondition =
    "board_id = (SELECT id FROM boards WHERE name = ?1) AND "
    "build_id = (SELECT id FROM engine_builds WHERE build_id = ?2)";

}  // namespace

LutStore::LutStore(std::unique_ptr<SqliteDb> db) : db_(std::move(db)) {}
LutStore::~LutStore() = default;

const std::string& LutStore::path() const { return db_->path(); }

absl::StatusOr<std::unique_ptr<LutStore>> LutStore::Open(
    const std::string& path) {
  MCUNAS_ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> db, SqliteDb::Open(path));
  std::unique_ptr<LutStore> store(new LutStore(std::move(db)));
  MCUNAS_RETURN_IF_ERROR(store->Migrate());
  return store;
}

absl::Status LutStore::Migrate() {
  MCUNAS_ASSIGN_OR_RETURN(int64_t version, db_->UserVersion());
  if (version > kSchemaVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat(path(), ": latency database schema version ", version,
                     " is newer than this mcunas understands (", kSchemaVersion,
                     "); use a newer mcunas"));
  }
  for (; version < kSchemaVersion; ++version) {
    const int64_t next = version + 1;
    const absl::Status migrated = InTransaction(*db_, [&]() -> absl::Status {
      // Another process may have migrated since we read the version.
      MCUNAS_ASSIGN_OR_RETURN(int64_t now, db_->UserVersion());
      if (now >= next) return absl::OkStatus();
      MCUNAS_RETURN_IF_ERROR(db_->Exec(kMigrations[version]));
      return db_->Exec(absl::StrCat("PRAGMA user_version = ", next));
    });
    if (!migrated.ok()) return migrated;
  }
  return absl::OkStatus();
}

absl::Status LutStore::RegisterBoard(const devices::BoardProfile& board) {
  const std::string unit(devices::LatencyUnitName(board.latency_unit));
  absl::StatusOr<std::string> known = BoardUnit(board.name);
  if (known.ok()) {
    if (*known != unit) {
      return absl::FailedPreconditionError(
          absl::StrCat(path(), ": board ", board.name, " was measured in '",
                       *known, "' but its profile now says '", unit,
                       "'; use another database or board name"));
    }
    return absl::OkStatus();
  }
  if (!absl::IsNotFound(known.status())) return known.status();
  MCUNAS_ASSIGN_OR_RETURN(
      Statement insert,
      db_->Prepare("INSERT INTO boards (name, core, latency_unit) "
                   "VALUES (?1, ?2, ?3)"));
  return insert.Bind(1, board.name).Bind(2, board.core).Bind(3, unit).Run();
}

absl::StatusOr<std::string> LutStore::BoardUnit(absl::string_view board) const {
  MCUNAS_ASSIGN_OR_RETURN(
      Statement query,
      db_->Prepare("SELECT latency_unit FROM boards WHERE name = ?1"));
  query.Bind(1, board);
  MCUNAS_ASSIGN_OR_RETURN(bool row, query.Step());
  if (!row) {
    return absl::NotFoundError(
        absl::StrCat(path(), ": no measurements for board ", board));
  }
  return query.Text(0);
}

absl::StatusOr<int64_t> LutStore::EngineBuildRow(absl::string_view build) {
  MCUNAS_ASSIGN_OR_RETURN(
      Statement insert,
      db_->Prepare("INSERT OR IGNORE INTO engine_builds (build_id) "
                   "VALUES (?1)"));
  MCUNAS_RETURN_IF_ERROR(insert.Bind(1, build).Run());
  MCUNAS_ASSIGN_OR_RETURN(
      Statement query,
      db_->Prepare("SELECT id FROM engine_builds WHERE build_id = ?1"));
  query.Bind(1, build);
  MCUNAS_ASSIGN_OR_RETURN(bool row, query.Step());
  if (!row) return db_->Error("SELECT id FROM engine_builds");
  return query.Int(0);
}

absl::StatusOr<std::vector<OpEntry>> LutStore::OpEntries(
    const LutKey& key) const {
  MCUNAS_ASSIGN_OR_RETURN(
      Statement query,
      db_->Prepare(absl::StrCat(
          "SELECT s.key, x.n, x.median, x.spread, x.speed FROM op_samples x "
          "JOIN op_signatures s ON s.id = x.signature_id WHERE ",
          kKeyCondition)));
  query.Bind(1, key.board).Bind(2, key.engine_build);
  std::vector<OpEntry> entries;
  while (true) {
    MCUNAS_ASSIGN_OR_RETURN(bool row, query.Step());
    if (!row) break;
    OpEntry e;
    absl::StatusOr<OpSignature> signature = ParseSignatureKey(query.Text(0));
    if (!signature.ok()) {
      return absl::DataLossError(
          absl::StrCat(path(), ": ", signature.status().message()));
    }
    e.signature = *std::move(signature);
    e.n = static_cast<int32_t>(query.Int(1));
    e.median = query.Real(2);
    e.spread = query.Real(3);
    e.speed = query.Real(4);
    entries.push_back(std::move(e));
  }
  return entries;
}

absl::Status LutStore::PutOpEntries(const LutKey& key,
                                    const std::vector<OpEntry>& entries) {
  return InTransaction(*db_, [&]() -> absl::Status {
    MCUNAS_ASSIGN_OR_RETURN(const int64_t build,
                            EngineBuildRow(key.engine_build));
    MCUNAS_ASSIGN_OR_RETURN(
        Statement signature,
        db_->Prepare("INSERT OR IGNORE INTO op_signatures (key, op, kernel, "
                     "stride, activation, in_h, in_w, in_c, out_h, out_w, "
                     "out_c, quant) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
                     "?9, ?10, ?11, ?12)"));
    MCUNAS_ASSIGN_OR_RETURN(
        Statement sample,
        db_->Prepare("INSERT OR REPLACE INTO op_samples (board_id, build_id, "
                     "signature_id, n, median, spread, speed) VALUES ((SELECT "
                     "id FROM boards WHERE name = ?1), ?2, (SELECT id FROM "
                     "op_signatures WHERE key = ?3), ?4, ?5, ?6, ?7)"));
    for (const OpEntry& e : entries) {
      const OpSignature& s = e.signature;
      const std::string k = s.Key();
      signature.Reset();
      signature.Bind(1, k)
          .Bind(2, s.OpName())
          .Bind(3, int64_t{s.kernel})
          .Bind(4, int64_t{s.stride})
          .Bind(5, s.ActivationName())
          .Bind(6, int64_t{s.in_h})
          .Bind(7, int64_t{s.in_w})
          .Bind(8, int64_t{s.in_c})
          .Bind(9, int64_t{s.out_h})
          .Bind(10, int64_t{s.out_w})
          .Bind(11, int64_t{s.out_c})
          .Bind(12, s.quant);
      MCUNAS_RETURN_IF_ERROR(signature.Run());
      sample.Reset();
      sample.Bind(1, key.board)
          .Bind(2, build)
          .Bind(3, k)
          .Bind(4, int64_t{e.n})
          .Bind(5, e.median)
          .Bind(6, e.spread)
          .Bind(7, e.speed);
      MCUNAS_RETURN_IF_ERROR(sample.Run());
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<ModelMeasurement>> LutStore::Models(
    const LutKey& key, absl::string_view purpose) const {
  MCUNAS_ASSIGN_OR_RETURN(
      Statement query,
      db_->Prepare(absl::StrCat(
          "SELECT arch, purpose, op_count, n, median, spread, speed FROM "
          "model_measurements WHERE ",
          kKeyCondition, " AND purpose = ?3 ORDER BY rowid")));
  query.Bind(1, key.board).Bind(2, key.engine_build).Bind(3, purpose);
  std::vector<ModelMeasurement> models;
  while (true) {
    MCUNAS_ASSIGN_OR_RETURN(bool row, query.Step());
    if (!row) break;
    ModelMeasurement m;
    m.arch = query.Text(0);
    m.purpose = query.Text(1);
    m.op_count = static_cast<int32_t>(query.Int(2));
    m.n = static_cast<int32_t>(query.Int(3));
    m.median = query.Real(4);
    m.spread = query.Real(5);
    m.speed = query.Real(6);
    models.push_back(std::move(m));
  }
  return models;
}

absl::Status LutStore::PutModel(const LutKey& key,
                                const ModelMeasurement& model) {
  return InTransaction(*db_, [&]() -> absl::Status {
    MCUNAS_ASSIGN_OR_RETURN(const int64_t build,
                            EngineBuildRow(key.engine_build));
    MCUNAS_ASSIGN_OR_RETURN(
        Statement insert,
        db_->Prepare("INSERT OR REPLACE INTO model_measurements (board_id, "
                     "build_id, arch, purpose, op_count, n, median, spread, "
                     "speed) VALUES ((SELECT id FROM boards WHERE name = "
                     "?1), ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"));
    return insert.Bind(1, key.board)
        .Bind(2, build)
        .Bind(3, model.arch)
        .Bind(4, model.purpose)
        .Bind(5, int64_t{model.op_count})
        .Bind(6, int64_t{model.n})
        .Bind(7, model.median)
        .Bind(8, model.spread)
        .Bind(9, model.speed)
        .Run();
  });
}

absl::StatusOr<std::optional<SpeedBaseline>> LutStore::Baseline(
    const LutKey& key) const {
  MCUNAS_ASSIGN_OR_RETURN(
      Statement query,
      db_->Prepare(
          absl::StrCat("SELECT reference, nominal FROM speed_baselines WHERE ",
                       kKeyCondition)));
  query.Bind(1, key.board).Bind(2, key.engine_build);
  MCUNAS_ASSIGN_OR_RETURN(bool row, query.Step());
  if (!row) return std::nullopt;
  return SpeedBaseline{query.Text(0), query.Real(1)};
}

absl::Status LutStore::PutBaseline(const LutKey& key,
                                   const SpeedBaseline& baseline) {
  return InTransaction(*db_, [&]() -> absl::Status {
    MCUNAS_ASSIGN_OR_RETURN(const int64_t build,
                            EngineBuildRow(key.engine_build));
    // A plain INSERT: a table's baseline is never replaced (its rows were
    // scaled to it), so a second one is an error.
    MCUNAS_ASSIGN_OR_RETURN(
        Statement insert,
        db_->Prepare("INSERT INTO speed_baselines (board_id, build_id, "
                     "reference, nominal) VALUES ((SELECT id FROM boards "
                     "WHERE name = ?1), ?2, ?3, ?4)"));
    return insert.Bind(1, key.board)
        .Bind(2, build)
        .Bind(3, baseline.reference)
        .Bind(4, baseline.nominal)
        .Run();
  });
}

absl::StatusOr<bool> LutStore::TableIsEmpty(const LutKey& key) const {
  MCUNAS_ASSIGN_OR_RETURN(
      Statement query,
      db_->Prepare(absl::StrCat(
          "SELECT (SELECT COUNT(*) FROM op_samples WHERE ", kKeyCondition,
          ") + (SELECT COUNT(*) FROM model_measurements WHERE ", kKeyCondition,
          ")")));
  query.Bind(1, key.board).Bind(2, key.engine_build);
  MCUNAS_ASSIGN_OR_RETURN(bool row, query.Step());
  if (!row) return db_->Error("counting a table's rows");
  return query.Int(0) == 0;
}

absl::StatusOr<std::vector<std::string>> LutStore::BuildsWithEntries(
    absl::string_view board) const {
  MCUNAS_ASSIGN_OR_RETURN(
      Statement query,
      db_->Prepare("SELECT DISTINCT e.build_id FROM op_samples x JOIN "
                   "engine_builds e ON e.id = x.build_id JOIN boards b ON "
                   "b.id = x.board_id WHERE b.name = ?1 ORDER BY e.id"));
  query.Bind(1, board);
  std::vector<std::string> builds;
  while (true) {
    MCUNAS_ASSIGN_OR_RETURN(bool row, query.Step());
    if (!row) break;
    builds.push_back(query.Text(0));
  }
  return builds;
}

absl::StatusOr<std::vector<LutSummary>> LutStore::Summaries() const {
  MCUNAS_ASSIGN_OR_RETURN(Statement query, db_->Prepare(R"sql(
SELECT b.name, e.build_id, b.latency_unit,
  (SELECT COUNT(*) FROM op_samples x
     WHERE x.board_id = b.id AND x.build_id = e.id),
  (SELECT COUNT(*) FROM model_measurements m
     WHERE m.board_id = b.id AND m.build_id = e.id AND m.purpose = 'fit'),
  (SELECT COUNT(*) FROM model_measurements m
     WHERE m.board_id = b.id AND m.build_id = e.id AND m.purpose = 'validate'),
  (SELECT MAX(t) FROM (
     SELECT measured_at AS t FROM op_samples x
       WHERE x.board_id = b.id AND x.build_id = e.id
     UNION ALL
     SELECT measured_at FROM model_measurements m
       WHERE m.board_id = b.id AND m.build_id = e.id))
FROM boards b CROSS JOIN engine_builds e
WHERE EXISTS (SELECT 1 FROM op_samples x
                WHERE x.board_id = b.id AND x.build_id = e.id)
   OR EXISTS (SELECT 1 FROM model_measurements m
                WHERE m.board_id = b.id AND m.build_id = e.id)
ORDER BY b.name, e.id
)sql"));
  std::vector<LutSummary> summaries;
  while (true) {
    MCUNAS_ASSIGN_OR_RETURN(bool row, query.Step());
    if (!row) break;
    LutSummary s;
    s.board = query.Text(0);
    s.engine_build = query.Text(1);
    s.latency_unit = query.Text(2);
    s.op_entries = query.Int(3);
    s.fit_models = query.Int(4);
    s.validate_models = query.Int(5);
    s.last_measured = query.IsNull(6) ? "" : query.Text(6);
    summaries.push_back(std::move(s));
  }
  return summaries;
}

}  // namespace mcunas::latency
