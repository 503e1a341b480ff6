// Benchmarks: TTFT and ITL per model, dtype, TP, attention, context and
// program over days, each value against its target — the tracker's
// benchmark table. The chart is drawn by the script
// from /api/v1/benchmarks; the table stands on its own.
#include <map>
#include <set>

#include "common/format.h"
#include "coordinator/api/board/html.h"
#include "coordinator/api/board/pages.h"

namespace gauntlet::board {
namespace {

// A change point starting at this day: which metric, which way, by how much,
// and the test's figures in the tooltip.
std::string ChangeMark(const std::string& metric, const v1::SeriesMark& mark) {
  if (!mark.change()) return "";
  return "<span class=\"mark " + std::string(mark.regression() ? "fail" : "pass") + "\" data-mark=change data-metric=" +
         metric + " title=\"" + Escape(mark.test()) + "\">" + (mark.regression() ? "▼ " : "▲ ") + metric + " " +
         FormatSignedPercent(mark.effect()) + "</span>";
}

}  // namespace

std::string RenderBenchmarks(const std::vector<v1::BenchmarkPoint>& points) {
  std::string body = "<h1>Benchmarks</h1><p>(TTFT, ITL) in ms per day, from the attempt that succeeded; each "
                     "value is green within the sweep's <code>targets:</code> and red past it. ▼/▲ marks the first "
                     "day of a new level the change detector found (<code>coordinator/nightly/change_point.h</code>); "
                     "the charts' shaded band is each level's mean ± 2 night-to-night standard deviations.</p>"
                     "<div id=chart></div><div id=chart-itl></div>";
  if (points.empty()) return body + "<p class=empty>No benchmark results yet.</p>";
  std::set<std::string> days;
  std::map<std::pair<std::string, std::string>, std::map<std::string, const v1::BenchmarkPoint*>> rows;
  for (const auto& point : points) {
    days.insert(point.day());
    rows[{point.model(), point.series()}][point.day()] = &point;  // The latest job of the day wins.
  }
  body += "<div class=scroll><table class=list id=benchmarks><thead><tr><th>model</th><th>dtype</th><th>TP</th>"
          "<th>attention</th><th>context</th><th>program</th>";
  for (const auto& day : days) body += "<th>" + Escape(day) + "</th>";
  body += "<th>target</th></tr></thead><tbody>";
  auto number = [](double value) {
    char buffer[32];
    std::snprintf(buffer, sizeof(buffer), "%.4g", value);
    return std::string(buffer);
  };
  // One value against its own target: a TTFT within target beside an ITL
  // past it is one green and one red number, not a red pair.
  auto judged = [&](const std::string& metric, double value, double target) {
    const char* verdict = target <= 0 ? "untargeted" : value <= target ? "pass" : "fail";
    return "<span class=" + std::string(verdict) + " data-metric=" + metric + ">" + number(value) + "</span>";
  };
  auto cell = [](const std::string& text) { return "<td>" + Escape(text.empty() ? "—" : text) + "</td>"; };
  for (const auto& [key, by_day] : rows) {
    const v1::BenchmarkPoint& first = *by_day.begin()->second;
    body += "<tr data-series=\"" + Escape(key.second) + "\"><td class=name>" + Escape(key.first) + "</td>" +
            cell(first.dtype()) + cell(first.tp()) + cell(first.attention()) + cell(first.context()) +
            cell(first.program());
    const v1::BenchmarkPoint* last = nullptr;
    for (const auto& day : days) {
      auto found = by_day.find(day);
      if (found == by_day.end()) {
        body += "<td></td>";
        continue;
      }
      last = found->second;
      body += "<td class=value><a href=\"/jobs/" + std::to_string(last->job_id()) + "\">(" +
              judged("ttft", last->ttft_ms(), last->ttft_target_ms()) + ", " +
              judged("itl", last->itl_ms(), last->itl_target_ms()) + ")</a>" + ChangeMark("TTFT", last->ttft()) +
              ChangeMark("ITL", last->itl()) + "</td>";
    }
    body += "<td>" + (last && (last->ttft_target_ms() > 0 || last->itl_target_ms() > 0)
                          ? "(" + number(last->ttft_target_ms()) + ", " + number(last->itl_target_ms()) + ")"
                          : std::string()) +
            "</td></tr>";
  }
  return body + "</tbody></table></div>";
}

}  // namespace gauntlet::board
