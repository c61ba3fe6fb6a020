// A thin RAII layer over SQLite's C API for the latency store: a connection
// and prepared statements whose errors come back as absl::Status naming the
// database file and the SQL that failed. Not a general wrapper: just what
// lut_store.cc needs.
//
// A SqliteDb owns its connection; Statements borrow it and must not outlive
// it. Neither is thread-safe (SQLite's connection is used from one thread).
#ifndef MCUNAS_LATENCY_SQLITE_DB_H_
#define MCUNAS_LATENCY_SQLITE_DB_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

struct sqlite3;
struct sqlite3_stmt;

namespace mcunas::latency {

class SqliteDb;

class Statement {
 public:
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  ~Statement();

  // Binds 1-based parameter `i`.
  Statement& Bind(int i, int64_t value);
  Statement& Bind(int i, double value);
  Statement& Bind(int i, absl::string_view value);

  // Runs one step: true when a row is ready, false when done.
  absl::StatusOr<bool> Step();
  // Steps to the end, for statements that return no rows.
  absl::Status Run();
  // Resets for another round of Bind/Step (bindings are kept until rebound).
  void Reset();

  int64_t Int(int column) const;
  double Real(int column) const;
  std::string Text(int column) const;
  bool IsNull(int column) const;

 private:
  friend class SqliteDb;
  Statement(const SqliteDb* db, sqlite3_stmt* stmt, std::string sql)
      : db_(db), stmt_(stmt), sql_(std::move(sql)) {}

  const SqliteDb* db_;
  sqlite3_stmt* stmt_;
  std::string sql_;
  absl::Status bind_status_;  // the first Bind failure, reported by Step
};

class SqliteDb {
 public:
  // Opens (creating when missing) `path` with WAL journaling, foreign keys
  // on and a busy timeout, so a second process waits instead of failing.
  static absl::StatusOr<std::unique_ptr<SqliteDb>> Open(
      const std::string& path);
  ~SqliteDb();

  // Runs one or more statements that return no rows.
  absl::Status Exec(absl::string_view sql);
  absl::StatusOr<Statement> Prepare(absl::string_view sql) const;

  // PRAGMA user_version (the schema version).
  absl::StatusOr<int64_t> UserVersion();

  const std::string& path() const { return path_; }
  // "<path>: <sqlite's message> (in: <sql>)".
  absl::Status Error(absl::string_view sql) const;

 private:
  SqliteDb(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}

  sqlite3* db_;
  std::string path_;
};

// Runs `body` inside BEGIN IMMEDIATE ... COMMIT; rolls back when it fails.
template <typename Body>
absl::Status InTransaction(SqliteDb& db, Body body) {
  if (absl::Status s = db.Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
  absl::Status status = body();
  if (!status.ok()) {
    db.Exec("ROLLBACK").IgnoreError();  // the body's error is the news
    return status;
  }
  return db.Exec("COMMIT");
}

}  // namespace mcunas::latency

#endif  // MCUNAS_LATENCY_SQLITE_DB_H_
