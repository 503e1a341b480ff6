// A thin RAII layer over the SQLite C API: a connection and prepared
// statements with typed binds. Only coordinator/store/ includes this.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include <sqlite3.h>

#include "common/status.h"

namespace gauntlet::store {

class Database;

// A prepared statement. One the Database caches goes back to its cache, reset,
// when this handle dies; one prepared while the cached copy is in use (the
// same SQL run inside its own loop) is finalized.
class Statement {
 public:
  Statement(Database* owner, sqlite3* db, sqlite3_stmt* stmt, bool cached)
      : owner_(owner), db_(db), stmt_(stmt), cached_(cached) {}
  Statement(Statement&& other) noexcept
      : owner_(other.owner_), db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)), cached_(other.cached_),
        status_(std::move(other.status_)) {}
  Statement(const Statement&) = delete;
  ~Statement();

  // Binds are 1-based, as in SQLite. Each returns *this for chaining.
  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, int value) { return Bind(index, static_cast<int64_t>(value)); }
  Statement& Bind(int index, double value);
  Statement& Bind(int index, std::string_view text);
  Statement& Bind(int index, const char* text) { return Bind(index, std::string_view(text)); }
  Statement& Bind(int index, const std::string& text) { return Bind(index, std::string_view(text)); }
  Statement& BindBlob(int index, std::string_view bytes);
  Statement& BindNull(int index);

  // Advances one row. Returns true while a row is available, false when done
  // or on an error, which is recorded: every read checks status() after its
  // loop, so a busy or broken database is never mistaken for "no rows".
  bool Step();
  // Runs a statement that returns no rows.
  Status Run();
  [[nodiscard]] Status status() const { return status_; }
  void Reset();

  int64_t Int(int column) const { return sqlite3_column_int64(stmt_, column); }
  double Double(int column) const { return sqlite3_column_double(stmt_, column); }
  std::string Text(int column) const;
  bool IsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

 private:
  Database* owner_;
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  bool cached_;
  Status status_;
};

class Database {
 public:
  // Opens (creating) the file and sets WAL mode, foreign keys and a busy
  // timeout. ":memory:" gives a private in-memory database for tests.
  // `busy_timeout_ms`: how long a statement waits for another connection's
  // lock before failing with UNAVAILABLE.
  static StatusOr<std::unique_ptr<Database>> Open(const std::string& path, int busy_timeout_ms = 5000);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs one or more statements that return no rows.
  Status Exec(std::string_view sql);
  // Runs one statement that returns no rows, prepared once and cached: for
  // the transaction statements every operation runs.
  Status Run(std::string_view sql) { return Prepare(sql).Run(); }
  // Prepares one statement, or takes it from the cache of statements this
  // connection prepared before; asserts on SQL the program wrote wrongly.
  Statement Prepare(std::string_view sql);
  int64_t LastInsertId() const { return sqlite3_last_insert_rowid(db_); }
  int Changes() const { return sqlite3_changes(db_); }
  // Rows stepped through by full-table scans since the connection opened:
  // tests prove hot-path queries use their (partial) indexes with it.
  int64_t full_scan_steps() const { return full_scan_steps_; }

  // Runs `body` inside BEGIN IMMEDIATE ... COMMIT; rolls back when it fails,
  // so a refused operation stores nothing. Inside an open batch (or another
  // transaction) it is a savepoint instead: a failing body undoes only its
  // own changes, and they become durable with the batch.
  template <typename Fn>
  Status Transaction(Fn&& body) {
    if (InTransaction()) {
      GAUNTLET_RETURN_IF_ERROR(Run("SAVEPOINT operation"));
      Status status = body();
      if (!status.ok()) (void)Run("ROLLBACK TO operation");
      Status released = Run("RELEASE operation");
      return status.ok() ? released : status;
    }
    GAUNTLET_RETURN_IF_ERROR(Run("BEGIN IMMEDIATE"));
    Status status = body();
    if (status.ok()) status = Run("COMMIT");
    if (!status.ok()) RollBack(status);
    return status;
  }

  // A batch: one transaction that many operations join (as savepoints) and
  // one COMMIT makes durable together.
  bool InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }
  Status BeginBatch() { return Run("BEGIN IMMEDIATE"); }
  Status CommitBatch();
  void RollBackBatch(const Status& cause) { RollBack(cause); }

 private:
  friend class Statement;
  explicit Database(sqlite3* db) : db_(db) {}
  // A failed ROLLBACK would leave the connection inside the transaction,
  // where every later BEGIN trips: it is logged as critical, never ignored.
  void RollBack(const Status& cause);
  void Release(sqlite3_stmt* stmt);
  void CountFullScans(sqlite3_stmt* stmt) {
    full_scan_steps_ += sqlite3_stmt_status(stmt, SQLITE_STMTSTATUS_FULLSCAN_STEP, /*reset=*/1);
  }

  static int OnProfile(unsigned type, void* self, void* stmt, void* nanoseconds);
  void WriteProfile() const;

  sqlite3* db_;
  // SQL text → its prepared statement and whether a handle holds it now.
  std::unordered_map<std::string, std::pair<sqlite3_stmt*, bool>> cache_;
  // With GAUNTLET_SQL_PROFILE=FILE: time and runs per statement, appended to
  // FILE when the connection closes (how bench/RESULTS.md finds what a job
  // costs in SQL).
  struct StatementCost {
    int64_t nanoseconds = 0;
    int64_t runs = 0;
  };
  int64_t full_scan_steps_ = 0;
  std::string profile_path_;
  std::unordered_map<std::string, StatementCost> profile_;
};

}  // namespace gauntlet::store
