// Schedules through JobManager over a real SQLite file and a fake clock:
// each slot fires once across restarts, a crash between the sweep and its
// firing's record, a second coordinator's attempt, and the policies.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "coordinator/store/database_lock.h"
#include "tests/unit/test_util.h"

namespace gauntlet {
namespace {

constexpr int64_t kHour = 3'600'000;
constexpr int64_t kDay = 24 * kHour;
// 2026-05-03T00:00Z.
constexpr int64_t kMidnight = 1'777'766'400'000;

constexpr const char* kNightly = R"(
name: nightly
schedule: {cron: "0 2 * * *", timezone: Europe/Zurich}
jobs: [{name: a, kind: exec, command: x}]
)";

class ScheduleTest : public testing::Test {
 protected:
  void SetUp() override {
    auto dir = std::filesystem::temp_directory_path() / ("gauntlet-schedule-test-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    path_ = (dir / (std::string(testing::UnitTest::GetInstance()->current_test_info()->name()) + ".db")).string();
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + suffix);
    Reopen();
  }

  // A fresh coordinator on the same file, as after a restart.
  void Reopen(JobManagerOptions options = {10'000, 10'000, 10'000}) {
    jobs_.reset();
    store_.reset();
    auto store = store::Store::Open(path_);
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    store_ = std::move(*store);
    jobs_ = std::make_unique<JobManager>(*store_, clock_, options);
    ASSERT_TRUE(jobs_->Recover().ok());
  }

  void AddAgent() {
    v1::RegisterRequest request;
    request.set_name("n1");
    request.add_devices()->set_kind("cpu");
    ASSERT_TRUE(jobs_->Register(request).has_value());
  }

  StatusOr<v1::SubmitSweepResponse> SubmitSpec(const std::string& text) {
    v1::SubmitSweepRequest request;
    request.set_spec_text(text);
    request.set_source("nightly.yaml");
    return jobs_->SubmitSweep(request);
  }

  std::vector<v1::Sweep> Sweeps() { return jobs_->ListSweeps(100).value_or(std::vector<v1::Sweep>{}); }
  std::vector<v1::Firing> History(const std::string& name = "nightly") {
    return jobs_->ScheduleHistory(name, 0).value_or(std::vector<v1::Firing>{});
  }
  // Sets the clock to 3 May 2026, 00:00 UTC plus `ms`; it starts at 2 May, 12:00.
  void At(int64_t ms) { clock_.Advance(kMidnight + ms - clock_.NowMs()); }

  std::string path_;
  FakeClock clock_{kMidnight - 12 * kHour};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<JobManager> jobs_;
};

TEST_F(ScheduleTest, ASpecWithScheduleFiresEachSlotOnce) {
  auto response = SubmitSpec(kNightly);
  ASSERT_TRUE(response.has_value()) << response.error().ToString();
  EXPECT_EQ(response->sweep().id(), 0) << "a schedule, not a sweep";
  EXPECT_EQ(response->schedule().name(), "nightly");
  // 02:00 in Zurich in May is 00:00 UTC.
  EXPECT_EQ(response->schedule().next_local(), "2026-05-03T02:00+02:00");
  EXPECT_TRUE(Sweeps().empty());

  At(1000);
  jobs_->Tick();
  jobs_->Tick();
  auto sweeps = Sweeps();
  ASSERT_EQ(sweeps.size(), 1u);
  EXPECT_EQ(sweeps[0].schedule(), "nightly");
  EXPECT_EQ(sweeps[0].nominal_date(), "2026-05-03");
  auto history = History();
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0].kind(), "fired");
  EXPECT_EQ(history[0].sweep_id(), sweeps[0].id());
  EXPECT_EQ(history[0].local_time(), "2026-05-03T02:00+02:00");

  At(kDay + 1000);
  jobs_->Tick();
  ASSERT_EQ(Sweeps().size(), 2u);
  EXPECT_EQ(Sweeps()[0].nominal_date(), "2026-05-04");
  auto schedule = jobs_->GetSchedule("nightly");
  ASSERT_TRUE(schedule.has_value());
  EXPECT_EQ(schedule->next_local(), "2026-05-05T02:00+02:00");
  EXPECT_NE(schedule->spec_text().find("name: nightly"), std::string::npos);
}

TEST_F(ScheduleTest, ARestartDoesNotFireASlotAgain) {
  ASSERT_TRUE(SubmitSpec(kNightly).has_value());
  At(1000);
  jobs_->Tick();
  ASSERT_EQ(Sweeps().size(), 1u);
  Reopen();
  jobs_->Tick();
  At(kHour);
  jobs_->Tick();
  EXPECT_EQ(Sweeps().size(), 1u);
  EXPECT_EQ(History().size(), 1u);
}

TEST_F(ScheduleTest, ACrashBetweenTheSweepAndItsRecordStillFiresOnce) {
  ASSERT_TRUE(SubmitSpec(kNightly).has_value());
  At(1000);
  JobManagerOptions crashing{10'000, 10'000, 10'000};
  crashing.crash_before_recording_firing = true;
  EXPECT_EXIT(
      {
        Reopen(crashing);
        jobs_->Tick();
      },
      testing::KilledBySignal(SIGKILL), "");
  // The child stored the sweep, then died before the firing's record: one
  // transaction, so neither is there.
  Reopen();
  EXPECT_TRUE(Sweeps().empty());
  EXPECT_TRUE(History().empty());
  jobs_->Tick();
  jobs_->Tick();
  EXPECT_EQ(Sweeps().size(), 1u);
  EXPECT_EQ(History().size(), 1u);
}

TEST_F(ScheduleTest, ASecondCoordinatorOnTheFileIsRefusedAndCannotFireTwice) {
  auto first = store::DatabaseLock::Acquire(path_, "the coordinator with pid 4242 on lab-7 (gRPC :7070)");
  ASSERT_TRUE(first.has_value());
  auto second = store::DatabaseLock::Acquire(path_, "another");
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().message(),
            "database " + path_ + " is in use by the coordinator with pid 4242 on lab-7 (gRPC :7070): "
            "stop that coordinator first, or give this one another --db");
  first->reset();
  EXPECT_TRUE(store::DatabaseLock::Acquire(path_, "the next").has_value()) << "released with its holder";

  // Even past the lock, the slot's UNIQUE key keeps a second manager on
  // the same file from firing it again.
  ASSERT_TRUE(SubmitSpec(kNightly).has_value());
  auto other_store = store::Store::Open(path_);
  ASSERT_TRUE(other_store.has_value());
  JobManager other(**other_store, clock_, JobManagerOptions{10'000, 10'000, 10'000});
  ASSERT_TRUE(other.Recover().ok());
  At(1000);
  jobs_->Tick();
  other.Tick();
  EXPECT_EQ(Sweeps().size(), 1u);
}

TEST_F(ScheduleTest, DowntimeCatchesUpTheLatestSlotAndRecordsTheSkipped) {
  ASSERT_TRUE(SubmitSpec(kNightly).has_value());
  At(2 * kDay + 5 * kHour);  // Down over three nights.
  jobs_->Tick();
  ASSERT_EQ(Sweeps().size(), 1u);
  EXPECT_EQ(Sweeps()[0].nominal_date(), "2026-05-05");
  auto history = History();
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(history[0].kind(), "fired");
  EXPECT_EQ(history[0].detail(), "fired late, on catching up");
  for (int i = 1; i < 3; ++i) EXPECT_EQ(history[i].kind(), "skipped_missed") << i;
}

TEST_F(ScheduleTest, ForbidSkipsANightWhileThePreviousRunsAndRunNowIsRefused) {
  ASSERT_TRUE(SubmitSpec(R"(
name: nightly
schedule: {cron: "@daily", concurrency: forbid}
jobs: [{name: a, kind: exec, command: x}]
)").has_value());
  At(1000);
  jobs_->Tick();
  ASSERT_EQ(Sweeps().size(), 1u);
  At(kDay + 1000);  // Night two: night one's job never ran (no agent).
  jobs_->Tick();
  EXPECT_EQ(Sweeps().size(), 1u);
  auto history = History();
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0].kind(), "skipped_running");
  auto refused = jobs_->RunScheduleNow("nightly");
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(refused.error().message().find("still runs and its concurrency is forbid"), std::string::npos);
}

TEST_F(ScheduleTest, ReplaceCancelsTheRunningFiring) {
  ASSERT_TRUE(SubmitSpec(R"(
name: nightly
schedule: {cron: "@daily", concurrency: replace}
jobs: [{name: a, kind: exec, command: x}]
)").has_value());
  At(1000);
  jobs_->Tick();
  auto now = jobs_->RunScheduleNow("nightly");
  ASSERT_TRUE(now.has_value()) << now.error().ToString();
  EXPECT_EQ(now->kind(), "run_now");
  EXPECT_NE(now->detail().find("replaced sweep 1 (1 jobs cancelled)"), std::string::npos) << now->detail();
  auto first = jobs_->GetSweep(1);
  EXPECT_TRUE(first->finished());
  EXPECT_EQ(first->jobs_by_state().at("JOB_STATE_CANCELLED"), 1);
}

TEST_F(ScheduleTest, PausedSlotsDoNotFireAndAreNotCaughtUpOnResume) {
  ASSERT_TRUE(SubmitSpec(kNightly).has_value());
  auto paused = jobs_->PauseSchedule("nightly", /*resume=*/false);
  ASSERT_TRUE(paused.has_value());
  EXPECT_TRUE(paused->paused());
  EXPECT_EQ(paused->next_slot_ms(), 0);
  At(kDay + 1000);
  jobs_->Tick();
  EXPECT_TRUE(Sweeps().empty());
  auto resumed = jobs_->PauseSchedule("nightly", /*resume=*/true);
  ASSERT_TRUE(resumed.has_value());
  jobs_->Tick();
  EXPECT_TRUE(Sweeps().empty()) << "the nights passed while paused stay unfired";
  EXPECT_EQ(resumed->next_local(), "2026-05-05T02:00+02:00");
}

TEST_F(ScheduleTest, AFiringTheFarmRefusesIsRecordedAsFailed) {
  AddAgent();  // One cpu device: a job asking for four never fits.
  ASSERT_TRUE(SubmitSpec(R"(
name: nightly
schedule: {cron: "@daily"}
jobs: [{name: a, kind: exec, command: x}]
)").has_value());
  v1::AddScheduleRequest add;
  add.set_name("too-big");
  add.mutable_policy()->set_cron("@daily");
  add.mutable_sweep()->set_spec_text("name: big\njobs: [{name: a, kind: exec, command: x, devices: 4}]");
  ASSERT_TRUE(jobs_->AddSchedule(add).has_value());
  At(1000);
  jobs_->Tick();
  auto history = History("too-big");
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0].kind(), "failed");
  EXPECT_NE(history[0].detail().find("4 devices"), std::string::npos) << history[0].detail();
  EXPECT_EQ(History("nightly").at(0).kind(), "fired");
}

TEST_F(ScheduleTest, DetectionSettingsTravelFromTheSpecToTheSchedule) {
  ASSERT_TRUE(SubmitSpec(R"(
name: nightly
schedule: {cron: "@daily", min_effect: {default: 0.04, itl_ms: 0.02}, higher_is_better: [score]}
jobs: [{name: a, kind: exec, command: x}]
)").has_value());
  auto schedule = jobs_->GetSchedule("nightly");
  ASSERT_TRUE(schedule.has_value());
  EXPECT_EQ(schedule->policy().min_effect().at("itl_ms"), 0.02);
  EXPECT_EQ(schedule->policy().min_effect().at("default"), 0.04);
  ASSERT_EQ(schedule->policy().higher_is_better_size(), 1);
  EXPECT_EQ(schedule->policy().higher_is_better(0), "score");
  auto refused = SubmitSpec("name: nightly\nschedule: {cron: \"@daily\", min_effect: {itl_ms: -1}}\n"
                            "jobs: [{name: a, kind: exec, command: x}]\n");
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message().find("schedule.min_effect.itl_ms"), std::string::npos)
      << refused.error().message();
}

TEST_F(ScheduleTest, BadSchedulesAreRefusedNamingTheField) {
  auto error = [&](const std::string& schedule) {
    auto response = SubmitSpec("name: nightly\nschedule: " + schedule + "\njobs: [{name: a, kind: exec, command: x}]\n");
    return response ? std::string() : response.error().message();
  };
  EXPECT_NE(error("{cron: \"0 25 * * *\"}").find("schedule.cron: cron \"0 25 * * *\": hour \"25\" is out of range 0-23"),
            std::string::npos)
      << error("{cron: \"0 25 * * *\"}");
  EXPECT_NE(error("{cron: \"@daily\", timezone: Mars/Base}").find("schedule.timezone"), std::string::npos);
  EXPECT_NE(error("{cron: \"@daily\", max_catch_up: -1}").find("schedule.max_catch_up"), std::string::npos);
  EXPECT_NE(error("{cron: \"@daily\", concurrency: queue}").find("schedule.concurrency"), std::string::npos);
  EXPECT_NE(error("{cron: \"@daily\", notify: {webhook: \"ftp://x\"}}").find("not an http(s) URL"),
            std::string::npos);
  EXPECT_NE(error("{timezone: UTC}").find("schedule.cron: missing"), std::string::npos);

  v1::AddScheduleRequest add;
  add.set_name("x");
  add.mutable_policy()->set_cron("@daily");
  add.mutable_policy()->set_max_catch_up(-1);
  add.mutable_sweep()->set_spec_text("name: x\njobs: [{name: a, kind: exec, command: x}]");
  auto refused = jobs_->AddSchedule(add);
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message().find("max_catch_up -1 is negative"), std::string::npos);
  add.mutable_policy()->set_max_catch_up(0);
  add.set_name("bad name");
  EXPECT_NE(jobs_->AddSchedule(add).error().message().find("schedule name \"bad name\" is not valid"),
            std::string::npos);
  add.set_name("x");
  ASSERT_TRUE(jobs_->AddSchedule(add).has_value());
  EXPECT_EQ(jobs_->AddSchedule(add).error().code(), Status::Code::kAlreadyExists);
  EXPECT_TRUE(jobs_->ListSchedules()->size() == 1) << "nothing half-stored by the refusals";
  EXPECT_EQ(jobs_->GetSchedule("missing").error().code(), Status::Code::kNotFound);
}

}  // namespace
}  // namespace gauntlet

namespace gauntlet {
namespace {

// Nights of a benchmark schedule run to the end by hand: the agent's side
// is plain calls, each job reporting the samples it is given.
class RerunTest : public ScheduleTest {
 protected:
  void SetUp() override {
    ScheduleTest::SetUp();
    AddAgent();
    ASSERT_TRUE(SubmitSpec("name: bench-nightly\nschedule: {cron: \"@daily\"}\n"
                           "jobs: [{name: bench, kind: exec, command: x}]\n")
                    .has_value());
  }

  // Runs every job that becomes ready, each reporting `samples` as its ITL.
  void RunReadyJobs(const std::vector<double>& samples) {
    for (int round = 0; round < 4; ++round) {
      jobs_->Tick();
      v1::HeartbeatRequest poll;
      poll.set_name("n1");
      auto answer = jobs_->Heartbeat(poll);
      ASSERT_TRUE(answer.has_value());
      for (const auto& assignment : answer->assignments()) {
        v1::AttemptReport report;
        report.set_attempt_id(assignment.attempt_id());
        report.set_state(v1::ATTEMPT_STATE_SUCCEEDED);
        report.set_result_json(nlohmann::json{{"verdict", "pass"}, {"samples", {{"itl_ms", samples}}}}.dump());
        ASSERT_TRUE(jobs_->ReportAttempt(report).has_value());
      }
    }
  }

  // One night: fired, run, then judged.
  int64_t Night(const std::vector<double>& samples) {
    clock_.Advance(2000);
    auto fired = jobs_->RunScheduleNow("bench-nightly");
    EXPECT_TRUE(fired.has_value()) << fired.error().ToString();
    RunReadyJobs(samples);
    clock_.Advance(2000);
    jobs_->Tick();
    return fired ? fired->sweep_id() : 0;
  }

  std::string ItlKind() {
    v1::CompareRequest request;
    request.set_schedule("bench-nightly");
    auto compare = jobs_->Compare(request);
    EXPECT_TRUE(compare.has_value()) << compare.error().ToString();
    const v1::CompareResponse reply = compare.value_or(v1::CompareResponse());
    for (const auto& finding : reply.findings()) {
      if (finding.metric() == "itl_ms") return finding.kind() + " " + finding.test();
    }
    return "(none)";
  }

  std::vector<std::string> JobNames(int64_t sweep) {
    std::vector<std::string> names;
    v1::ListJobsRequest request;
    request.set_sweep_id(sweep);
    auto listed = jobs_->ListJobs(request);
    EXPECT_TRUE(listed.has_value());
    if (listed) {
      for (const auto& job : listed->jobs()) names.push_back(job.name());
    }
    return names;
  }

  void History() {
    for (int n = 0; n < 8; ++n) Night({10.0 + 0.05 * (n % 3), 10.1, 9.95});
  }
};

TEST_F(RerunTest, ABenchmarkRegressionOnOneNightIsRerunAndConfirmed) {
  History();
  const int64_t night = Night({13.0, 13.1, 12.9});
  EXPECT_EQ(JobNames(night), (std::vector<std::string>{"bench", "bench.rerun"}));
  EXPECT_FALSE(jobs_->GetSweep(night)->finished()) << "the night waits for its re-run";
  RunReadyJobs({13.1, 12.95, 13.0});
  EXPECT_NE(ItlKind().find("bench_regression"), std::string::npos) << ItlKind();
  EXPECT_NE(ItlKind().find("confirmed by 2 runs"), std::string::npos) << ItlKind();
  clock_.Advance(2000);
  jobs_->Tick();
  EXPECT_EQ(JobNames(night).size(), 2u) << "re-run once, never again";
}

TEST_F(RerunTest, ARerunThatDisagreesClearsTheNight) {
  History();
  const int64_t night = Night({13.0, 13.1, 12.9});
  ASSERT_EQ(JobNames(night).size(), 2u);
  RunReadyJobs({10.0, 10.05, 9.98});
  EXPECT_EQ(ItlKind().substr(0, 9), "unchanged") << ItlKind();
}

TEST_F(RerunTest, AnOrdinaryNightIsNotRerun) {
  History();
  const int64_t night = Night({10.02, 10.1, 9.97});
  EXPECT_EQ(JobNames(night), std::vector<std::string>{"bench"});
  EXPECT_EQ(ItlKind().substr(0, 9), "unchanged") << ItlKind();
}

}  // namespace
}  // namespace gauntlet
