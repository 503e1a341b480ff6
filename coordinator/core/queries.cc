#include "coordinator/core/queries.h"

#include "coordinator/core/benchmark_marks.h"
#include "coordinator/sched/why.h"
#include "lib/rpc/paging.h"

namespace gauntlet::core {

StatusOr<v1::Sweep> BoardQueries::GetSweep(int64_t id) {
  GAUNTLET_ASSIGN_OR_RETURN(auto sweep, farm_.store.GetSweep(id, /*with_spec=*/true));
  if (!sweep) return Err(Status::NotFound("no sweep " + std::to_string(id) + "; 'gauntlet status' lists sweeps"));
  GAUNTLET_ASSIGN_OR_RETURN(auto stages, farm_.store.StageCounts(id));
  for (auto& stage : stages) *sweep->add_stages() = std::move(stage);
  return *sweep;
}

StatusOr<v1::ListSweepsResponse> BoardQueries::ListSweeps(const v1::ListSweepsRequest& request) {
  GAUNTLET_ASSIGN_OR_RETURN(int64_t before, paging::ParseToken(request.page_token()));
  const int size = paging::PageSize(request.limit(), paging::kDefaultSweepPage, paging::kMaxSweepPage);
  GAUNTLET_ASSIGN_OR_RETURN(auto sweeps, farm_.store.ListSweeps(size + 1, before));
  v1::ListSweepsResponse page;
  paging::Fill(std::move(sweeps), size, page.mutable_sweeps(), page.mutable_next_page_token());
  return page;
}

StatusOr<v1::ListJobsResponse> BoardQueries::ListJobs(const v1::ListJobsRequest& request) {
  GAUNTLET_ASSIGN_OR_RETURN(int64_t after, paging::ParseToken(request.page_token()));
  const int size = paging::PageSize(request.limit(), paging::kDefaultJobPage, paging::kMaxJobPage);
  GAUNTLET_ASSIGN_OR_RETURN(auto jobs, farm_.store.ListJobs(request.sweep_id(), request.state(), size + 1, after));
  if (request.with_metrics()) GAUNTLET_RETURN_IF_ERROR(farm_.store.AddMetrics(&jobs));
  GAUNTLET_RETURN_IF_ERROR(farm_.store.AddRunningTimes(&jobs, farm_.clock.NowMs()));
  v1::ListJobsResponse page;
  paging::Fill(std::move(jobs), size, page.mutable_jobs(), page.mutable_next_page_token());
  return page;
}

StatusOr<v1::WhyResponse> BoardQueries::Why(int64_t id) {
  GAUNTLET_ASSIGN_OR_RETURN(auto job, farm_.store.GetJob(id));
  if (!job) return Err(Status::NotFound("no job " + std::to_string(id) + "; 'gauntlet jobs' lists jobs"));
  sched::WaitFacts facts;
  facts.state = job->state();
  facts.job = {job->id(), job->devices(), job->device_kind(), job->priority(), job->id(),
               std::vector<std::string>(job->tags().begin(), job->tags().end())};
  if (facts.state == v1::JOB_STATE_PENDING) {
    GAUNTLET_ASSIGN_OR_RETURN(facts.unfinished_upstream, farm_.store.UnfinishedUpstream(id));
  }
  if (facts.state == v1::JOB_STATE_READY) {
    for (const auto& [name, mailbox] : farm_.mailboxes) {
      if (mailbox->drained) {
        facts.unschedulable[name] = "drained";
      } else if (!farm_.Alive(name)) {
        facts.unschedulable[name] = "offline";
      }
    }
    facts.ready = farm_.cluster.ReadyJobs();
    facts.nodes = farm_.cluster.Nodes();
    // As of now, not of the last scheduling pass: a drain just made counts.
    for (auto& node : facts.nodes) node.schedulable = !facts.unschedulable.contains(node.name);
  }
  v1::WhyResponse response;
  response.set_job_id(id);
  response.set_state(job->state());
  for (auto& reason : sched::ExplainWait(facts)) response.add_reasons(std::move(reason));
  GAUNTLET_ASSIGN_OR_RETURN(auto events, farm_.store.Events(0, id, 1000));
  response.set_since_ms(events.empty() ? job->created_at_ms() : events.back().at_ms());
  return response;
}

StatusOr<v1::Job> BoardQueries::GetJob(int64_t id) {
  GAUNTLET_ASSIGN_OR_RETURN(auto job, farm_.store.GetJob(id));
  if (!job) return Err(Status::NotFound("no job " + std::to_string(id) + "; 'gauntlet jobs' lists jobs"));
  std::vector<v1::Job> one = {std::move(*job)};
  GAUNTLET_RETURN_IF_ERROR(farm_.store.AddRunningTimes(&one, farm_.clock.NowMs()));
  return std::move(one.front());
}

StatusOr<std::vector<v1::MatrixCell>> BoardQueries::Matrix(const store::MatrixFilter& filter) {
  return farm_.store.Matrix(filter);
}

StatusOr<std::vector<v1::Job>> BoardQueries::MatrixJobs(const store::MatrixFilter& filter,
                                                      const v1::MatrixCell& where, int limit) {
  return farm_.store.MatrixJobs(filter, where, limit);
}

StatusOr<std::map<int64_t, v1::MatrixCell>> BoardQueries::CellsOfJobs(const std::vector<int64_t>& job_ids) {
  return farm_.store.CellsOfJobs(job_ids);
}

StatusOr<std::vector<v1::BenchmarkPoint>> BoardQueries::Benchmarks(int64_t since_ms) {
  GAUNTLET_ASSIGN_OR_RETURN(auto points, farm_.store.Benchmarks(since_ms));
  MarkBenchmarkSeries(&points);
  return points;
}


StatusOr<std::vector<v1::Event>> BoardQueries::Events(int64_t after_id, int64_t job_id, int limit) {
  return farm_.store.Events(after_id, job_id, limit);
}

StatusOr<int64_t> BoardQueries::LatestEventId() {
  return farm_.store.LatestEventId();
}

StatusOr<std::map<std::pair<v1::JobState, std::string>, int64_t>> BoardQueries::JobCounts() {
  return farm_.store.JobCounts();
}

}  // namespace gauntlet::core
