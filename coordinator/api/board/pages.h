// The board's pages, rendered on the server from the same messages the JSON
// API returns, so every view works without JavaScript. Pure: data in, HTML out.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "gauntlet/v1/control.pb.h"
#include "gauntlet/v1/types.pb.h"

namespace gauntlet::board {

// A finding of the night's comparison, placed on its job's cell.
struct CellMark {
  v1::MatrixCell cell;                       // Where: model, dtype, tp, context, stage.
  v1::Finding finding;
};

struct MatrixView {
  std::vector<v1::MatrixCell> cells;
  std::vector<v1::Sweep> sweeps;             // For the filter's choices.
  std::vector<std::string> schedules;        // For the schedule filter.
  std::vector<v1::Annotation> annotations;   // Model-scoped issue links.
  int64_t sweep_id = 0;                      // The filter as given.
  std::string schedule;
  std::string tag;
  std::string since;                         // YYYY-MM-DD or "".
  // A scheduled night: its regressions, fixes, flaky jobs and benchmark
  // changes against its baseline, and what that baseline is (or why none).
  std::vector<CellMark> marks;
  std::optional<v1::CompareResponse> compare;
  std::string compare_note;
};
std::string RenderMatrix(const MatrixView& view);

// A job list, for a matrix cell or a sweep.
std::string RenderJobList(const std::string& heading, const std::vector<v1::Job>& jobs, int64_t now_ms);

std::string RenderSweeps(const std::vector<v1::Sweep>& sweeps);
std::string RenderSweep(const v1::Sweep& sweep, const std::vector<v1::Job>& jobs,
                        const std::vector<v1::Annotation>& annotations, int64_t now_ms);

struct JobView {
  v1::Job job;
  std::vector<v1::Event> events;
  std::vector<v1::Annotation> annotations;
  std::vector<std::string> why;  // Why it waits (gauntlet why); empty unless pending or ready.
  std::string log;          // The latest attempt's log so far.
  int64_t log_attempt = 0;
  int64_t now_ms = 0;
};
std::string RenderJob(const JobView& view);
// A validate job's steps and tokens from its result.json; "" for other results.
std::string RenderValidation(const std::string& result_json);
// A job's test cases (from its `results:` files); "" when it has none.
std::string RenderTestCases(const v1::Job& job);
// A kernel suite's tables from its metrics: the gemm suite's
// compute/communication split, the moe suite's latency per method and
// token count; "" for other jobs.
std::string RenderKernelTables(const v1::Job& job);

std::string RenderAgents(const std::vector<v1::Agent>& agents, const std::map<int64_t, v1::Job>& jobs_by_attempt,
                         int64_t now_ms);

std::string RenderBenchmarks(const std::vector<v1::BenchmarkPoint>& points);

struct ScheduleView {
  v1::Schedule schedule;
  std::vector<v1::Firing> firings;           // Newest first.
  std::optional<v1::CompareResponse> compare;  // One schedule's page: its newest night.
  std::string compare_note;                  // Why there is no comparison yet.
};
std::string RenderNightly(const std::vector<ScheduleView>& schedules);
std::string RenderSchedule(const ScheduleView& view);
// One job night by night: outcome, metrics and each night's verdict.
std::string RenderTestHistory(const v1::TestHistoryResponse& history);

// Sign-in: a token form that returns to `next`; `error` says why the last try failed.
std::string RenderLogin(const std::string& next, const std::string& error);
// Newest first; `actor` names the filter, if any.
std::string RenderAudit(const std::vector<v1::AuditEvent>& events, const std::string& actor);

}  // namespace gauntlet::board
