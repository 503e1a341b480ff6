#include "coordinator/core/comparisons.h"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace gauntlet::core {
namespace {

// Nights of history the detector is given, beyond the baseline.
constexpr int kHistoryNights = 30;

nightly::Outcome OutcomeOf(v1::JobState state) {
  switch (state) {
    case v1::JOB_STATE_SUCCEEDED:
    case v1::JOB_STATE_CACHED: return nightly::Outcome::kPassed;
    case v1::JOB_STATE_FAILED: return nightly::Outcome::kFailed;
    default: return nightly::Outcome::kUnfinished;
  }
}

// A benchmark's repeats, from its result.json's "samples" (metric -> list
// of numbers); a benchmark or kernel stage without them gives each metric
// as one sample.
std::map<std::string, std::vector<std::vector<double>>> SamplesOf(const v1::Job& job) {
  std::map<std::string, std::vector<std::vector<double>>> out;
  if (!job.result_json().empty()) {
    auto result = nlohmann::json::parse(job.result_json(), nullptr, /*allow_exceptions=*/false);
    if (result.is_object() && result.contains("samples") && result["samples"].is_object()) {
      for (const auto& [metric, values] : result["samples"].items()) {
        if (!values.is_array()) continue;
        std::vector<double> run;
        for (const auto& value : values) {
          if (value.is_number()) run.push_back(value.get<double>());
        }
        if (!run.empty()) out[metric].push_back(std::move(run));
      }
    }
  }
  if (out.empty() && (job.stage() == "benchmark" || job.stage() == "kernel")) {
    for (const auto& [metric, value] : job.metrics()) out[metric].push_back({value});
  }
  return out;
}

}  // namespace

StatusOr<nightly::SweepRecord> ComparisonQueries::Record(int64_t sweep_id, const std::string& label) {
  GAUNTLET_ASSIGN_OR_RETURN(auto sweep, farm_.store.GetSweep(sweep_id, /*with_spec=*/false));
  if (!sweep) return Err(Status::NotFound("no sweep " + std::to_string(sweep_id)));
  GAUNTLET_ASSIGN_OR_RETURN(std::vector<v1::Job> jobs, farm_.store.ListJobs(sweep_id, v1::JOB_STATE_UNSPECIFIED, 0));
  GAUNTLET_RETURN_IF_ERROR(farm_.store.AddMetrics(&jobs));
  nightly::SweepRecord record;
  record.id = sweep_id;
  record.label = !label.empty() ? label : !sweep->nominal_date().empty() ? sweep->nominal_date()
                                                                        : "sweep " + std::to_string(sweep_id);
  // A re-run (labels.rerun_of) adds its samples to its job as a second run.
  std::map<std::string, std::vector<const v1::Job*>> reruns;
  for (const auto& job : jobs) {
    if (auto of = job.labels().find("rerun_of"); of != job.labels().end()) reruns[of->second].push_back(&job);
  }
  for (const auto& job : jobs) {
    if (job.labels().contains("rerun_of")) continue;
    GAUNTLET_ASSIGN_OR_RETURN(auto out, JobRecordOf(job, reruns[job.name()]));
    record.jobs.push_back(std::move(out));
  }
  return record;
}

StatusOr<nightly::JobRecord> ComparisonQueries::JobRecordOf(const v1::Job& job,
                                                            const std::vector<const v1::Job*>& reruns) {
  nightly::JobRecord out;
  out.name = job.name();
  out.outcome = OutcomeOf(job.state());
  out.samples = SamplesOf(job);
  for (const v1::Job* rerun : reruns) {
    if (OutcomeOf(rerun->state()) != nightly::Outcome::kPassed) continue;
    for (auto& [metric, runs] : SamplesOf(*rerun)) {
      for (auto& run : runs) out.samples[metric].push_back(std::move(run));
    }
  }
  if (job.state() == v1::JOB_STATE_SUCCEEDED && job.attempt_count() > 1) {
    // Flaky: an attempt failed, and a later one passed.
    bool has_attempts = job.attempts_size() > 0;
    std::optional<v1::Job> full;
    if (!has_attempts) {
      GAUNTLET_ASSIGN_OR_RETURN(full, farm_.store.GetJob(job.id()));
    }
    const v1::Job& with_attempts = has_attempts || !full ? job : *full;
    out.flaky = std::any_of(with_attempts.attempts().begin(), with_attempts.attempts().end(),
                            [](const v1::Attempt& attempt) { return attempt.state() == v1::ATTEMPT_STATE_FAILED; });
  }
  return out;
}

StatusOr<std::vector<std::pair<int64_t, std::string>>> ComparisonQueries::FinishedNights(int64_t schedule_id,
                                                                                         int64_t up_to_sweep) {
  GAUNTLET_ASSIGN_OR_RETURN(auto firings, farm_.store.Firings(schedule_id, 0));
  std::vector<std::pair<int64_t, std::string>> nights;
  bool reached = up_to_sweep == 0;
  for (const auto& firing : firings) {  // Newest first.
    if (firing.sweep_id() == 0) continue;
    reached = reached || firing.sweep_id() == up_to_sweep;
    if (!reached) continue;
    GAUNTLET_ASSIGN_OR_RETURN(auto sweep, farm_.store.GetSweep(firing.sweep_id(), /*with_spec=*/false));
    if (!sweep || !sweep->finished()) continue;
    nights.emplace_back(sweep->id(), sweep->nominal_date());
    if (static_cast<int>(nights.size()) > kHistoryNights + 2) break;
  }
  std::reverse(nights.begin(), nights.end());
  return nights;
}

nightly::CompareOptions ComparisonQueries::OptionsOf(const v1::SchedulePolicy& policy) {
  nightly::CompareOptions options;
  options.min_effect_by_metric.insert(policy.min_effect().begin(), policy.min_effect().end());
  options.higher_is_better.assign(policy.higher_is_better().begin(), policy.higher_is_better().end());
  return options;
}

StatusOr<v1::CompareResponse> ComparisonQueries::Compare(const v1::CompareRequest& request) {
  std::vector<nightly::SweepRecord> history;
  nightly::SweepRecord base, night;
  nightly::CompareOptions options;
  if (!request.schedule().empty()) {
    GAUNTLET_ASSIGN_OR_RETURN(auto schedule, farm_.store.ScheduleByName(request.schedule()));
    if (!schedule) {
      return Err(Status::NotFound("no schedule '" + request.schedule() + "': see `gauntlet schedules list`"));
    }
    options = OptionsOf(schedule->policy);
    GAUNTLET_ASSIGN_OR_RETURN(auto nights, FinishedNights(schedule->id, request.sweep_id()));
    if (request.sweep_id() != 0 && (nights.empty() || nights.back().first != request.sweep_id())) {
      return Err(Status::FailedPrecondition("sweep " + std::to_string(request.sweep_id()) +
                                            " is not a finished night of schedule '" + request.schedule() + "'"));
    }
    if (nights.size() < 2 && !(nights.size() == 1 && schedule->baseline_sweep_id != 0)) {
      return Err(Status::FailedPrecondition("schedule '" + request.schedule() + "' has " +
                                            std::to_string(nights.size()) +
                                            " finished night(s); compare needs two (or one and a pinned baseline)"));
    }
    if (request.last() < 0 || request.last() == 1 || request.last() > static_cast<int>(nights.size())) {
      return Err(Status::InvalidArgument("--last " + std::to_string(request.last()) + ": schedule '" +
                                         request.schedule() + "' has " + std::to_string(nights.size()) +
                                         " finished nights; give 2 to " + std::to_string(nights.size())));
    }
    GAUNTLET_ASSIGN_OR_RETURN(night, Record(nights.back().first, nights.back().second));
    nights.pop_back();
    if (request.last() > 2) {
      // An older night as the base: the nights between are history too.
      nights.erase(nights.end() - (request.last() - 2), nights.end());
    }
    if (request.last() == 0 && schedule->baseline_sweep_id != 0 && schedule->baseline_sweep_id != night.id) {
      GAUNTLET_ASSIGN_OR_RETURN(base, Record(schedule->baseline_sweep_id, ""));
      base.label += " (pinned)";
    } else {
      GAUNTLET_ASSIGN_OR_RETURN(base, Record(nights.back().first, nights.back().second));
      nights.pop_back();
    }
    for (const auto& [id, label] : nights) {
      if (id == base.id) continue;
      GAUNTLET_ASSIGN_OR_RETURN(auto earlier, Record(id, label));
      history.push_back(std::move(earlier));
    }
  } else {
    if (request.base_sweep_id() == 0 || request.sweep_id() == 0) {
      return Err(Status::InvalidArgument("compare: give two sweeps (BASE SWEEP), or --schedule NAME"));
    }
    GAUNTLET_ASSIGN_OR_RETURN(base, Record(request.base_sweep_id(), ""));
    GAUNTLET_ASSIGN_OR_RETURN(night, Record(request.sweep_id(), ""));
  }

  const nightly::Comparison comparison = nightly::Compare(history, base, night, options);
  GAUNTLET_ASSIGN_OR_RETURN(std::vector<v1::Job> jobs, farm_.store.ListJobs(night.id, v1::JOB_STATE_UNSPECIFIED, 0));
  std::map<std::string, int64_t> job_ids;
  for (const auto& job : jobs) job_ids[job.name()] = job.id();
  v1::CompareResponse response;
  response.set_base_sweep_id(base.id);
  response.set_sweep_id(night.id);
  response.set_base_label(base.label);
  response.set_label(night.label);
  response.set_history_nights(static_cast<int>(history.size()));
  for (const auto& finding : comparison.findings) {
    FindingToProto(finding, job_ids[finding.job], response.add_findings());
  }
  for (const auto& [kind, count] : comparison.counts) (*response.mutable_counts())[kind] = count;
  response.set_has_regressions(comparison.HasRegressions());
  return response;
}

void ComparisonQueries::FindingToProto(const nightly::Finding& finding, int64_t job_id, v1::Finding* out) {
  out->set_job(finding.job);
  out->set_job_id(job_id);
  out->set_kind(finding.kind);
  out->set_metric(finding.metric);
  out->set_before(finding.before);
  out->set_after(finding.after);
  out->set_effect(finding.effect);
  out->set_effect_low(finding.effect_low);
  out->set_effect_high(finding.effect_high);
  out->set_statistic(finding.statistic);
  out->set_p_value(finding.p_value);
  out->set_noise_cv(finding.noise_cv);
  out->set_test(finding.test);
  out->set_detail(finding.detail);
  out->set_flaky_count(finding.flaky_count);
}

}  // namespace gauntlet::core
