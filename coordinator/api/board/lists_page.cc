// Sweep list with progress, one sweep with its DAG summary, and job lists.
#include <map>

#include "coordinator/api/board/html.h"
#include "coordinator/api/board/pages.h"
#include "lib/jobs/job_state.h"

namespace gauntlet::board {
namespace {

int CountOf(const v1::Sweep& sweep, v1::JobState state) {
  auto found = sweep.jobs_by_state().find(v1::JobState_Name(state));
  return found == sweep.jobs_by_state().end() ? 0 : found->second;
}

std::string Progress(const v1::Sweep& sweep) {
  const int total = std::max(1, sweep.total_jobs());
  const int passed = CountOf(sweep, v1::JOB_STATE_SUCCEEDED);
  const int cached = CountOf(sweep, v1::JOB_STATE_CACHED);
  const int failed = CountOf(sweep, v1::JOB_STATE_FAILED) + CountOf(sweep, v1::JOB_STATE_SKIPPED) +
                     CountOf(sweep, v1::JOB_STATE_CANCELLED);
  auto width = [&](int n) { return std::to_string(100.0 * n / total) + "%"; };
  return "<div class=bar title=\"" + std::to_string(passed + cached + failed) + " of " +
         std::to_string(sweep.total_jobs()) + " done\"><span class=pass style=\"width:" + width(passed) +
         "\"></span><span class=cached style=\"width:" + width(cached) + "\"></span><span class=fail style=\"width:" +
         width(failed) + "\"></span></div><small>" + std::to_string(passed + cached + failed) + "/" +
         std::to_string(sweep.total_jobs()) + (failed ? " · " + std::to_string(failed) + " failed/skipped" : "") +
         (cached ? " · " + std::to_string(cached) + " cached" : "") + "</small>";
}

std::string SweepStatus(const v1::Sweep& sweep) {
  switch (jobs::OutcomeOf(sweep)) {
    case jobs::SweepOutcome::kRunning: return "<span class=running>running</span>";
    case jobs::SweepOutcome::kSucceeded: return "<span class=pass>PASS</span>";
    case jobs::SweepOutcome::kCancelled: return "<span class=cancelled>cancelled</span>";
    case jobs::SweepOutcome::kFailed: break;
  }
  return "<span class=fail>FAIL</span>";
}

}  // namespace

std::string RenderJobList(const std::string& heading, const std::vector<v1::Job>& jobs, int64_t now_ms) {
  std::string body = "<h1>" + Escape(heading) + "</h1>";
  if (jobs.empty()) return body + "<p class=empty>No jobs.</p>";
  body += "<table class=list><thead><tr><th>job</th><th>name</th><th>state</th><th>node</th><th>devices</th>"
          "<th>duration</th><th>verdict</th><th>reason</th></tr></thead><tbody>";
  for (const auto& job : jobs) {
    std::string devices;
    for (int index : job.device_indices()) devices += (devices.empty() ? "" : ",") + std::to_string(index);
    body += "<tr><td><a href=\"/jobs/" + std::to_string(job.id()) + "\">" + std::to_string(job.id()) +
            "</a></td><td class=name>" + Escape(job.name()) + "</td><td class=\"" + std::string(StateClass(job.state())) +
            "\">" + jobs::JobStateName(job.state()) + "</td><td>" + Escape(job.agent()) + "</td><td>" + devices +
            "</td><td>" + FormatDuration(job.started_at_ms(), job.finished_at_ms(), now_ms) + "</td><td>" +
            Escape(job.verdict()) + "</td><td class=reason>" + Escape(job.reason()) + "</td></tr>";
  }
  return body + "</tbody></table>";
}

std::string RenderSweeps(const std::vector<v1::Sweep>& sweeps) {
  std::string body = "<h1>Sweeps</h1>";
  if (sweeps.empty()) return body + "<p class=empty>No sweeps yet.</p>";
  body += "<table class=list id=sweeps><thead><tr><th>sweep</th><th>name</th><th>submitted</th><th>status</th>"
          "<th>progress</th></tr></thead><tbody>";
  for (const auto& sweep : sweeps) {
    body += "<tr><td><a href=\"/sweeps/" + std::to_string(sweep.id()) + "\">" + std::to_string(sweep.id()) +
            "</a></td><td class=name>" + Escape(sweep.name()) + "</td><td>" + FormatTime(sweep.created_at_ms()) +
            "</td><td>" + SweepStatus(sweep) + "</td><td class=progress>" + Progress(sweep) + "</td></tr>";
  }
  return body + "</tbody></table>";
}

std::string RenderSweep(const v1::Sweep& sweep, const std::vector<v1::Job>& jobs,
                        const std::vector<v1::Annotation>& annotations, int64_t now_ms) {
  std::string body = "<h1>Sweep " + std::to_string(sweep.id()) + " · " + Escape(sweep.name()) + " " +
                     SweepStatus(sweep) + "</h1><p>" + Progress(sweep) + " · <a href=\"/?sweep=" +
                     std::to_string(sweep.id()) + "\">matrix</a></p>";
  if (!annotations.empty()) {
    body += "<p class=issues>Issues: ";
    for (const auto& a : annotations) {
      body += "<a class=issue href=\"" + Escape(a.url()) + "\" rel=noreferrer>" +
              Escape(a.title().empty() ? a.url() : a.title()) + "</a> ";
    }
    body += "</p>";
  }
  // The DAG summary: jobs per stage and state.
  std::map<std::string, std::map<v1::JobState, int>> summary;
  for (const auto& job : jobs) summary[job.stage().empty() ? "job" : job.stage()][job.state()]++;
  body += "<h2>By stage</h2><table class=list id=summary><thead><tr><th>stage</th>";
  const std::vector<v1::JobState> states = {v1::JOB_STATE_SUCCEEDED, v1::JOB_STATE_CACHED, v1::JOB_STATE_FAILED,
                                            v1::JOB_STATE_RUNNING,   v1::JOB_STATE_LEASED, v1::JOB_STATE_READY,
                                            v1::JOB_STATE_PENDING,   v1::JOB_STATE_SKIPPED, v1::JOB_STATE_CANCELLED};
  for (auto state : states) body += "<th>" + jobs::JobStateName(state) + "</th>";
  body += "</tr></thead><tbody>";
  for (const auto& [stage, counts] : summary) {
    body += "<tr><th>" + Escape(stage) + "</th>";
    for (auto state : states) {
      auto found = counts.find(state);
      body += found == counts.end() ? "<td></td>"
                                    : "<td class=\"" + std::string(StateClass(state)) + "\">" +
                                          std::to_string(found->second) + "</td>";
    }
    body += "</tr>";
  }
  body += "</tbody></table>";
  std::string list = RenderJobList("Jobs", jobs, now_ms);
  body += list.replace(0, list.find("</h1>") + 5, "<h2>Jobs</h2>");
  return body + "<h2>Spec</h2><pre class=spec>" + Escape(sweep.spec_text()) + "</pre>";
}

}  // namespace gauntlet::board
