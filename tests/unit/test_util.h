// What the coordinator's unit tests share: a JobManager over a real
// in-memory SQLite store and a fake clock, and the agent's side of the
// conversation as plain calls. No sockets, threads or sleeps.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "coordinator/job_manager.h"

namespace gauntlet::testing_util {

class ManagerTest : public testing::Test {
 protected:
  void SetUp() override { Open(); }

  void Open(JobManagerOptions options = {10'000, 10'000, 10'000}) {
    auto store = store::Store::Open(":memory:");
    ASSERT_TRUE(store.has_value()) << store.error().ToString();
    store_ = std::move(*store);
    jobs_ = std::make_unique<JobManager>(*store_, clock_, options);
    ASSERT_TRUE(jobs_->Recover().ok());
  }

  void AddAgent(const std::string& name, int devices, std::vector<int64_t> running = {},
                const std::string& kind = "cpu") {
    v1::RegisterRequest request;
    request.set_name(name);
    for (int i = 0; i < devices; ++i) {
      auto* device = request.add_devices();
      device->set_index(i);
      device->set_kind(kind);
    }
    for (int64_t id : running) request.add_running_attempts(id);
    // A restarted agent presents the session it saved, as the real one does.
    core::AgentManager::Presented presented;
    presented.session = sessions_[name];
    auto registered = jobs_->Register(request, presented);
    ASSERT_TRUE(registered.has_value()) << registered.error().ToString();
    sessions_[name] = registered->session();
  }
  std::map<std::string, std::string> sessions_;  // Agent → its session credential.

  StatusOr<v1::SubmitSweepResponse> SubmitRequest(const std::string& text, bool dry_run = false,
                                                  std::vector<std::string> force = {},
                                                  std::map<std::string, std::string> files = {}) {
    v1::SubmitSweepRequest request;
    request.set_spec_text(text);
    request.set_source("t.yaml");
    request.set_dry_run(dry_run);
    for (const auto& stage : force) request.add_force(stage);
    for (const auto& [name, content] : files) (*request.mutable_files())[name] = content;
    return jobs_->SubmitSweep(request);
  }

  int64_t Submit(const std::string& text) {
    auto response = SubmitRequest(text);
    EXPECT_TRUE(response.has_value()) << response.error().ToString();
    return response ? response->sweep().id() : 0;
  }

  // One scheduler pass (as the coordinator's loop runs it), then the agent's
  // heartbeat without waiting.
  v1::HeartbeatResponse Poll(const std::string& agent, std::vector<int64_t> running = {}) {
    jobs_->Tick();
    v1::HeartbeatRequest request;
    request.set_name(agent);
    request.set_wait_ms(0);
    for (int64_t id : running) request.add_running_attempts(id);
    auto response = jobs_->Heartbeat(request);
    EXPECT_TRUE(response.has_value());
    return response.value_or(v1::HeartbeatResponse());
  }

  v1::ReportAttemptResponse Report(int64_t attempt, v1::AttemptState state, const std::string& reason = "",
                                   v1::FailureClass failure = v1::FAILURE_CLASS_UNSPECIFIED) {
    v1::AttemptReport report;
    report.set_attempt_id(attempt);
    report.set_state(state);
    report.set_reason(reason);
    report.set_failure_class(failure);
    (*report.mutable_metrics())["score"] = 1.5;
    auto response = jobs_->ReportAttempt(report);
    EXPECT_TRUE(response.has_value()) << response.error().ToString();
    return response.value_or(v1::ReportAttemptResponse());
  }

  v1::JobState StateOf(int64_t job) {
    auto found = jobs_->GetJob(job);
    EXPECT_TRUE(found.has_value()) << found.error().ToString();
    return found ? found->state() : v1::JOB_STATE_UNSPECIFIED;
  }

  std::vector<v1::Job> JobsOf(int64_t sweep) {
    v1::ListJobsRequest request;
    request.set_sweep_id(sweep);
    request.set_limit(10000);
    auto jobs = jobs_->ListJobs(request);
    EXPECT_TRUE(jobs.has_value()) << jobs.error().ToString();
    if (!jobs) return {};
    EXPECT_TRUE(jobs->next_page_token().empty()) << "tests list sweeps that fit one page";
    return std::vector<v1::Job>(jobs->jobs().begin(), jobs->jobs().end());
  }

  FakeClock clock_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<JobManager> jobs_;
};

}  // namespace gauntlet::testing_util
