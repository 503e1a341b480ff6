// Applies schema migrations: NNNN_name.sql files, in name order, each in its
// own transaction, recorded in schema_migrations. An applied file is never
// edited; a schema change is a new file.
#pragma once

#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "coordinator/store/db.h"

namespace gauntlet::store {

using MigrationFile = std::pair<std::string_view, std::string_view>;  // name, SQL

// The migrations compiled into this binary from migrations/.
const std::vector<MigrationFile>& BuiltInMigrations();

// Applies the files not yet recorded. Returns how many were applied. Refuses
// a database that records a migration this binary does not know (it was
// written by a newer Gauntlet).
StatusOr<int> ApplyMigrations(Database& db, const std::vector<MigrationFile>& files);

}  // namespace gauntlet::store
