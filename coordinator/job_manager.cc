#include "coordinator/job_manager.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

#include <spdlog/spdlog.h>

#include "coordinator/expand/expand.h"
#include "coordinator/sched/job_state.h"
#include "coordinator/sched/scheduler.h"
#include "coordinator/spec/parser.h"

namespace gauntlet {

using sched::IsTerminal;

JobManager::JobManager(store::Store& store, const Clock& clock, JobManagerOptions options)
    : store_(store), clock_(clock), options_(options) {}

Status JobManager::Recover() {
  std::lock_guard lock(mu_);
  // Twice the TTL: agents back off while the coordinator is down and need a
  // moment to notice it is back.
  return store_.RenewAllLeases(clock_.NowMs() + 2 * options_.lease_ttl_ms);
}

void JobManager::Tick() {
  std::lock_guard lock(mu_);
  ExpireLeasesLocked();
  ScheduleLocked();
}

void JobManager::Shutdown() {
  std::lock_guard lock(mu_);
  shutting_down_ = true;
  changed_.notify_all();
}

void JobManager::NotifyLocked() {
  ++generation_;
  changed_.notify_all();
}

void JobManager::ScheduleLocked() {
  std::vector<sched::ReadyJob> ready = store_.ReadyJobs();
  if (ready.empty()) return;
  std::vector<sched::Placement> placements = sched::Schedule(std::move(ready), store_.SchedulingNodes(AliveAfterMs()));
  if (placements.empty()) return;
  int64_t now = clock_.NowMs();
  Status status = store_.Transaction([&]() -> Status {
    for (const auto& placement : placements) {
      auto attempt_id = store_.CreateAttempt(placement, now, now + options_.lease_ttl_ms);
      if (!attempt_id) return attempt_id.error();
      std::string devices;
      for (int index : placement.device_indices) devices += (devices.empty() ? "" : ",") + std::to_string(index);
      GAUNTLET_RETURN_IF_ERROR(store_.AddEvent(now, 0, placement.job_id, *attempt_id, "leased",
                                               "leased to " + placement.node + " devices " + devices));
    }
    return Status::Ok();
  });
  if (!status.ok()) {
    spdlog::error("scheduling failed, will retry: {}", status.ToString());
    return;
  }
  spdlog::debug("scheduled {} jobs", placements.size());
  NotifyLocked();
}

void JobManager::ExpireLeasesLocked() {
  std::vector<int64_t> expired = store_.ExpiredAttempts(clock_.NowMs());
  for (int64_t attempt_id : expired) {
    auto attempt = store_.GetAttempt(attempt_id);
    if (!attempt) continue;
    std::string reason = "lease expired: agent " + attempt->agent + " stopped renewing it (died or cut off)";
    Status status = store_.Transaction([&]() -> Status {
      GAUNTLET_RETURN_IF_ERROR(store_.EndAttempt(
          attempt_id, {v1::ATTEMPT_STATE_LOST, -1, reason, clock_.NowMs()}));
      return SettleJobLocked(*attempt, v1::ATTEMPT_STATE_LOST, reason);
    });
    if (status.ok()) {
      spdlog::warn("attempt {} of job {} lost: {}", attempt_id, attempt->job_id, reason);
    } else {
      spdlog::error("cannot expire attempt {}: {}", attempt_id, status.ToString());
    }
  }
  if (!expired.empty()) NotifyLocked();
}

Status JobManager::SettleJobLocked(const store::AttemptRow& attempt, v1::AttemptState outcome,
                                   const std::string& reason) {
  int64_t now = clock_.NowMs();
  // A job the user cancelled stays cancelled whatever its last attempt did.
  if (attempt.job_state == v1::JOB_STATE_CANCELLED) return Status::Ok();
  v1::JobState next = sched::JobStateAfterAttempt(outcome, attempt.attempts_used, attempt.max_attempts);
  std::string job_reason;
  if (next == v1::JOB_STATE_READY) {
    job_reason = "attempt " + std::to_string(attempt.attempts_used) + " of " + std::to_string(attempt.max_attempts) +
                 " " + sched::AttemptStateName(outcome) + ": " + reason + "; retrying";
  } else if (next != v1::JOB_STATE_SUCCEEDED) {
    job_reason = reason;
  }
  GAUNTLET_RETURN_IF_ERROR(store_.SetJobState(attempt.job_id, next, job_reason, now));
  GAUNTLET_RETURN_IF_ERROR(store_.AddEvent(now, attempt.sweep_id, attempt.job_id, attempt.id,
                                           sched::JobStateName(next), job_reason));
  if (next == v1::JOB_STATE_SUCCEEDED) return store_.PromoteDependents(attempt.job_id);
  if (IsTerminal(next)) {
    auto skipped = store_.SkipDependents(attempt.job_id,
                                         "upstream job " + std::to_string(attempt.job_id) + " " +
                                             sched::JobStateName(next), now);
    if (!skipped) return skipped.error();
  }
  return Status::Ok();
}

// --- ControlService ----------------------------------------------------------

StatusOr<v1::SubmitSweepResponse> JobManager::SubmitSweep(const v1::SubmitSweepRequest& request) {
  std::string source = request.source().empty() ? "<spec>" : request.source();
  std::vector<std::string> force(request.force().begin(), request.force().end());
  static const std::set<std::string> kForceable = {"*", "reference", "compile", "run", "validate", "benchmark", "kernel"};
  for (const auto& stage : force) {
    if (!kForceable.contains(stage)) {
      return Err(Status::InvalidArgument("--force: '" + stage +
                                         "' is not a stage; use reference, compile, run, validate, benchmark, "
                                         "kernel, or no value for all"));
    }
  }
  std::map<std::string, std::string> files(request.files().begin(), request.files().end());
  auto spec = spec::ParseSweepSpec(request.spec_text(), source, files);
  if (!spec) return Err(spec.error());
  auto plan = expand::Expand(*spec);
  if (!plan) return Err(plan.error());

  std::lock_guard lock(mu_);
  GAUNTLET_RETURN_IF_ERROR(expand::CheckFits(*plan, store_.NodeCapacities()).WithContext(source));
  v1::SubmitSweepResponse response;
  if (request.dry_run()) {
    DescribePlanLocked(*plan, force, &response);
    return response;
  }
  int64_t sweep_id = 0;
  int64_t now = clock_.NowMs();
  Status status = store_.Transaction([&]() -> Status {
    auto id = store_.InsertSweep(*plan, request.spec_text(), source, now, force);
    if (!id) return id.error();
    sweep_id = *id;
    return store_.AddEvent(now, sweep_id, 0, 0, "submitted",
                           "sweep " + plan->name + " with " + std::to_string(plan->jobs.size()) + " jobs");
  });
  if (!status.ok()) return Err(status);
  spdlog::info("sweep {} '{}' submitted with {} jobs", sweep_id, plan->name, plan->jobs.size());
  ScheduleLocked();
  *response.mutable_sweep() = *store_.GetSweep(sweep_id, /*with_spec=*/false);
  return response;
}

void JobManager::DescribePlanLocked(const expand::SweepPlan& plan, const std::vector<std::string>& force,
                                    v1::SubmitSweepResponse* response) {
  constexpr double kDefaultSeconds = 60;
  auto* sweep = response->mutable_sweep();
  sweep->set_name(plan.name);
  sweep->set_total_jobs(static_cast<int>(plan.jobs.size()));
  auto* summary = response->mutable_summary();
  std::map<std::string, double> typical = store_.MeanSecondsByStage();
  double device_seconds = 0;
  for (const auto& job : plan.jobs) {
    const bool worker = job.kind == spec::JobKind::kWorker;
    std::string stage = !job.stage.empty() ? job.stage : worker ? "worker" : "exec";
    (*summary->mutable_jobs_by_stage())[stage] += 1;
    auto model = job.labels.find("model");
    (*summary->mutable_jobs_by_model())[model == job.labels.end() ? "-" : model->second] += 1;
    std::string history_key = !job.stage.empty() ? job.stage : "kind" + std::to_string(worker ? v1::JOB_KIND_WORKER
                                                                                                : v1::JOB_KIND_EXEC);
    auto known = typical.find(history_key);
    device_seconds += job.devices * (known != typical.end() ? known->second : kDefaultSeconds);

    auto* out = response->add_jobs();
    out->set_name(job.name);
    out->set_kind(worker ? v1::JOB_KIND_WORKER : v1::JOB_KIND_EXEC);
    out->set_stage(job.stage);
    out->set_devices(job.devices);
    out->set_device_kind(job.device_kind);
    out->set_content_key(job.content_key);
    out->set_cacheable(job.cacheable);
    for (const auto& [key, value] : job.labels) (*out->mutable_labels())[key] = value;
    for (size_t dep : job.depends_on) out->add_depends_on(static_cast<int64_t>(dep));
  }
  summary->set_cache_hits(store_.CountCacheHits(plan, force));
  summary->set_device_hours(device_seconds / 3600.0);
}

StatusOr<v1::Sweep> JobManager::GetSweep(int64_t id) {
  std::lock_guard lock(mu_);
  auto sweep = store_.GetSweep(id, /*with_spec=*/true);
  if (!sweep) return Err(Status::NotFound("no sweep " + std::to_string(id) + "; 'gauntlet status' lists sweeps"));
  return *sweep;
}

std::vector<v1::Sweep> JobManager::ListSweeps(int limit) {
  std::lock_guard lock(mu_);
  return store_.ListSweeps(limit);
}

std::vector<v1::Job> JobManager::ListJobs(const v1::ListJobsRequest& request) {
  std::lock_guard lock(mu_);
  return store_.ListJobs(request.sweep_id(), request.state(), request.limit());
}

StatusOr<v1::Job> JobManager::GetJob(int64_t id) {
  std::lock_guard lock(mu_);
  auto job = store_.GetJob(id);
  if (!job) return Err(Status::NotFound("no job " + std::to_string(id) + "; 'gauntlet jobs' lists jobs"));
  return *job;
}

StatusOr<int> JobManager::Cancel(const v1::CancelRequest& request) {
  if ((request.job_id() == 0) == (request.sweep_id() == 0)) {
    return Err(Status::InvalidArgument("name exactly one of job_id or sweep_id to cancel"));
  }
  std::lock_guard lock(mu_);
  if (request.sweep_id() != 0 && !store_.GetSweep(request.sweep_id(), false)) {
    return Err(Status::NotFound("no sweep " + std::to_string(request.sweep_id())));
  }
  if (request.job_id() != 0 && !store_.GetJob(request.job_id())) {
    return Err(Status::NotFound("no job " + std::to_string(request.job_id())));
  }
  std::vector<int64_t> ids = store_.UnfinishedJobs(request.sweep_id(), request.job_id());
  int64_t now = clock_.NowMs();
  Status status = store_.Transaction([&]() -> Status {
    for (int64_t id : ids) {
      GAUNTLET_RETURN_IF_ERROR(store_.SetJobState(id, v1::JOB_STATE_CANCELLED, "cancelled by user", now));
      GAUNTLET_RETURN_IF_ERROR(store_.CancelLeasedAttempts(id, now));
      GAUNTLET_RETURN_IF_ERROR(store_.AddEvent(now, request.sweep_id(), id, 0, "cancelled", "cancelled by user"));
      auto skipped = store_.SkipDependents(id, "upstream job " + std::to_string(id) + " cancelled", now);
      if (!skipped) return skipped.error();
    }
    return Status::Ok();
  });
  if (!status.ok()) return Err(status);
  NotifyLocked();  // Agents learn of the cancellations on their next poll.
  return static_cast<int>(ids.size());
}

StatusOr<v1::Job> JobManager::Retry(int64_t job_id) {
  std::lock_guard lock(mu_);
  auto job = store_.GetJob(job_id);
  if (!job) return Err(Status::NotFound("no job " + std::to_string(job_id)));
  if (job->state() != v1::JOB_STATE_FAILED && job->state() != v1::JOB_STATE_CANCELLED &&
      job->state() != v1::JOB_STATE_SKIPPED) {
    return Err(Status::FailedPrecondition("job " + std::to_string(job_id) + " is " +
                                          sched::JobStateName(job->state()) +
                                          "; only failed, cancelled or skipped jobs can be retried"));
  }
  for (int64_t upstream : job->depends_on()) {
    auto up = store_.GetJob(upstream);
    if (up && (up->state() == v1::JOB_STATE_FAILED || up->state() == v1::JOB_STATE_CANCELLED ||
               up->state() == v1::JOB_STATE_SKIPPED)) {
      return Err(Status::FailedPrecondition("upstream job " + std::to_string(upstream) + " (" + up->name() + ") is " +
                                            sched::JobStateName(up->state()) + "; retry it first"));
    }
  }
  int64_t now = clock_.NowMs();
  Status status = store_.Transaction([&]() -> Status {
    GAUNTLET_RETURN_IF_ERROR(store_.ResetForRetry(job_id));
    GAUNTLET_RETURN_IF_ERROR(store_.UnskipDependents(job_id));
    return store_.AddEvent(now, job->sweep_id(), job_id, 0, "retried", "retried by user");
  });
  if (!status.ok()) return Err(status);
  ScheduleLocked();
  return *store_.GetJob(job_id);
}

std::vector<v1::Agent> JobManager::ListAgents() {
  std::lock_guard lock(mu_);
  return store_.ListAgents(AliveAfterMs());
}

StatusOr<v1::Agent> JobManager::DrainAgent(const v1::DrainAgentRequest& request) {
  std::lock_guard lock(mu_);
  auto found = store_.SetDrained(request.name(), !request.undrain());
  if (!found) return Err(found.error());
  if (!*found) return Err(Status::NotFound("no agent '" + request.name() + "'; 'gauntlet agents' lists them"));
  if (request.undrain()) ScheduleLocked();
  for (auto& agent : store_.ListAgents(AliveAfterMs())) {
    if (agent.name() == request.name()) return agent;
  }
  return Err(Status::NotFound("agent '" + request.name() + "' vanished"));
}

StatusOr<int64_t> JobManager::LogAttempt(int64_t job_id, int64_t attempt_id) {
  std::lock_guard lock(mu_);
  if (attempt_id != 0) {
    auto attempt = store_.GetAttempt(attempt_id);
    if (!attempt || (job_id != 0 && attempt->job_id != job_id)) {
      return Err(Status::NotFound("no attempt " + std::to_string(attempt_id) + " of job " + std::to_string(job_id)));
    }
    return attempt_id;
  }
  if (!store_.GetJob(job_id)) return Err(Status::NotFound("no job " + std::to_string(job_id)));
  return store_.LatestAttemptId(job_id);
}

std::string JobManager::ReadLog(int64_t attempt_id, int64_t offset, int64_t max_bytes) {
  std::lock_guard lock(mu_);
  return store_.ReadLog(attempt_id, offset, max_bytes);
}

bool JobManager::AttemptFinished(int64_t attempt_id) {
  std::lock_guard lock(mu_);
  auto attempt = store_.GetAttempt(attempt_id);
  return !attempt || IsTerminal(attempt->state);
}

// --- The board ----------------------------------------------------------------

std::vector<v1::MatrixCell> JobManager::Matrix(const store::MatrixFilter& filter) {
  std::lock_guard lock(mu_);
  return store_.Matrix(filter);
}

std::vector<v1::Job> JobManager::MatrixJobs(const store::MatrixFilter& filter, const v1::MatrixCell& where,
                                            int limit) {
  std::lock_guard lock(mu_);
  return store_.MatrixJobs(filter, where, limit);
}

std::vector<v1::BenchmarkPoint> JobManager::Benchmarks(int64_t since_ms) {
  std::lock_guard lock(mu_);
  return store_.Benchmarks(since_ms);
}

StatusOr<v1::Annotation> JobManager::Annotate(const v1::Annotation& annotation) {
  if (annotation.scope() != "sweep" && annotation.scope() != "model" && annotation.scope() != "job") {
    return Err(Status::InvalidArgument("annotate: scope '" + annotation.scope() + "' must be sweep, model or job"));
  }
  if (annotation.target().empty()) return Err(Status::InvalidArgument("annotate: name the sweep, model or job"));
  if (!annotation.url().starts_with("http://") && !annotation.url().starts_with("https://")) {
    return Err(Status::InvalidArgument("annotate: url '" + annotation.url() + "' must start with http:// or https://"));
  }
  std::lock_guard lock(mu_);
  if (annotation.scope() == "sweep" && !store_.GetSweep(std::atoll(annotation.target().c_str()), false)) {
    return Err(Status::NotFound("annotate: no sweep " + annotation.target()));
  }
  if (annotation.scope() == "job" && !store_.GetJob(std::atoll(annotation.target().c_str()))) {
    return Err(Status::NotFound("annotate: no job " + annotation.target()));
  }
  auto stored = store_.AddAnnotation(annotation, clock_.NowMs());
  if (!stored) return Err(stored.error());
  GAUNTLET_RETURN_IF_ERROR(store_.AddEvent(clock_.NowMs(), 0, 0, 0, "annotated",
                                           annotation.scope() + " " + annotation.target() + ": " + annotation.url()));
  return *stored;
}

std::vector<v1::Annotation> JobManager::Annotations(const std::string& scope, const std::string& target) {
  std::lock_guard lock(mu_);
  return store_.Annotations(scope, target);
}

std::vector<v1::Event> JobManager::Events(int64_t after_id, int64_t job_id, int limit) {
  std::lock_guard lock(mu_);
  return store_.Events(after_id, job_id, limit);
}

int64_t JobManager::LatestEventId() {
  std::lock_guard lock(mu_);
  return store_.LatestEventId();
}

// --- AgentService ------------------------------------------------------------

StatusOr<v1::RegisterResponse> JobManager::Register(const v1::RegisterRequest& request) {
  if (request.name().empty()) return Err(Status::InvalidArgument("register: name is empty; start the agent with --name"));
  std::set<int> indices;
  for (const auto& device : request.devices()) {
    if (!indices.insert(device.index()).second) {
      return Err(Status::InvalidArgument("register: device index " + std::to_string(device.index()) + " appears twice"));
    }
  }
  std::lock_guard lock(mu_);
  int64_t now = clock_.NowMs();
  std::vector<v1::Device> devices(request.devices().begin(), request.devices().end());
  Status status = store_.Transaction([&]() -> Status {
    std::vector<std::string> tags(request.tags().begin(), request.tags().end());
    GAUNTLET_RETURN_IF_ERROR(store_.UpsertAgent(request.name(), request.version(), tags, devices, now));
    std::set<int64_t> still_running(request.running_attempts().begin(), request.running_attempts().end());
    for (int64_t attempt_id : store_.ActiveAttemptIds(request.name())) {
      auto attempt = store_.GetAttempt(attempt_id);
      if (!attempt) continue;
      if (still_running.contains(attempt_id)) {
        GAUNTLET_RETURN_IF_ERROR(store_.RenewLease(attempt_id, now + options_.lease_ttl_ms));
      } else if (attempt->state == v1::ATTEMPT_STATE_RUNNING) {
        // The agent restarted and no longer runs it: no need to wait for the lease.
        std::string reason = "agent " + request.name() + " restarted without it";
        GAUNTLET_RETURN_IF_ERROR(store_.EndAttempt(attempt_id, {v1::ATTEMPT_STATE_LOST, -1, reason, now}));
        GAUNTLET_RETURN_IF_ERROR(SettleJobLocked(*attempt, v1::ATTEMPT_STATE_LOST, reason));
      }
    }
    return store_.AddEvent(now, 0, 0, 0, "agent", "agent " + request.name() + " registered with " +
                                                      std::to_string(devices.size()) + " devices");
  });
  if (!status.ok()) return Err(status);
  spdlog::info("agent {} registered with {} devices, {} running attempts", request.name(), devices.size(),
               request.running_attempts_size());
  ScheduleLocked();
  v1::RegisterResponse response;
  response.set_lease_ttl_ms(options_.lease_ttl_ms);
  return response;
}

StatusOr<v1::HeartbeatResponse> JobManager::PollLocked(const v1::HeartbeatRequest& request) {
  v1::HeartbeatResponse response;
  int64_t now = clock_.NowMs();
  auto known = store_.TouchAgent(request.name(), now);
  if (!known) return Err(known.error());
  if (!*known) {
    response.set_register_again(true);
    return response;
  }
  std::set<int64_t> reported(request.running_attempts().begin(), request.running_attempts().end());
  Status status = store_.Transaction([&]() -> Status {
    for (int64_t attempt_id : reported) {
      auto attempt = store_.GetAttempt(attempt_id);
      bool current = attempt && attempt->agent == request.name() && !IsTerminal(attempt->state) &&
                     attempt->job_state != v1::JOB_STATE_CANCELLED;
      if (!current) {
        response.add_cancel_attempts(attempt_id);
        continue;
      }
      GAUNTLET_RETURN_IF_ERROR(store_.RenewLease(attempt_id, now + options_.lease_ttl_ms));
    }
    return Status::Ok();
  });
  if (!status.ok()) return Err(status);
  for (auto& [attempt_id, job] : store_.LeasedAttempts(request.name())) {
    if (reported.contains(attempt_id)) continue;
    auto* assignment = response.add_assignments();
    assignment->set_attempt_id(attempt_id);
    assignment->mutable_device_indices()->CopyFrom(job.device_indices());
    for (int64_t upstream_id : store_.UpstreamJobs(job.id())) {
      auto upstream = store_.GetJob(upstream_id);
      if (!upstream || upstream->artifacts().empty()) continue;
      auto* input = assignment->add_inputs();
      input->set_folder(upstream->stage().empty() ? upstream->name() : upstream->stage());
      input->set_job_id(upstream_id);
      input->mutable_artifacts()->CopyFrom(upstream->artifacts());
    }
    *assignment->mutable_job() = std::move(job);
  }
  return response;
}

StatusOr<v1::HeartbeatResponse> JobManager::Heartbeat(const v1::HeartbeatRequest& request) {
  if (request.name().empty()) return Err(Status::InvalidArgument("heartbeat: name is empty"));
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(std::clamp<int64_t>(request.wait_ms(), 0, options_.max_poll_ms));
  std::unique_lock lock(mu_);
  while (true) {
    uint64_t seen = generation_;
    auto response = PollLocked(request);
    if (!response || response->assignments_size() > 0 || response->cancel_attempts_size() > 0 ||
        response->register_again() || shutting_down_) {
      return response;
    }
    bool woken = changed_.wait_until(lock, deadline, [&] { return generation_ != seen || shutting_down_; });
    if (!woken) return response;
  }
}

StatusOr<v1::ReportAttemptResponse> JobManager::ReportAttempt(const v1::AttemptReport& report) {
  std::lock_guard lock(mu_);
  v1::ReportAttemptResponse response;
  auto attempt = store_.GetAttempt(report.attempt_id());
  if (!attempt) return Err(Status::NotFound("no attempt " + std::to_string(report.attempt_id())));
  int64_t now = clock_.NowMs();

  if (report.state() == v1::ATTEMPT_STATE_RUNNING) {
    if (attempt->state != v1::ATTEMPT_STATE_LEASED) {
      response.set_duplicate(attempt->state == v1::ATTEMPT_STATE_RUNNING);
      response.set_stale(IsTerminal(attempt->state));
      return response;
    }
    Status status = store_.Transaction([&]() -> Status {
      GAUNTLET_RETURN_IF_ERROR(store_.MarkAttemptRunning(attempt->id, now));
      if (attempt->job_state == v1::JOB_STATE_LEASED) {
        GAUNTLET_RETURN_IF_ERROR(store_.SetJobState(attempt->job_id, v1::JOB_STATE_RUNNING, "", now));
      }
      return store_.AddEvent(now, attempt->sweep_id, attempt->job_id, attempt->id, "running",
                             "started on " + attempt->agent);
    });
    if (!status.ok()) return Err(status);
    return response;
  }

  if (!IsTerminal(report.state())) {
    return Err(Status::InvalidArgument("report: state must be running, succeeded, failed or cancelled"));
  }
  if (IsTerminal(attempt->state)) {
    // Completion is idempotent per attempt: a repeat changes nothing.
    response.set_duplicate(attempt->state == report.state());
    response.set_stale(attempt->state != report.state());
    return response;
  }
  for (const auto& ref : report.artifacts()) {
    if (!store_.HasArtifact(ref.sha256())) {
      return Err(Status::FailedPrecondition("artifact " + ref.name() + " (" + ref.sha256() +
                                            ") was not uploaded; upload it before reporting"));
    }
  }
  Status status = store_.Transaction([&]() -> Status {
    if (attempt->state == v1::ATTEMPT_STATE_LEASED) {
      // The running report was lost or overtaken: the attempt did start.
      GAUNTLET_RETURN_IF_ERROR(store_.MarkAttemptRunning(attempt->id, now));
      if (attempt->job_state == v1::JOB_STATE_LEASED) {
        GAUNTLET_RETURN_IF_ERROR(store_.SetJobState(attempt->job_id, v1::JOB_STATE_RUNNING, "", now));
      }
    }
    GAUNTLET_RETURN_IF_ERROR(store_.EndAttempt(attempt->id, {report.state(), report.exit_code(), report.reason(), now}));
    GAUNTLET_RETURN_IF_ERROR(store_.StoreResult(attempt->job_id, attempt->id, report.verdict(), report.result_json(),
                                                report.metrics(), report.artifacts(), now));
    return SettleJobLocked(*attempt, report.state(), report.reason());
  });
  if (!status.ok()) return Err(status);
  spdlog::info("attempt {} of job {} {}{}", attempt->id, attempt->job_id, sched::AttemptStateName(report.state()),
               report.reason().empty() ? "" : ": " + report.reason());
  ScheduleLocked();
  NotifyLocked();
  return response;
}

StatusOr<int64_t> JobManager::AppendLog(const v1::LogChunk& chunk) {
  std::lock_guard lock(mu_);
  if (!store_.GetAttempt(chunk.attempt_id())) {
    return Err(Status::NotFound("no attempt " + std::to_string(chunk.attempt_id())));
  }
  return store_.AppendLog(chunk.attempt_id(), chunk.offset(), chunk.data());
}

Status JobManager::RecordArtifact(const std::string& sha256, int64_t size) {
  std::lock_guard lock(mu_);
  return store_.RecordArtifact(sha256, size, clock_.NowMs());
}

}  // namespace gauntlet
