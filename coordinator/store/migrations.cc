#include "coordinator/store/migrations.h"

#include <algorithm>
#include <set>
#include <string>

#include <spdlog/spdlog.h>

namespace gauntlet::migrations_embedded {
const std::vector<std::pair<std::string_view, std::string_view>>& Files();
}

namespace gauntlet::store {

const std::vector<MigrationFile>& BuiltInMigrations() { return migrations_embedded::Files(); }

StatusOr<int> ApplyMigrations(Database& db, const std::vector<MigrationFile>& files) {
  GAUNTLET_RETURN_IF_ERROR(db.Exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at_ms INTEGER NOT NULL)"));
  std::set<std::string> applied;
  {
    Statement select = db.Prepare("SELECT name FROM schema_migrations");
    while (select.Step()) applied.insert(select.Text(0));
    GAUNTLET_RETURN_IF_ERROR(select.status());
  }
  std::vector<MigrationFile> sorted = files;
  std::sort(sorted.begin(), sorted.end());
  std::set<std::string> known;
  for (const auto& [name, sql] : sorted) known.insert(std::string(name));
  for (const auto& name : applied) {
    if (!known.contains(name)) {
      return Err(Status::FailedPrecondition("the database has migration " + name +
                                            ", which this build does not know; run a newer gauntlet-coordinator"));
    }
  }
  int count = 0;
  for (const auto& [name, sql] : sorted) {
    if (applied.contains(std::string(name))) continue;
    Status status = db.Transaction([&]() -> Status {
      GAUNTLET_RETURN_IF_ERROR(db.Exec(sql));
      return db.Prepare("INSERT INTO schema_migrations(name, applied_at_ms) VALUES (?, strftime('%s','now') * 1000)")
          .Bind(1, name)
          .Run();
    });
    if (!status.ok()) return Err(status.WithContext("migration " + std::string(name)));
    spdlog::info("applied migration {}", name);
    ++count;
  }
  return count;
}

}  // namespace gauntlet::store
