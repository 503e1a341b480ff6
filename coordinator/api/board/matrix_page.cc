// The status matrix: the tracker's numerics table, live. Rows are model ×
// dtype × TP × attention, grouped by model; columns are context lengths ×
// stages; a cell counts its jobs by outcome (a failure of setup apart from a
// verdict) and links to them.
#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "common/format.h"
#include "coordinator/api/board/html.h"
#include "coordinator/api/board/pages.h"
#include "lib/contract/stages.h"

namespace gauntlet::board {
namespace {

using contract::StageRank;

// Orders context lengths numerically, with "" (no context) last.
bool ContextLess(const std::string& a, const std::string& b) {
  if (a.empty() != b.empty()) return b.empty();
  if (a.size() != b.size()) return a.size() < b.size();
  return a < b;
}

struct Counts {
  std::map<std::string_view, int> by_class;  // pass, fail, setup, running, queued, cached, notrun
  int64_t example_job = 0;
  std::vector<const v1::Finding*> marks;
};

// What a mark says on the cell: an arrow for the direction and the word.
std::string MarkWord(const v1::Finding& finding) {
  const std::string& kind = finding.kind();
  if (kind == "regression") return "▼ regressed";
  if (kind == "new_failure") return "▼ new failure";
  if (kind == "fix") return "▲ fixed";
  if (kind == "flaky") return "~ flaky";
  if (kind == "needs_confirmation") return "? " + finding.metric() + " re-running";
  const std::string arrow = kind == "bench_regression" ? "▼ " : "▲ ";
  return arrow + finding.metric() + " " + FormatSignedPercent(finding.effect());
}

bool Marked(const std::string& kind) {
  return kind == "regression" || kind == "new_failure" || kind == "fix" || kind == "flaky" ||
         kind == "needs_confirmation" || kind == "bench_regression" || kind == "bench_improvement";
}

std::string MarksHtml(const std::vector<const v1::Finding*>& marks) {
  std::string out;
  for (const v1::Finding* finding : marks) {
    const std::string how = !finding->detail().empty() ? finding->detail() : finding->test();
    out += "<span class=\"mark " + std::string(FindingClass(finding->kind())) + "\" data-mark=\"" +
           Escape(finding->kind()) + "\" data-job=\"" + Escape(finding->job()) + "\" title=\"" +
           Escape(finding->job() + (how.empty() ? "" : ": " + how)) + "\">" + Escape(MarkWord(*finding)) + "</span>";
  }
  return out;
}

std::string CellHtml(const Counts& counts, const std::string& link) {
  if (counts.by_class.empty()) return "<td class=\"cell empty\">—</td>";
  // The worst outcome colours the cell: a failure must never hide behind passes.
  std::string_view colour = "pass";
  for (std::string_view c : {"cached", "notrun", "queued", "running", "setup", "fail"}) {
    if (counts.by_class.contains(c)) colour = c;
  }
  if (counts.by_class.size() == 1 && counts.by_class.begin()->first == "cached") colour = "cached";
  std::string text;
  static const std::vector<std::pair<std::string_view, std::string_view>> kWords = {
      {"fail", "FAIL"}, {"setup", "SETUP"}, {"pass", "PASS"}, {"cached", "cached"}, {"running", "running"}, {"queued", "queued"},
      {"notrun", "not run"}};
  for (const auto& [cls, word] : kWords) {
    auto found = counts.by_class.find(cls);
    if (found == counts.by_class.end()) continue;
    text += std::string(text.empty() ? "" : " ") + "<span class=\"" + std::string(cls) + "\">" + std::string(word) +
            (found->second > 1 ? " " + std::to_string(found->second) : "") + "</span>";
  }
  return "<td class=\"cell " + std::string(colour) + "\"><a href=\"" + link + "\">" + text + "</a>" +
         MarksHtml(counts.marks) + "</td>";
}

}  // namespace

std::string RenderMatrix(const MatrixView& view) {
  // model → (dtype, tp) → (context, stage) → counts
  using RowKey = std::tuple<std::string, std::string, std::string>;  // dtype, TP, attention
  using ColumnKey = std::pair<std::string, std::string>;
  std::map<std::string, std::map<RowKey, std::map<ColumnKey, Counts>>> grid;
  std::set<std::string> contexts;
  for (const auto& cell : view.cells) {
    Counts& counts = grid[cell.model()][{cell.dtype(), cell.tp(), cell.attention()}][{cell.context(), cell.stage()}];
    // A model folder missing on the node is the farm's setup, not the model's numerics.
    counts.by_class[cell.setup_error() ? std::string_view("setup") : StateClass(cell.state())] += cell.count();
    if (counts.example_job == 0) counts.example_job = cell.example_job();
    contexts.insert(cell.context());
  }
  int placed_marks = 0;
  for (const auto& mark : view.marks) {
    if (!Marked(mark.finding.kind())) continue;
    const auto& at = mark.cell;
    auto model = grid.find(at.model());
    if (model == grid.end()) continue;
    auto row = model->second.find({at.dtype(), at.tp(), at.attention()});
    if (row == model->second.end()) continue;
    auto column = row->second.find({at.context(), at.stage()});
    if (column == row->second.end()) continue;
    column->second.marks.push_back(&mark.finding);
    ++placed_marks;
  }
  std::vector<std::string> context_order(contexts.begin(), contexts.end());
  std::sort(context_order.begin(), context_order.end(), ContextLess);
  // Only the stages a context has jobs for: a free-form "job" column under
  // every context would be mostly empty.
  std::map<std::string, std::vector<std::string>> stages_of;
  for (const auto& context : context_order) {
    std::set<std::string> present;
    for (const auto& [model, rows] : grid) {
      for (const auto& [row, columns] : rows) {
        for (const auto& [column, counts] : columns) {
          if (column.first == context) present.insert(column.second);
        }
      }
    }
    std::vector<std::string> ordered(present.begin(), present.end());
    std::sort(ordered.begin(), ordered.end(), [](const auto& a, const auto& b) { return StageRank(a) < StageRank(b); });
    stages_of[context] = std::move(ordered);
  }
  std::string body = "<form class=filters method=get action=\"/\"><label>Sweep <select name=sweep>"
                     "<option value=0>all sweeps</option>";
  for (const auto& sweep : view.sweeps) {
    body += "<option value=" + std::to_string(sweep.id()) + (sweep.id() == view.sweep_id ? " selected" : "") + ">" +
            std::to_string(sweep.id()) + " · " + Escape(sweep.name()) + "</option>";
  }
  body += "</select></label> <label>Schedule <select name=schedule><option value=\"\">any</option>";
  for (const auto& schedule : view.schedules) {
    body += "<option" + std::string(schedule == view.schedule ? " selected" : "") + ">" + Escape(schedule) +
            "</option>";
  }
  body += "</select></label> <label>Tag <input name=tag size=10 value=\"" + Escape(view.tag) +
          "\"></label> <label>Since <input type=date name=since value=\"" + Escape(view.since) +
          "\"></label> <button>Filter</button></form>";
  if (grid.empty()) return body + "<p class=empty>No jobs match. Submit a sweep: <code>gauntlet submit FILE</code></p>";
  if (view.compare) {
    body += "<p id=matrix-baseline>Marked against the baseline " + Escape(view.compare->base_label()) +
            " (sweep <a href=\"/sweeps/" + std::to_string(view.compare->base_sweep_id()) + "\">" +
            std::to_string(view.compare->base_sweep_id()) + "</a>): " + std::to_string(placed_marks) +
            " change(s). <a href=\"/nightly/" + UrlEncode(view.schedule) + "\">The night's comparison</a></p>";
  } else if (!view.compare_note.empty()) {
    body += "<p class=empty id=matrix-baseline>" + Escape(view.compare_note) + "</p>";
  }

  std::string sweep_param = view.sweep_id ? "&sweep=" + std::to_string(view.sweep_id) : "";
  body += "<div class=scroll><table id=matrix class=matrix><thead><tr><th rowspan=2>model</th><th rowspan=2>dtype</th>"
          "<th rowspan=2>TP</th><th rowspan=2>attention</th>";
  for (const auto& context : context_order) {
    body += "<th class=ctx colspan=" + std::to_string(stages_of[context].size()) + ">" +
            (context.empty() ? "—" : "ctx " + Escape(context)) + "</th>";
  }
  body += "<th rowspan=2>issues</th></tr><tr>";
  for (const auto& context : context_order) {
    for (const auto& stage : stages_of[context]) body += "<th class=stage>" + Escape(stage) + "</th>";
  }
  body += "</tr></thead>";
  for (const auto& [model, rows] : grid) {
    std::string issues;
    for (const auto& annotation : view.annotations) {
      if (annotation.target() != model) continue;
      issues += "<a class=issue href=\"" + Escape(annotation.url()) + "\" rel=noreferrer>" +
                Escape(annotation.title().empty() ? annotation.url() : annotation.title()) + "</a> ";
    }
    body += "<tbody class=model data-model=\"" + Escape(model) + "\">";
    bool first = true;
    for (const auto& [row, columns] : rows) {
      body += "<tr>";
      if (first) {
        body += "<th class=model rowspan=" + std::to_string(rows.size()) + " title=\"" + Escape(model) + "\">" +
                "<button class=toggle type=button hidden aria-label=\"collapse\">▾</button> " + Escape(model) +
                "</th>";
      }
      const auto& [dtype, tp, attention] = row;
      body += "<td>" + Escape(dtype.empty() ? "—" : dtype) + "</td><td>" + Escape(tp.empty() ? "—" : tp) +
              "</td><td>" + Escape(attention.empty() ? "—" : attention) + "</td>";
      for (const auto& context : context_order) {
        for (const auto& stage : stages_of[context]) {
          auto found = columns.find({context, stage});
          std::string link = "/jobs?model=" + UrlEncode(model) + "&dtype=" + UrlEncode(dtype) + "&tp=" +
                             UrlEncode(tp) + "&attention=" + UrlEncode(attention) + "&context=" + UrlEncode(context) +
                             "&stage=" + UrlEncode(stage) + sweep_param;
          body += found == columns.end() ? "<td class=\"cell empty\">—</td>" : CellHtml(found->second, Escape(link));
        }
      }
      if (first) body += "<td class=issues rowspan=" + std::to_string(rows.size()) + ">" + issues + "</td>";
      body += "</tr>";
      first = false;
    }
    body += "</tbody>";
  }
  return body + "</table></div>";
}

}  // namespace gauntlet::board
