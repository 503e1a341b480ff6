#include "coordinator/store/db.h"

#include <cassert>
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <vector>

#include <spdlog/spdlog.h>

namespace gauntlet::store {

namespace {
Status SqliteError(sqlite3* db, int code, std::string_view what) {
  std::string message = std::string(what) + ": " + sqlite3_errmsg(db);
  // A full disk or a locked file is the operator's to fix, not a bug.
  if (code == SQLITE_FULL || code == SQLITE_IOERR || code == SQLITE_BUSY || code == SQLITE_LOCKED) {
    return Status::Unavailable(message);
  }
  if (code == SQLITE_CONSTRAINT) return Status::AlreadyExists(message);
  return Status::Internal(message);
}
}  // namespace

Statement::~Statement() {
  if (!stmt_) return;
  owner_->CountFullScans(stmt_);
  if (cached_) {
    owner_->Release(stmt_);
  } else {
    sqlite3_finalize(stmt_);
  }
}

Statement& Statement::Bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

Statement& Statement::Bind(int index, double value) {
  sqlite3_bind_double(stmt_, index, value);
  return *this;
}

Statement& Statement::Bind(int index, std::string_view text) {
  sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::BindBlob(int index, std::string_view bytes) {
  sqlite3_bind_blob(stmt_, index, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::BindNull(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

bool Statement::Step() {
  int code = sqlite3_step(stmt_);
  if (code == SQLITE_ROW) return true;
  if (code != SQLITE_DONE) status_ = SqliteError(db_, code, sqlite3_sql(stmt_));
  return false;
}

Status Statement::Run() {
  while (Step()) {
  }
  Status result = status_;
  Reset();
  return result;
}

void Statement::Reset() {
  owner_->CountFullScans(stmt_);
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  status_ = Status::Ok();
}

std::string Statement::Text(int column) const {
  const void* data = sqlite3_column_blob(stmt_, column);
  int size = sqlite3_column_bytes(stmt_, column);
  return data ? std::string(static_cast<const char*>(data), static_cast<size_t>(size)) : std::string();
}

StatusOr<std::unique_ptr<Database>> Database::Open(const std::string& path, int busy_timeout_ms) {
  sqlite3* raw = nullptr;
  int code = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  std::unique_ptr<Database> db(new Database(raw));
  if (code != SQLITE_OK) {
    return Err(Status::Unavailable("cannot open database " + path + ": " + sqlite3_errstr(code) +
                                   "; check that the folder exists and is writable"));
  }
  sqlite3_busy_timeout(raw, busy_timeout_ms);
  if (const char* profile = std::getenv("GAUNTLET_SQL_PROFILE"); profile && *profile) {
    db->profile_path_ = profile;
    sqlite3_trace_v2(raw, SQLITE_TRACE_PROFILE, &Database::OnProfile, db.get());
  }
  // A batch of reports touches many pages; a page cache that holds them all
  // keeps SQLite from spilling them to the WAL before the batch commits.
  GAUNTLET_RETURN_IF_ERROR(db->Exec(
      "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536;"));
  return db;
}

int Database::OnProfile(unsigned, void* self, void* stmt, void* nanoseconds) {
  auto& cost = static_cast<Database*>(self)->profile_[sqlite3_sql(static_cast<sqlite3_stmt*>(stmt))];
  cost.nanoseconds += *static_cast<int64_t*>(nanoseconds);
  ++cost.runs;
  return 0;
}

void Database::WriteProfile() const {
  std::vector<std::pair<std::string, StatementCost>> rows(profile_.begin(), profile_.end());
  std::sort(rows.begin(), rows.end(),
            [](const auto& a, const auto& b) { return a.second.nanoseconds > b.second.nanoseconds; });
  std::ofstream out(profile_path_, std::ios::app);
  out << "ms\truns\tus/run\tstatement\n";
  for (const auto& [sql, cost] : rows) {
    out << cost.nanoseconds / 1e6 << '\t' << cost.runs << '\t' << cost.nanoseconds / 1e3 / cost.runs << '\t'
        << sql << '\n';
  }
}

Database::~Database() {
  if (!profile_path_.empty()) WriteProfile();
  for (auto& [sql, entry] : cache_) sqlite3_finalize(entry.first);
  sqlite3_close_v2(db_);
}

void Database::Release(sqlite3_stmt* stmt) {
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  auto found = cache_.find(sqlite3_sql(stmt));
  assert(found != cache_.end() && found->second.first == stmt && "a cached statement returns to its own entry");
  found->second.second = false;
}

Status Database::CommitBatch() {
  Status status = Run("COMMIT");
  if (!status.ok()) RollBack(status);
  return status;
}

void Database::RollBack(const Status& cause) {
  Status rolled_back = Exec("ROLLBACK");
  if (!rolled_back.ok() && !sqlite3_get_autocommit(db_)) {
    spdlog::critical("ROLLBACK after '{}' failed: {}", cause.ToString(), rolled_back.ToString());
  }
}

Status Database::Exec(std::string_view sql) {
  char* error = nullptr;
  int code = sqlite3_exec(db_, std::string(sql).c_str(), nullptr, nullptr, &error);
  if (code == SQLITE_OK) return Status::Ok();
  std::string message = error ? error : sqlite3_errstr(code);
  sqlite3_free(error);
  return SqliteError(db_, code, message);
}

Statement Database::Prepare(std::string_view sql) {
  auto found = cache_.find(std::string(sql));
  if (found != cache_.end() && !found->second.second) {
    found->second.second = true;
    return Statement(this, db_, found->second.first, /*cached=*/true);
  }
  sqlite3_stmt* stmt = nullptr;
  int code = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (code != SQLITE_OK) {
    spdlog::critical("SQL does not prepare: {}: {}", sqlite3_errmsg(db_), sql);
    assert(false && "SQL written by the program must prepare");
  }
  if (found != cache_.end()) return Statement(this, db_, stmt, /*cached=*/false);
  // Keyed by SQLite's copy of the text, which Release() looks up by.
  cache_.emplace(sqlite3_sql(stmt), std::make_pair(stmt, true));
  return Statement(this, db_, stmt, /*cached=*/true);
}

}  // namespace gauntlet::store
