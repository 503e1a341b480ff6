// The store on a real SQLite file: reads that meet a locked or failing
// database say so (UNAVAILABLE, with the cause) instead of answering "no such
// row", and the statement cache survives re-entrant use.
#include "coordinator/store/store.h"

#include <sqlite3.h>

#include <gtest/gtest.h>

#include <filesystem>

#include "coordinator/sched/initial_states.h"
#include "coordinator/spec/parser.h"
#include "coordinator/store/db.h"
#include "lib/jobs/job_state.h"
#include "tests/unit/test_util.h"

namespace gauntlet::store {
namespace {

std::string TempPath(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("gauntlet-store-test-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  auto path = (dir / name).string();
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  return path;
}

// Another process's connection to the same file: it holds the write lock
// while it lives, or changes the schema under the store.
class OtherConnection {
 public:
  explicit OtherConnection(const std::string& path) { EXPECT_EQ(sqlite3_open(path.c_str(), &db_), SQLITE_OK); }
  ~OtherConnection() { sqlite3_close(db_); }
  void HoldWriteLock() { Exec("BEGIN IMMEDIATE; INSERT INTO events(at_ms, kind, message) VALUES (0, 'x', 'y');"); }
  void Exec(const char* sql) {
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db_, sql, nullptr, nullptr, &error), SQLITE_OK) << (error ? error : "");
    sqlite3_free(error);
  }

 private:
  sqlite3* db_ = nullptr;
};

StatusOr<int64_t> InsertOneJob(Store& store) {
  auto spec = spec::ParseSweepSpec("name: one\njobs: [{name: a, kind: exec, command: x}]", "t.yaml");
  if (!spec) return Err(spec.error());
  auto plan = expand::Expand(*spec);
  if (!plan) return Err(plan.error());
  int64_t job_id = 0;
  GAUNTLET_RETURN_IF_ERROR(store.Transaction([&]() -> Status {
    GAUNTLET_ASSIGN_OR_RETURN(auto inserted, store.InsertSweep(*plan, "", "t.yaml", 1, sched::InitialStates(*plan, {}, {})));
    job_id = inserted.job_ids.at(0);
    return Status::Ok();
  }));
  return job_id;
}

TEST(Store, ALockedDatabaseIsUnavailableWithTheCause) {
  const std::string path = TempPath("locked.db");
  auto store = Store::Open(path, /*busy_timeout_ms=*/50);
  ASSERT_TRUE(store.has_value()) << store.error().ToString();
  auto job_id = InsertOneJob(**store);
  ASSERT_TRUE(job_id.has_value()) << job_id.error().ToString();
  {
    OtherConnection other(path);
    other.HoldWriteLock();
    Status write = (*store)->SetJobState(*job_id, v1::JOB_STATE_READY, "", 2);
    EXPECT_EQ(write.code(), Status::Code::kUnavailable) << write.ToString();
    EXPECT_NE(write.message().find("locked"), std::string::npos) << write.message();
    Status transaction = (*store)->Transaction([] { return Status::Ok(); });
    EXPECT_EQ(transaction.code(), Status::Code::kUnavailable) << transaction.ToString();
    auto job = (*store)->GetJob(*job_id);
    ASSERT_TRUE(job.has_value() && job->has_value()) << "WAL readers do not wait for the writer";
  }
  EXPECT_TRUE((*store)->SetJobState(*job_id, v1::JOB_STATE_READY, "", 2).ok()) << "it writes once the lock is gone";
}

TEST(Store, AFailingReadIsAnErrorNotAMissingRow) {
  const std::string path = TempPath("broken.db");
  auto store = Store::Open(path, /*busy_timeout_ms=*/50);
  ASSERT_TRUE(store.has_value());
  auto job_id = InsertOneJob(**store);
  ASSERT_TRUE(job_id.has_value());
  ASSERT_TRUE((*store)->GetJob(*job_id)->has_value());
  OtherConnection other(path);
  other.Exec("DROP TABLE job_artifacts");
  auto job = (*store)->GetJob(*job_id);
  ASSERT_FALSE(job.has_value()) << "a read that failed must not answer 'no such job'";
  EXPECT_NE(job.error().code(), Status::Code::kNotFound);
  EXPECT_NE(job.error().message().find("job_artifacts"), std::string::npos) << job.error().message();
}

TEST(Store, AMissingRowIsNotFoundAndNothingElse) {
  auto store = Store::Open(":memory:");
  ASSERT_TRUE(store.has_value());
  auto job = (*store)->GetJob(42);
  ASSERT_TRUE(job.has_value());
  EXPECT_FALSE(job->has_value());
  auto sweep = (*store)->GetSweep(42, false);
  ASSERT_TRUE(sweep.has_value());
  EXPECT_FALSE(sweep->has_value());
}

TEST(Store, ASweepIsFinishedWhenNoJobCanChangeStateAndAgreesWithGetSweep) {
  auto store = Store::Open(":memory:");
  ASSERT_TRUE(store.has_value());
  auto job_id = InsertOneJob(**store);
  ASSERT_TRUE(job_id.has_value());
  auto job = (*store)->GetJob(*job_id);
  const int64_t sweep_id = (*job)->sweep_id();
  for (auto state : {v1::JOB_STATE_READY, v1::JOB_STATE_LEASED, v1::JOB_STATE_RUNNING, v1::JOB_STATE_FAILED,
                     v1::JOB_STATE_PENDING, v1::JOB_STATE_SUCCEEDED}) {
    ASSERT_TRUE((*store)->SetJobState(*job_id, state, "", 2).ok());
    auto finished = (*store)->SweepFinished(sweep_id);
    ASSERT_TRUE(finished.has_value());
    EXPECT_EQ(*finished, !jobs::IsUnfinished(state)) << jobs::JobStateName(state);
    EXPECT_EQ(*finished, (*(*store)->GetSweep(sweep_id, false))->finished()) << jobs::JobStateName(state);
  }
}

TEST(Database, TheStatementCacheServesNestedUseOfTheSameSql) {
  auto db = Database::Open(":memory:");
  ASSERT_TRUE(db.has_value());
  ASSERT_TRUE((*db)->Exec("CREATE TABLE t(x INTEGER); INSERT INTO t VALUES (1), (2), (3);").ok());
  int pairs = 0;
  Statement outer = (*db)->Prepare("SELECT x FROM t ORDER BY x");
  while (outer.Step()) {
    Statement inner = (*db)->Prepare("SELECT x FROM t ORDER BY x");  // The cached copy is busy.
    while (inner.Step()) ++pairs;
    ASSERT_TRUE(inner.status().ok());
  }
  ASSERT_TRUE(outer.status().ok());
  EXPECT_EQ(pairs, 9);
  // The cached statement came back reset: it runs from the start again.
  Statement again = (*db)->Prepare("SELECT x FROM t ORDER BY x");
  ASSERT_TRUE(again.Step());
  EXPECT_EQ(again.Int(0), 1);
}

class LockedManagerTest : public testing_util::ManagerTest {};

TEST_F(LockedManagerTest, TheApiSaysUnavailableNotNotFound) {
  const std::string path = TempPath("manager.db");
  auto store = Store::Open(path, /*busy_timeout_ms=*/50);
  ASSERT_TRUE(store.has_value());
  store_ = std::move(*store);
  jobs_ = std::make_unique<JobManager>(*store_, clock_, JobManagerOptions{});
  ASSERT_TRUE(jobs_->Recover().ok());
  Submit("name: one\njobs: [{name: a, kind: exec, command: x}]");
  OtherConnection other(path);
  other.HoldWriteLock();
  v1::CancelRequest cancel;
  cancel.set_job_id(1);
  auto cancelled = jobs_->Cancel(cancel);
  ASSERT_FALSE(cancelled.has_value());
  EXPECT_EQ(cancelled.error().code(), Status::Code::kUnavailable) << cancelled.error().ToString();
  EXPECT_EQ(StateOf(1), v1::JOB_STATE_READY) << "nothing half-stored";
}

}  // namespace
}  // namespace gauntlet::store
