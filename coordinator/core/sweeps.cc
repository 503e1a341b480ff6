#include "coordinator/core/sweeps.h"

#include <set>

#include <spdlog/spdlog.h>

#include "coordinator/expand/preflight.h"
#include "coordinator/sched/initial_states.h"
#include "coordinator/sched/scheduler.h"
#include "coordinator/spec/check_suites.h"
#include "coordinator/spec/parser.h"
#include "coordinator/spec/warnings.h"
#include "lib/contract/stages.h"
#include "lib/rpc/paging.h"

namespace gauntlet::core {

using jobs::IsTerminal;

namespace {

bool Forceable(const std::string& stage) {
  return stage == "*" || stage == contract::kKernelStage || stage == "autotune" || contract::IsLlmStage(stage);
}

}  // namespace

StatusOr<std::vector<store::InitialJobState>> SweepManager::InitialStates(const expand::SweepPlan& plan,
                                                                              const std::vector<std::string>& force) {
  GAUNTLET_ASSIGN_OR_RETURN(auto known, farm_.store.SucceededJobsByKey(sched::CacheableKeys(plan, force)));
  return sched::InitialStates(plan, force, known);
}

StatusOr<SweepManager::Prepared> SweepManager::Prepare(const v1::SubmitSweepRequest& request) const {
  std::string source = request.source().empty() ? "<spec>" : request.source();
  std::vector<std::string> force(request.force().begin(), request.force().end());
  for (const auto& stage : force) {
    if (!Forceable(stage)) {
      return Err(Status::InvalidArgument("--force: '" + stage + "' is not a stage; use " +
                                         contract::StageList(", ") + ", kernel, autotune, or no value for all"));
    }
  }
  std::map<std::string, std::string> files(request.files().begin(), request.files().end());
  GAUNTLET_ASSIGN_OR_RETURN(int64_t first_planned, paging::ParseToken(request.page_token()));
  // Parsing and expansion run outside the lock and within the spec limits,
  // so a hostile spec costs its submitter, never the farm.
  auto spec = spec::ParseSweepSpec(request.spec_text(), source, files, farm_.options.spec_limits);
  if (!spec) return Err(spec.error());
  auto plan = expand::Expand(*spec, farm_.options.spec_limits);
  if (!plan) return Err(plan.error());
  sched::PassForceToNodeCaches(force, &*plan);
  return Prepared{std::move(source), std::move(force), first_planned, std::move(*spec), std::move(*plan)};
}

StatusOr<v1::SubmitSweepResponse> SweepManager::Submit(
    const v1::SubmitSweepRequest& request, const Prepared& prepared,
    const std::function<Status(int64_t sweep_id)>& in_same_transaction) {
  const std::string& source = prepared.source;
  const std::vector<std::string>& force = prepared.force;
  const int64_t first_planned = prepared.first_planned;
  const spec::SweepSpec* spec = &prepared.spec;
  const expand::SweepPlan* plan = &prepared.plan;
  v1::SubmitSweepResponse response;
  if (!request.no_preflight()) GAUNTLET_RETURN_IF_ERROR(CheckPreflight(*spec, *plan, source, &response));
  GAUNTLET_ASSIGN_OR_RETURN(auto initial, InitialStates(*plan, force));
  for (auto& warning : spec::SpecWarnings(*spec)) response.add_warnings(std::move(warning));
  if (request.dry_run()) {
    const int page = paging::PageSize(request.page_size(), paging::kDefaultJobPage, paging::kMaxJobPage);
    GAUNTLET_RETURN_IF_ERROR(DescribePlan(*plan, initial, static_cast<size_t>(first_planned), page, &response));
    return response;
  }
  int64_t sweep_id = 0;
  const int64_t now = farm_.clock.NowMs();
  Status status = batch_.Run([&]() -> Status {
    GAUNTLET_ASSIGN_OR_RETURN(store::InsertedSweep inserted,
                              farm_.store.InsertSweep(*plan, request.spec_text(), source, now, initial));
    sweep_id = inserted.sweep_id;
    for (size_t i = 0; i < plan->jobs.size(); ++i) {
      if (initial[i].state != v1::JOB_STATE_READY) continue;
      const auto& job = plan->jobs[i];
      sched::ReadyJob ready{inserted.job_ids[i], job.devices, job.device_kind, job.priority, inserted.job_ids[i], job.tags};
      ready.pin_node = job.pin_node;
      ready.pin_devices = job.pin_devices;
      batch_.pending().became_ready.push_back(std::move(ready));
    }
    GAUNTLET_RETURN_IF_ERROR(farm_.store.AddEvent(
        now, sweep_id, 0, 0, "submitted", "sweep " + plan->name + " with " + std::to_string(plan->jobs.size()) + " jobs"));
    return in_same_transaction ? in_same_transaction(sweep_id) : Status::Ok();
  });
  if (!status.ok()) return Err(status);
  GAUNTLET_RETURN_IF_ERROR(batch_.Durable());
  spdlog::info("sweep {} '{}' submitted with {} jobs ({} cached)", sweep_id, plan->name, plan->jobs.size(),
               sched::CountCached(initial));
  farm_.WantPass();
  GAUNTLET_ASSIGN_OR_RETURN(auto sweep, farm_.store.GetSweep(sweep_id, /*with_spec=*/false));
  if (sweep) *response.mutable_sweep() = std::move(*sweep);
  return response;
}

Status SweepManager::CheckPreflight(const spec::SweepSpec& spec, const expand::SweepPlan& plan,
                                    const std::string& source, v1::SubmitSweepResponse* response) {
  // Every problem at once, one line each: a user fixes them in one go.
  std::vector<std::string> problems;
  GAUNTLET_ASSIGN_OR_RETURN(auto capacities, farm_.store.NodeCapacities());
  if (Status fits = expand::CheckFits(plan, capacities); !fits.ok()) problems.push_back(fits.message());
  GAUNTLET_ASSIGN_OR_RETURN(auto suites, farm_.store.KnownSuites());
  if (Status built = spec::CheckSuites(spec, suites); !built.ok()) problems.push_back(built.message());
  GAUNTLET_ASSIGN_OR_RETURN(auto agents, farm_.store.ListAgents(0));
  std::vector<expand::AgentFacts> facts;
  for (const auto& agent : agents) {
    if (agent.revoked_at_ms() != 0) continue;
    expand::AgentFacts fact{agent.name(), {}, {agent.tags().begin(), agent.tags().end()}};
    for (const auto& device : agent.devices()) fact.kinds.push_back(device.kind());
    const v1::Inventory& held = agent.inventory();
    fact.model_roots.assign(held.model_roots().begin(), held.model_roots().end());
    fact.models.assign(held.models().begin(), held.models().end());
    fact.dataset_roots.assign(held.dataset_roots().begin(), held.dataset_roots().end());
    fact.datasets.assign(held.datasets().begin(), held.datasets().end());
    fact.truncated = held.truncated();
    facts.push_back(std::move(fact));
  }
  expand::PreflightReport report = expand::Preflight(spec, plan, facts);
  problems.insert(problems.end(), report.problems.begin(), report.problems.end());
  for (auto& note : report.notes) response->add_warnings("pre-flight: " + note);
  if (problems.empty()) return Status::Ok();
  if (problems.size() == 1) return Status::InvalidArgument(source + ": " + problems.front());
  std::string message =
      source + ": refused before storing anything (" + std::to_string(problems.size()) + " problems):";
  for (const auto& problem : problems) message += "\n  " + problem;
  return Status::InvalidArgument(message);
}

Status SweepManager::DescribePlan(const expand::SweepPlan& plan,
                                      const std::vector<store::InitialJobState>& initial, size_t first, int page_size,
                                      v1::SubmitSweepResponse* response) {
  auto* sweep = response->mutable_sweep();
  sweep->set_name(plan.name);
  sweep->set_total_jobs(static_cast<int>(plan.jobs.size()));
  auto* summary = response->mutable_summary();
  GAUNTLET_ASSIGN_OR_RETURN(auto typical, farm_.store.MeanSecondsByStage());
  GAUNTLET_ASSIGN_OR_RETURN(auto by_stage_model, farm_.store.MeanSecondsByStageAndModel());
  std::set<std::string> keys;
  for (const auto& job : plan.jobs) keys.insert(job.content_key);
  GAUNTLET_ASSIGN_OR_RETURN(auto by_key, farm_.store.MeanSecondsByKey(keys));
  int same_job = 0, stage_and_model = 0, stage_only = 0, guessed = 0;
  double device_seconds = 0;
  size_t page_bytes = 0;
  for (size_t i = 0; i < plan.jobs.size(); ++i) {
    const auto& job = plan.jobs[i];
    const bool worker = job.kind == spec::JobKind::kWorker;
    std::string stage = !job.stage.empty() ? job.stage : worker ? "worker" : "exec";
    (*summary->mutable_jobs_by_stage())[stage] += 1;
    auto model = job.labels.find("model");
    (*summary->mutable_jobs_by_model())[model == job.labels.end() ? "-" : model->second] += 1;
    std::string history_key = !job.stage.empty() ? job.stage : "kind" + std::to_string(worker ? v1::JOB_KIND_WORKER
                                                                                                : v1::JOB_KIND_EXEC);
    if (initial[i].state != v1::JOB_STATE_CACHED) {
      // The closest earlier measurement there is; the summary says which kind each was.
      double seconds = constants::kDefaultJobSeconds;
      auto model_label = job.labels.find("model");
      if (auto same = by_key.find(job.content_key); same != by_key.end()) {
        seconds = same->second, ++same_job;
      } else if (auto similar = by_stage_model.find({job.stage, model_label == job.labels.end() ? "" : model_label->second});
                 !job.stage.empty() && similar != by_stage_model.end()) {
        seconds = similar->second, ++stage_and_model;
      } else if (auto known = typical.find(history_key); known != typical.end()) {
        seconds = known->second, ++stage_only;
      } else {
        ++guessed;
      }
      device_seconds += job.devices * seconds;
    }
    // The summary covers the plan; the jobs, one page of it.
    if (i < first) continue;
    if (response->jobs_size() == page_size || page_bytes > rpc::kMaxPageBytes) {
      if (response->next_page_token().empty()) response->set_next_page_token(std::to_string(i));
      continue;
    }
    auto* out = response->add_jobs();
    out->set_id(static_cast<int64_t>(i));
    out->set_name(job.name);
    out->set_kind(worker ? v1::JOB_KIND_WORKER : v1::JOB_KIND_EXEC);
    out->set_stage(job.stage);
    out->set_devices(job.devices);
    out->set_device_kind(job.device_kind);
    out->set_content_key(job.content_key);
    out->set_cacheable(job.cacheable);
    out->set_state(initial[i].state);
    for (const auto& [key, value] : job.labels) (*out->mutable_labels())[key] = value;
    for (size_t dep : job.depends_on) out->add_depends_on(static_cast<int64_t>(dep));
    page_bytes += out->ByteSizeLong();
  }
  summary->set_cache_hits(sched::CountCached(initial));
  summary->set_device_hours(device_seconds / 3600.0);
  summary->set_estimated_from_same_job(same_job);
  summary->set_estimated_from_stage_and_model(stage_and_model);
  summary->set_estimated_from_stage(stage_only);
  summary->set_estimated_by_guess(guessed);
  return Status::Ok();
}

StatusOr<int> SweepManager::Cancel(const v1::CancelRequest& request) {
  if ((request.job_id() == 0) == (request.sweep_id() == 0)) {
    return Err(Status::InvalidArgument("name exactly one of job_id or sweep_id to cancel"));
  }
  if (request.sweep_id() != 0) {
    GAUNTLET_ASSIGN_OR_RETURN(auto sweep, farm_.store.GetSweep(request.sweep_id(), false));
    if (!sweep) return Err(Status::NotFound("no sweep " + std::to_string(request.sweep_id())));
  }
  if (request.job_id() != 0) {
    GAUNTLET_ASSIGN_OR_RETURN(auto state, farm_.store.JobStateOf(request.job_id()));
    if (!state) return Err(Status::NotFound("no job " + std::to_string(request.job_id())));
  }
  GAUNTLET_ASSIGN_OR_RETURN(std::vector<int64_t> ids, farm_.store.UnfinishedJobs(request.sweep_id(), request.job_id()));
  const int64_t now = farm_.clock.NowMs();
  std::set<std::string> agents_to_tell;
  int cancelled = 0;
  Status status = batch_.Run([&]() -> Status {
    agents_to_tell.clear();
    cancelled = 0;
    // Every job named is cancelled first, so a sweep's jobs all show as
    // cancelled; only then do jobs outside the request learn it downstream.
    std::vector<std::pair<int64_t, jobs::Decision>> decided;
    for (int64_t id : ids) {
      GAUNTLET_ASSIGN_OR_RETURN(auto state, farm_.store.JobStateOf(id));
      if (!state || IsTerminal(*state)) continue;
      GAUNTLET_ASSIGN_OR_RETURN(auto active, farm_.store.ActiveAttemptsOfJob(id));
      jobs::Decision decision = jobs::OnCancelled(*state, active.empty() ? v1::ATTEMPT_STATE_UNSPECIFIED
                                                                         : active.front().state);
      if (!decision.accepted) continue;
      for (const auto& attempt : active) {
        if (attempt.state == v1::ATTEMPT_STATE_LEASED) {
          GAUNTLET_RETURN_IF_ERROR(farm_.store.EndAttempt(
              attempt.id, {v1::ATTEMPT_STATE_CANCELLED, 0, "cancelled before it started", now}));
          batch_.pending().ended_attempts.push_back(attempt.id);
        }
        agents_to_tell.insert(attempt.agent);
      }
      GAUNTLET_RETURN_IF_ERROR(farm_.store.SetJobState(id, decision.job, decision.reason, now));
      GAUNTLET_RETURN_IF_ERROR(farm_.store.AddEvent(now, request.sweep_id(), id, 0, "cancelled", decision.reason));
      if (*state == v1::JOB_STATE_READY) batch_.pending().left_ready.push_back(id);
      decided.emplace_back(id, decision);
      ++cancelled;
    }
    for (const auto& [id, decision] : decided) {
      GAUNTLET_RETURN_IF_ERROR(attempts_.ApplyDownstream(id, decision.downstream, decision.job));
    }
    return Status::Ok();
  });
  if (!status.ok()) return Err(status);
  GAUNTLET_RETURN_IF_ERROR(batch_.Durable());
  // Leased attempts hold no devices any more; running ones are stopped by
  // their agents, told on their next poll.
  for (const auto& agent : agents_to_tell) attempts_.Notify(agent);
  farm_.WantPass();
  return cancelled;
}

StatusOr<jobs::Decision> SweepManager::RetryDecision(const v1::Job& job) {
  GAUNTLET_ASSIGN_OR_RETURN(auto upstream_states, farm_.store.UpstreamStates(job.id()));
  jobs::Decision decision = jobs::OnRetried(job.state(), jobs::Summarize(upstream_states));
  if (decision.accepted) return decision;
  std::string which;
  for (int64_t upstream : job.depends_on()) {
    GAUNTLET_ASSIGN_OR_RETURN(auto state, farm_.store.JobStateOf(upstream));
    if (state && (*state == v1::JOB_STATE_FAILED || *state == v1::JOB_STATE_CANCELLED ||
                  *state == v1::JOB_STATE_SKIPPED)) {
      which = " (upstream job " + std::to_string(upstream) + " is " + jobs::JobStateName(*state) + ")";
      break;
    }
  }
  decision.reason = "job " + std::to_string(job.id()) + ": " + decision.reason + which;
  return decision;
}

Status SweepManager::ApplyRetry(const v1::Job& job, const jobs::Decision& decision, const std::string& why,
                                    int64_t now) {
  GAUNTLET_RETURN_IF_ERROR(farm_.store.ResetForRetry(job.id(), decision.job));
  if (decision.job == v1::JOB_STATE_READY) GAUNTLET_RETURN_IF_ERROR(batch_.RecordReady(job.id()));
  GAUNTLET_RETURN_IF_ERROR(attempts_.ApplyDownstream(job.id(), decision.downstream, decision.job));
  return farm_.store.AddEvent(now, job.sweep_id(), job.id(), 0, "retried", why);
}

StatusOr<v1::Job> SweepManager::Retry(int64_t job_id) {
  GAUNTLET_ASSIGN_OR_RETURN(auto job, farm_.store.GetJob(job_id));
  if (!job) return Err(Status::NotFound("no job " + std::to_string(job_id)));
  GAUNTLET_ASSIGN_OR_RETURN(jobs::Decision decision, RetryDecision(*job));
  if (!decision.accepted) return Err(Status::FailedPrecondition(decision.reason));
  const int64_t now = farm_.clock.NowMs();
  GAUNTLET_RETURN_IF_ERROR(batch_.Run([&] { return ApplyRetry(*job, decision, "retried by user", now); }));
  GAUNTLET_RETURN_IF_ERROR(batch_.Durable());
  farm_.WantPass();
  GAUNTLET_ASSIGN_OR_RETURN(auto retried, farm_.store.GetJob(job_id));
  if (!retried) return Err(Status::NotFound("no job " + std::to_string(job_id)));
  return *retried;
}

StatusOr<v1::RetrySweepResponse> SweepManager::RetrySweep(int64_t sweep_id) {
  GAUNTLET_ASSIGN_OR_RETURN(auto sweep, farm_.store.GetSweep(sweep_id, /*with_spec=*/false));
  if (!sweep) return Err(Status::NotFound("no sweep " + std::to_string(sweep_id) + "; 'gauntlet status' lists them"));
  v1::RetrySweepResponse response;
  const int64_t now = farm_.clock.NowMs();
  // In id order, which is dependency order: retrying a job first lets the
  // failed jobs behind it (if any) be judged against its new state.
  Status status = batch_.Run([&]() -> Status {
    for (int64_t after = 0;;) {
      GAUNTLET_ASSIGN_OR_RETURN(auto page, farm_.store.ListJobs(sweep_id, v1::JOB_STATE_FAILED, 1000, after));
      if (page.empty()) return Status::Ok();
      for (const v1::Job& listed : page) {
        after = listed.id();
        GAUNTLET_ASSIGN_OR_RETURN(auto job, farm_.store.GetJob(listed.id()));
        if (!job) continue;
        GAUNTLET_ASSIGN_OR_RETURN(jobs::Decision decision, RetryDecision(*job));
        if (!decision.accepted) {
          response.add_not_retried(decision.reason);
          continue;
        }
        GAUNTLET_RETURN_IF_ERROR(ApplyRetry(*job, decision, "retried with its sweep's failed jobs", now));
        response.add_retried(job->id());
      }
    }
  });
  if (!status.ok()) return Err(status);
  GAUNTLET_RETURN_IF_ERROR(batch_.Durable());
  if (response.retried_size() > 0) farm_.WantPass();
  return response;
}

}  // namespace gauntlet::core
