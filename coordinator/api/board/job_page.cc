// One job: state history, attempts, metrics, artifacts and its log, which the
// script follows while the job runs.
#include "coordinator/api/board/html.h"
#include "coordinator/api/board/pages.h"
#include "lib/jobs/job_state.h"

namespace gauntlet::board {

std::string RenderJob(const JobView& view) {
  const v1::Job& job = view.job;
  std::string body = "<h1>Job " + std::to_string(job.id()) + " · <span class=name>" + Escape(job.name()) +
                     "</span> <span id=job-state class=\"" + std::string(StateClass(job.state())) + "\">" +
                     jobs::JobStateName(job.state()) + "</span></h1>";
  body += "<p>sweep <a href=\"/sweeps/" + std::to_string(job.sweep_id()) + "\">" + std::to_string(job.sweep_id()) +
          "</a> · " + std::to_string(job.devices()) + " device(s) " + Escape(job.device_kind()) +
          (job.cached_from() ? " · cached from <a href=\"/jobs/" + std::to_string(job.cached_from()) + "\">job " +
                                   std::to_string(job.cached_from()) + "</a>"
                             : "") +
          (job.reason().empty() ? "" : " · <span class=reason>" + Escape(job.reason()) + "</span>") + "</p>";
  if (!job.labels().empty()) {
    body += "<p class=labels>";
    for (const auto& [key, value] : job.labels()) body += "<span>" + Escape(key) + "=" + Escape(value) + "</span> ";
    body += "</p>";
  }
  for (const auto& a : view.annotations) {
    body += "<p class=issues>Issue: <a class=issue href=\"" + Escape(a.url()) + "\" rel=noreferrer>" +
            Escape(a.title().empty() ? a.url() : a.title()) + "</a></p>";
  }
  if (!view.why.empty()) {
    body += "<h2>Why it waits</h2><ul id=why>";
    for (const auto& reason : view.why) body += "<li>" + Escape(reason) + "</li>";
    body += "</ul>";
  }
  body += "<h2>Attempts</h2><table class=list id=attempts><thead><tr><th>#</th><th>state</th><th>node</th>"
          "<th>devices</th><th>started</th><th>duration</th><th>exit</th><th>reason</th></tr></thead><tbody>";
  for (const auto& attempt : job.attempts()) {
    std::string devices;
    for (int index : attempt.device_indices()) devices += (devices.empty() ? "" : ",") + std::to_string(index);
    body += "<tr><td>" + std::to_string(attempt.number()) + "</td><td>" + jobs::AttemptStateName(attempt.state()) +
            "</td><td>" + Escape(attempt.agent()) + "</td><td>" + devices + "</td><td>" +
            FormatTime(attempt.started_at_ms()) + "</td><td>" +
            FormatDuration(attempt.started_at_ms(), attempt.finished_at_ms(), view.now_ms) + "</td><td>" +
            (attempt.finished_at_ms() ? std::to_string(attempt.exit_code()) : "") + "</td><td class=reason>" +
            Escape(attempt.reason()) + "</td></tr>";
  }
  body += "</tbody></table>";
  if (!job.metrics().empty()) {
    body += "<h2>Metrics</h2><table class=list id=metrics><tbody>";
    std::map<std::string, double> sorted(job.metrics().begin(), job.metrics().end());
    for (const auto& [name, value] : sorted) {
      char number[64];
      std::snprintf(number, sizeof(number), "%.6g", value);
      body += "<tr><th>" + Escape(name) + "</th><td>" + number + "</td></tr>";
    }
    body += "</tbody></table>";
  }
  body += RenderKernelTables(job);
  body += RenderTestCases(job);
  if (!job.result_json().empty()) body += RenderValidation(job.result_json());
  if (!job.artifacts().empty()) {
    body += "<h2>Artifacts</h2><ul class=artifacts>";
    for (const auto& artifact : job.artifacts()) {
      body += "<li><a href=\"/api/v1/artifacts/" + artifact.sha256() + "?name=" + UrlEncode(artifact.name()) +
              "\">" + Escape(artifact.name()) + "</a> <small>" + std::to_string(artifact.size()) + " bytes</small></li>";
    }
    body += "</ul>";
  }
  body += "<h2>History</h2><table class=list id=history><tbody>";
  for (const auto& event : view.events) {
    body += "<tr><td>" + FormatTime(event.at_ms()) + "</td><td>" + Escape(event.kind()) + "</td><td class=reason>" +
            Escape(event.message()) + "</td></tr>";
  }
  body += "</tbody></table>";
  const bool live = !jobs::IsTerminal(job.state());
  body += "<h2>Log</h2><pre id=log class=log data-job=\"" + std::to_string(job.id()) + "\" data-attempt=\"" +
          std::to_string(view.log_attempt) + "\" data-offset=\"" + std::to_string(view.log.size()) +
          "\" data-live=\"" + (live ? "1" : "0") + "\">" + Escape(view.log) + "</pre>";
  return body;
}

}  // namespace gauntlet::board
