// The Nightly page: each schedule with its next and last firing and the
// status of each night, skipped slots and why; one schedule's page adds its
// newest night against the baseline (gauntlet compare); a job's history
// shows it night by night.
#include <set>

#include "common/format.h"
#include "coordinator/api/board/html.h"
#include "coordinator/api/board/pages.h"
#include "lib/jobs/job_state.h"

namespace gauntlet::board {
namespace {

std::string NightState(const v1::Firing& firing) {
  if (firing.sweep_id() == 0) {
    const bool failed = firing.kind() == "failed";
    return std::string("<span class=") + (failed ? "fail>not submitted" : "skipped>skipped") + "</span>";
  }
  switch (jobs::OutcomeOf(firing.sweep())) {
    case jobs::SweepOutcome::kRunning: return "<span class=running>running</span>";
    case jobs::SweepOutcome::kSucceeded: return "<span class=pass>PASS</span>";
    case jobs::SweepOutcome::kCancelled: return "<span class=cancelled>cancelled</span>";
    case jobs::SweepOutcome::kFailed: break;
  }
  return "<span class=fail>FAIL</span>";
}

std::string FiringRows(const std::vector<v1::Firing>& firings) {
  if (firings.empty()) return "<p class=empty>No slot has come yet.</p>";
  std::string rows =
      "<table class=\"list firings\"><thead><tr><th>night</th><th>slot</th><th>what</th><th>sweep</th><th>state</th>"
      "<th>detail</th></tr></thead><tbody>";
  for (const auto& firing : firings) {
    const std::string sweep = firing.sweep_id() ? std::to_string(firing.sweep_id()) : "";
    rows += "<tr class=firing data-kind=\"" + Escape(firing.kind()) + "\"><td>" + Escape(firing.nominal_date()) +
            "</td><td>" + Escape(firing.local_time()) + "</td><td>" + Escape(firing.kind()) + "</td><td>" +
            (sweep.empty() ? "" : "<a href=\"/sweeps/" + sweep + "\">" + sweep + "</a>") + "</td><td>" +
            NightState(firing) + "</td><td class=reason>" + Escape(firing.detail()) + "</td></tr>";
  }
  return rows + "</tbody></table>";
}

std::string KindClass(const std::string& kind) { return std::string(FindingClass(kind)); }

std::string HistoryLink(const std::string& schedule, const std::string& job) {
  return "/nightly/" + UrlEncode(schedule) + "/tests?job=" + UrlEncode(job);
}

std::string Findings(const std::string& schedule, const v1::CompareResponse& compare) {
  std::string body = "<h2>" + Escape(compare.label()) + " (sweep " + std::to_string(compare.sweep_id()) +
                     ") against " + Escape(compare.base_label()) + " (sweep " +
                     std::to_string(compare.base_sweep_id()) + ")</h2>";
  std::string counts;
  for (const auto& [kind, count] : std::map<std::string, int>(compare.counts().begin(), compare.counts().end())) {
    counts += "<span class=\"" + KindClass(kind) + "\">" + Escape(kind) + " " + std::to_string(count) + "</span> ";
  }
  body += "<p id=compare-counts>" + counts + "</p>";
  body += "<table class=list id=findings><thead><tr><th>kind</th><th>job</th><th>metric</th><th>before</th>"
          "<th>after</th><th>effect</th><th>95% CI</th><th>p</th><th>noise</th><th>flaky nights</th><th>how</th>"
          "<th></th></tr></thead><tbody>";
  for (const auto& finding : compare.findings()) {
    if (finding.kind() == "unchanged" && finding.metric().empty()) continue;
    const bool measured = !finding.metric().empty() && finding.before() != 0;
    body += "<tr data-kind=\"" + Escape(finding.kind()) + "\" data-job=\"" + Escape(finding.job()) +
            "\" data-metric=\"" + Escape(finding.metric()) + "\"><td class=\"" + KindClass(finding.kind()) + "\">" +
            Escape(finding.kind()) + "</td><td><a href=\"/jobs/" + std::to_string(finding.job_id()) + "\">" +
            Escape(finding.job()) + "</a></td><td>" + Escape(finding.metric()) + "</td><td>" +
            (measured ? FormatNumber(finding.before()) : "") + "</td><td>" + (measured ? FormatNumber(finding.after()) : "") +
            "</td><td>" + (measured ? FormatSignedPercent(finding.effect()) : "") + "</td><td>" +
            (measured && finding.effect_low() != finding.effect_high()
                 ? FormatSignedPercent(finding.effect_low()) + " .. " + FormatSignedPercent(finding.effect_high())
                 : "") +
            "</td><td>" + (measured && finding.p_value() < 1 ? FormatNumber(finding.p_value()) : "") + "</td><td>" +
            (measured ? FormatSignedPercent(finding.noise_cv()).substr(1) : "") + "</td><td>" +
            (finding.flaky_count() ? std::to_string(finding.flaky_count()) : "") + "</td><td class=reason>" +
            Escape(!finding.detail().empty() ? finding.detail() : finding.test()) + "</td><td><a class=history href=\"" +
            Escape(HistoryLink(schedule, finding.job())) + "\">history</a></td></tr>";
  }
  return body + "</tbody></table>";
}

// One night's verdicts for the history view, the unchanged ones left out.
std::string NightVerdicts(const v1::TestNight& night) {
  std::string out;
  for (const auto& finding : night.findings()) {
    if (finding.kind() == "unchanged" || finding.kind() == "untested") continue;
    std::string text = finding.kind();
    if (!finding.metric().empty()) text += " " + finding.metric() + " " + FormatSignedPercent(finding.effect());
    out += "<span class=\"verdict " + KindClass(finding.kind()) + "\" data-kind=\"" + Escape(finding.kind()) +
           "\" data-metric=\"" + Escape(finding.metric()) + "\" title=\"" +
           Escape(!finding.detail().empty() ? finding.detail() : finding.test()) + "\">" + Escape(text) + "</span> ";
  }
  if (out.empty() && night.findings_size() > 0) out = "<span class=verdict data-kind=unchanged>unchanged</span>";
  return out;
}

std::string Summary(const v1::Schedule& schedule) {
  const auto& policy = schedule.policy();
  return "<tr data-schedule=\"" + Escape(schedule.name()) + "\"><td><a href=\"/nightly/" + UrlEncode(schedule.name()) +
         "\">" + Escape(schedule.name()) + "</a></td><td><code>" + Escape(policy.cron()) + "</code> " +
         Escape(policy.timezone()) + "</td><td>" +
         (schedule.paused() ? "<span class=skipped>paused</span>" : Escape(schedule.next_local())) + "</td><td>" +
         (schedule.has_last_firing()
              ? Escape(schedule.last_firing().nominal_date() + " " + schedule.last_firing().kind())
              : "") +
         "</td><td>" + Escape(policy.catch_up()) + " / " + Escape(policy.concurrency()) + "</td></tr>";
}

}  // namespace

std::string RenderNightly(const std::vector<ScheduleView>& schedules) {
  std::string body = "<h1>Nightly</h1>";
  if (schedules.empty()) {
    return body + "<p class=empty>No schedules. Add <code>schedule: {cron: \"0 2 * * *\"}</code> to a spec, or "
                  "<code>gauntlet schedules add</code>.</p>";
  }
  body += "<table class=list id=schedules><thead><tr><th>schedule</th><th>cron</th><th>next firing</th>"
          "<th>last night</th><th>catch-up / concurrency</th></tr></thead><tbody>";
  for (const auto& view : schedules) body += Summary(view.schedule);
  body += "</tbody></table>";
  for (const auto& view : schedules) {
    body += "<h2 id=\"schedule-" + Escape(view.schedule.name()) + "\">" + Escape(view.schedule.name()) + "</h2>" +
            FiringRows(view.firings);
  }
  return body;
}

std::string RenderSchedule(const ScheduleView& view) {
  std::string body = "<h1>Nightly · " + Escape(view.schedule.name()) + "</h1>";
  body += "<table class=list id=schedules><thead><tr><th>schedule</th><th>cron</th><th>next firing</th>"
          "<th>last night</th><th>catch-up / concurrency</th></tr></thead><tbody>" +
          Summary(view.schedule) + "</tbody></table>";
  if (view.compare) {
    body += Findings(view.schedule.name(), *view.compare);
  } else if (!view.compare_note.empty()) {
    body += "<p class=empty id=compare-note>" + Escape(view.compare_note) + "</p>";
  }
  return body + "<h2>Nights</h2>" + FiringRows(view.firings);
}

std::string RenderTestHistory(const v1::TestHistoryResponse& history) {
  std::string body = "<h1>Nightly · <a href=\"/nightly/" + UrlEncode(history.schedule()) + "\">" +
                     Escape(history.schedule()) + "</a> · " + Escape(history.job()) + "</h1>"
                     "<p>Each night as <code>gauntlet compare</code> judged it: against the night before, with the "
                     "nights before that as history.</p>";
  std::set<std::string> metrics;
  for (const auto& night : history.nights()) {
    for (const auto& [metric, value] : night.values()) metrics.insert(metric);
  }
  body += "<div class=scroll><table class=list id=test-history><thead><tr><th>night</th><th>sweep</th><th>outcome</th>";
  for (const auto& metric : metrics) body += "<th>" + Escape(metric) + "</th>";
  body += "<th>verdict</th></tr></thead><tbody>";
  for (const auto& night : history.nights()) {
    const std::string outcome_class = night.outcome() == "pass"    ? "pass"
                                      : night.outcome() == "fail"  ? "fail"
                                      : night.outcome() == "flaky" ? "running"
                                                                   : "notrun";
    body += "<tr class=night data-sweep=\"" + std::to_string(night.sweep_id()) + "\" data-outcome=\"" +
            Escape(night.outcome()) + "\"><td>" + Escape(night.nominal_date()) + "</td><td><a href=\"/sweeps/" +
            std::to_string(night.sweep_id()) + "\">" + std::to_string(night.sweep_id()) + "</a></td><td class=\"" +
            outcome_class + "\">" +
            (night.job_id() ? "<a href=\"/jobs/" + std::to_string(night.job_id()) + "\">" + Escape(night.outcome()) +
                                  "</a>"
                            : Escape(night.outcome())) +
            "</td>";
    for (const auto& metric : metrics) {
      auto found = night.values().find(metric);
      body += "<td data-metric=\"" + Escape(metric) + "\">" +
              (found == night.values().end() ? "" : FormatNumber(found->second)) + "</td>";
    }
    body += "<td>" + NightVerdicts(night) + "</td></tr>";
  }
  return body + "</tbody></table></div>";
}

}  // namespace gauntlet::board
