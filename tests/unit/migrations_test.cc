#include "coordinator/store/migrations.h"

#include <gtest/gtest.h>

namespace gauntlet::store {
namespace {

TEST(MigrationsTest, AppliesInOrderOnceAndRecordsThem) {
  auto db = Database::Open(":memory:");
  ASSERT_TRUE(db.has_value());
  std::vector<MigrationFile> files = {{"0002_b.sql", "ALTER TABLE t ADD COLUMN b INTEGER;"},
                                      {"0001_a.sql", "CREATE TABLE t (a INTEGER);"}};
  auto applied = ApplyMigrations(**db, files);
  ASSERT_TRUE(applied.has_value()) << applied.error().ToString();
  EXPECT_EQ(*applied, 2);
  auto again = ApplyMigrations(**db, files);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again, 0);
  EXPECT_TRUE((*db)->Exec("INSERT INTO t(a, b) VALUES (1, 2)").ok());
  Statement count = (*db)->Prepare("SELECT count(*) FROM schema_migrations");
  ASSERT_TRUE(count.Step());
  EXPECT_EQ(count.Int(0), 2);
}

TEST(MigrationsTest, AFailingMigrationLeavesNothingBehind) {
  auto db = Database::Open(":memory:");
  ASSERT_TRUE(db.has_value());
  std::vector<MigrationFile> files = {{"0001_bad.sql", "CREATE TABLE u (a INTEGER); SELECT * FROM missing;"}};
  auto applied = ApplyMigrations(**db, files);
  ASSERT_FALSE(applied.has_value());
  EXPECT_NE(applied.error().message().find("0001_bad.sql"), std::string::npos);
  EXPECT_FALSE((*db)->Exec("INSERT INTO u(a) VALUES (1)").ok()) << "the table must have been rolled back";
}

TEST(MigrationsTest, RefusesADatabaseFromANewerBuild) {
  auto db = Database::Open(":memory:");
  ASSERT_TRUE(db.has_value());
  ASSERT_TRUE(ApplyMigrations(**db, {{"0001_a.sql", "CREATE TABLE t (a INTEGER);"}}).has_value());
  auto older = ApplyMigrations(**db, {});
  ASSERT_FALSE(older.has_value());
  EXPECT_NE(older.error().message().find("0001_a.sql"), std::string::npos);
}

TEST(MigrationsTest, BuiltInMigrationsApplyToAFreshDatabase) {
  auto db = Database::Open(":memory:");
  ASSERT_TRUE(db.has_value());
  ASSERT_FALSE(BuiltInMigrations().empty());
  auto applied = ApplyMigrations(**db, BuiltInMigrations());
  ASSERT_TRUE(applied.has_value()) << applied.error().ToString();
  EXPECT_EQ(*applied, static_cast<int>(BuiltInMigrations().size()));
}

}  // namespace
}  // namespace gauntlet::store
