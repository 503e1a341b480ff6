// One job of a schedule night by night: what the board's test history view
// and `gauntlet schedules history NAME --job JOB` show. Each night is judged
// as compare would have judged it that night (against the night before, with
// the history before that), so a row's verdict never changes with later nights.
#include <algorithm>

#include "coordinator/core/comparisons.h"

namespace gauntlet::core {
namespace {

constexpr int kDefaultNights = 30;
constexpr int kMaxNights = 366;

std::string OutcomeText(const v1::Job& job, const nightly::JobRecord& record) {
  if (record.flaky) return "flaky";
  switch (record.outcome) {
    case nightly::Outcome::kPassed: return "pass";
    case nightly::Outcome::kFailed: return "fail";
    case nightly::Outcome::kUnfinished: break;
  }
  return job.state() == v1::JOB_STATE_CANCELLED || job.state() == v1::JOB_STATE_SKIPPED ? "not run" : "unfinished";
}

}  // namespace

StatusOr<v1::TestHistoryResponse> ComparisonQueries::TestHistory(const v1::TestHistoryRequest& request) {
  if (request.job().empty()) return Err(Status::InvalidArgument("job: give the job's name, e.g. --job bench"));
  if (request.limit() < 0 || request.limit() > kMaxNights) {
    return Err(Status::InvalidArgument("limit " + std::to_string(request.limit()) + " must be 1 to " +
                                       std::to_string(kMaxNights) + " nights (0: " +
                                       std::to_string(kDefaultNights) + ")"));
  }
  GAUNTLET_ASSIGN_OR_RETURN(auto schedule, farm_.store.ScheduleByName(request.schedule()));
  if (!schedule) {
    return Err(Status::NotFound("no schedule '" + request.schedule() + "': see `gauntlet schedules list`"));
  }
  const int limit = request.limit() ? request.limit() : kDefaultNights;
  GAUNTLET_ASSIGN_OR_RETURN(auto firings, farm_.store.Firings(schedule->id, 0));

  struct Night {
    v1::TestNight row;
    std::optional<nightly::SweepRecord> record;  // Finished nights only.
  };
  std::vector<Night> nights;  // Newest first, as the firings come.
  bool any_job = false;
  for (const auto& firing : firings) {
    if (firing.sweep_id() == 0) continue;
    if (static_cast<int>(nights.size()) == limit) break;
    GAUNTLET_ASSIGN_OR_RETURN(auto sweep, farm_.store.GetSweep(firing.sweep_id(), /*with_spec=*/false));
    if (!sweep) continue;
    Night night;
    night.row.set_sweep_id(sweep->id());
    night.row.set_nominal_date(sweep->nominal_date());
    night.row.set_outcome("absent");
    GAUNTLET_ASSIGN_OR_RETURN(int64_t job_id, farm_.store.JobIdByName(sweep->id(), request.job()));
    nightly::SweepRecord record;
    record.id = sweep->id();
    record.label = sweep->nominal_date();
    if (job_id != 0) {
      any_job = true;
      GAUNTLET_ASSIGN_OR_RETURN(auto job, farm_.store.GetJob(job_id));
      GAUNTLET_ASSIGN_OR_RETURN(int64_t rerun_id, farm_.store.JobIdByName(sweep->id(), request.job() + ".rerun"));
      std::optional<v1::Job> rerun;
      if (rerun_id != 0) {
        GAUNTLET_ASSIGN_OR_RETURN(rerun, farm_.store.GetJob(rerun_id));
      }
      std::vector<const v1::Job*> reruns;
      if (rerun) reruns.push_back(&*rerun);
      if (job) {
        GAUNTLET_ASSIGN_OR_RETURN(auto job_record, JobRecordOf(*job, reruns));
        night.row.set_job_id(job_id);
        night.row.set_state(job->state());
        night.row.set_outcome(OutcomeText(*job, job_record));
        for (const auto& [metric, runs] : job_record.samples) {
          (*night.row.mutable_values())[metric] = nightly::NightValue({"", runs});
        }
        record.jobs.push_back(std::move(job_record));
      }
    }
    if (sweep->finished()) night.record = std::move(record);
    nights.push_back(std::move(night));
  }
  if (!any_job) {
    return Err(Status::NotFound("schedule '" + request.schedule() + "' has no job '" + request.job() +
                                "' in its last " + std::to_string(nights.size()) +
                                " nights; `gauntlet status SWEEP` lists a night's jobs"));
  }

  // Oldest first, finished nights only: each judged against the one before.
  std::vector<Night*> finished;
  for (auto it = nights.rbegin(); it != nights.rend(); ++it) {
    if (it->record) finished.push_back(&*it);
  }
  const nightly::CompareOptions options = OptionsOf(schedule->policy);
  std::vector<nightly::SweepRecord> history;
  for (size_t i = 1; i < finished.size(); ++i) {
    const nightly::Comparison comparison =
        nightly::Compare(history, *finished[i - 1]->record, *finished[i]->record, options);
    for (const auto& finding : comparison.findings) {
      FindingToProto(finding, finished[i]->row.job_id(), finished[i]->row.add_findings());
    }
    history.push_back(*finished[i - 1]->record);
  }

  v1::TestHistoryResponse response;
  response.set_schedule(request.schedule());
  response.set_job(request.job());
  for (auto& night : nights) *response.add_nights() = std::move(night.row);
  return response;
}

}  // namespace gauntlet::core
