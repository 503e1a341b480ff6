// The board's renderers are pure: protos in, HTML out.
#include <gtest/gtest.h>

#include "coordinator/api/board/html.h"
#include "coordinator/api/board/pages.h"
#include "lib/jobs/job_state.h"

namespace gauntlet::board {
namespace {

v1::MatrixCell Cell(const std::string& model, const std::string& stage, v1::JobState state, int count) {
  v1::MatrixCell cell;
  cell.set_model(model);
  cell.set_dtype("fp16");
  cell.set_tp("1");
  cell.set_context("4096");
  cell.set_stage(stage);
  cell.set_state(state);
  cell.set_count(count);
  cell.set_example_job(1);
  return cell;
}

TEST(BoardTest, UserTextIsEscapedEverywhere) {
  MatrixView view;
  view.cells = {Cell("<script>alert(1)</script>", "run", v1::JOB_STATE_SUCCEEDED, 1)};
  v1::Annotation link;
  link.set_target("<script>alert(1)</script>");
  link.set_url("https://example.com/?a=\"><img src=x onerror=alert(1)>");
  view.annotations = {link};
  std::string html = RenderMatrix(view);
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_EQ(Escape("a&b<'\">"), "a&amp;b&lt;&#39;&quot;&gt;");
}

TEST(BoardTest, AFailureColoursTheCellWhateverPassedBesideIt) {
  MatrixView view;
  view.cells = {Cell("m", "run", v1::JOB_STATE_SUCCEEDED, 5), Cell("m", "run", v1::JOB_STATE_FAILED, 1),
                Cell("m", "compile", v1::JOB_STATE_CACHED, 2)};
  std::string html = RenderMatrix(view);
  EXPECT_NE(html.find("class=\"cell fail\""), std::string::npos) << html;
  EXPECT_NE(html.find("FAIL</span> <span class=\"pass\">PASS 5"), std::string::npos) << html;
  EXPECT_NE(html.find("class=\"cell cached\""), std::string::npos) << html;
  // Stages appear in pipeline order, not alphabetically.
  EXPECT_LT(html.find(">compile</th>"), html.find(">run</th>"));
}

TEST(BoardTest, EmptyMatrixSaysHowToStart) {
  EXPECT_NE(RenderMatrix({}).find("gauntlet submit"), std::string::npos);
}

TEST(BoardTest, UrlEncodingAndDurations) {
  EXPECT_EQ(UrlEncode("a b/&c"), "a%20b%2F%26c");
  EXPECT_EQ(FormatDuration(1000, 4200, 0), "3.2s");
  EXPECT_EQ(FormatDuration(0, 4200, 0), "");

}

}  // namespace
}  // namespace gauntlet::board

namespace gauntlet::board {
namespace {

TEST(BoardTest, AValidateJobShowsItsStepsAndBothTokenStreams) {
  const std::string result = R"({"verdict": "fail", "details": {
    "steps": [{"sequence": 0, "step": 0, "cross_entropy": 2.91, "reference_entropy": 2.90, "kl": 0.01,
               "mean_abs_diff": 0.001, "top1_agrees": true, "failed": true},
              {"sequence": 0, "step": 1, "cross_entropy": 1.5, "reference_entropy": 1.2, "kl": 0.3,
               "mean_abs_diff": 0.02, "top1_agrees": false, "failed": false}],
    "sequences": [{"reference_tokens": [5, 7], "device_tokens": [5, 9],
                   "reference_text": "<b>hi", "device_text": "ho"}]}})";
  const std::string html = RenderValidation(result);
  EXPECT_NE(html.find("id=validation-steps"), std::string::npos);
  EXPECT_NE(html.find("<td>2.9100</td><td>2.9000</td><td>0.0100</td>"), std::string::npos) << html;
  EXPECT_NE(html.find("<tr class=failed>"), std::string::npos);
  EXPECT_NE(html.find("differs"), std::string::npos);
  EXPECT_NE(html.find("<code>5 7</code>"), std::string::npos) << html;
  EXPECT_NE(html.find("<code>5 9</code>"), std::string::npos);
  EXPECT_NE(html.find("&lt;b&gt;hi"), std::string::npos) << "model text is escaped";
  EXPECT_EQ(RenderValidation(R"({"verdict": "pass", "metrics": {}})"), "") << "other results render nothing";
  EXPECT_EQ(RenderValidation("not json"), "");
}

}  // namespace
}  // namespace gauntlet::board

namespace gauntlet::board {
namespace {

TEST(BoardTest, ASweepAUserStoppedIsCancelledNotFailed) {
  v1::Sweep sweep;
  sweep.set_id(4);
  sweep.set_name("nightly");
  sweep.set_finished(true);
  (*sweep.mutable_jobs_by_state())["JOB_STATE_SUCCEEDED"] = 3;
  (*sweep.mutable_jobs_by_state())["JOB_STATE_CANCELLED"] = 2;
  EXPECT_EQ(jobs::OutcomeOf(sweep), jobs::SweepOutcome::kCancelled);
  EXPECT_NE(RenderSweeps({sweep}).find("<span class=cancelled>cancelled</span>"), std::string::npos);
  (*sweep.mutable_jobs_by_state())["JOB_STATE_FAILED"] = 1;
  EXPECT_EQ(jobs::OutcomeOf(sweep), jobs::SweepOutcome::kFailed) << "a failed job makes it a failure";
  EXPECT_NE(RenderSweeps({sweep}).find("FAIL"), std::string::npos);
  sweep.set_finished(false);
  EXPECT_EQ(jobs::OutcomeOf(sweep), jobs::SweepOutcome::kRunning);
}

}  // namespace
}  // namespace gauntlet::board

namespace gauntlet::board {
namespace {

v1::Finding FindingOf(const std::string& job, const std::string& kind, const std::string& metric = "",
                      double effect = 0) {
  v1::Finding finding;
  finding.set_job(job);
  finding.set_kind(kind);
  finding.set_metric(metric);
  finding.set_effect(effect);
  finding.set_test("Welch t-test, 5 vs 5 samples");
  return finding;
}

TEST(BoardTest, TheMatrixMarksANightsRegressionsAndFixesOnTheirCells) {
  MatrixView view;
  view.cells = {Cell("m", "run", v1::JOB_STATE_FAILED, 1), Cell("m", "benchmark", v1::JOB_STATE_SUCCEEDED, 1),
                Cell("m", "compile", v1::JOB_STATE_SUCCEEDED, 1)};
  view.schedule = "nightly";
  view.compare.emplace();
  view.compare->set_base_label("2026-11-30");
  view.compare->set_base_sweep_id(7);
  auto where = [](const std::string& stage) {
    v1::MatrixCell cell = Cell("m", stage, v1::JOB_STATE_UNSPECIFIED, 0);
    return cell;
  };
  view.marks = {{where("run"), FindingOf("m-run", "regression")},
                {where("benchmark"), FindingOf("m-bench", "bench_regression", "itl_ms", 0.199)},
                {where("compile"), FindingOf("m-compile", "unchanged")},
                {where("validate"), FindingOf("gone", "fix")}};
  const std::string html = RenderMatrix(view);
  EXPECT_NE(html.find("data-mark=\"regression\" data-job=\"m-run\""), std::string::npos) << html;
  EXPECT_NE(html.find("▼ itl_ms +19.9%"), std::string::npos) << html;
  EXPECT_EQ(html.find("data-mark=\"unchanged\""), std::string::npos) << "unchanged jobs carry no mark";
  EXPECT_EQ(html.find("data-job=\"gone\""), std::string::npos) << "a mark without its cell is not drawn";
  EXPECT_NE(html.find("Marked against the baseline 2026-11-30"), std::string::npos) << html;
  EXPECT_NE(html.find(": 2 change(s)"), std::string::npos) << html;
  // The regressed cell is the run cell: the mark sits inside it.
  const size_t run_cell = html.find("stage=run");
  ASSERT_NE(run_cell, std::string::npos);
  EXPECT_LT(run_cell, html.find("data-job=\"m-run\""));
  EXPECT_GT(html.find("</td>", run_cell), html.find("data-job=\"m-run\""));
}

TEST(BoardTest, AJobsHistoryShowsEachNightsOutcomeMetricAndVerdict) {
  v1::TestHistoryResponse history;
  history.set_schedule("nightly");
  history.set_job("bench");
  auto* newest = history.add_nights();
  newest->set_sweep_id(12);
  newest->set_nominal_date("2026-12-02");
  newest->set_job_id(40);
  newest->set_outcome("pass");
  (*newest->mutable_values())["itl_ms"] = 12.04;
  *newest->add_findings() = FindingOf("bench", "bench_regression", "itl_ms", 0.199);
  auto* oldest = history.add_nights();
  oldest->set_sweep_id(11);
  oldest->set_nominal_date("2026-12-01");
  oldest->set_outcome("absent");
  const std::string html = RenderTestHistory(history);
  EXPECT_NE(html.find("data-sweep=\"12\" data-outcome=\"pass\""), std::string::npos) << html;
  EXPECT_NE(html.find(">12.04<"), std::string::npos) << html;
  EXPECT_NE(html.find("data-kind=\"bench_regression\" data-metric=\"itl_ms\""), std::string::npos) << html;
  EXPECT_NE(html.find("bench_regression itl_ms +19.9%"), std::string::npos) << html;
  EXPECT_NE(html.find("data-outcome=\"absent\""), std::string::npos);
  EXPECT_LT(html.find("2026-12-02"), html.find("2026-12-01")) << "newest first";
}

TEST(BoardTest, ABenchmarkDayThatStartsANewLevelIsMarked) {
  v1::BenchmarkPoint before, after;
  for (auto* point : {&before, &after}) {
    point->set_model("m");
    point->set_series("bf16 tp1");
  }
  before.set_day("2026-11-30");
  before.set_itl_ms(10);
  after.set_day("2026-12-01");
  after.set_itl_ms(12);
  after.mutable_itl()->set_change(true);
  after.mutable_itl()->set_regression(true);
  after.mutable_itl()->set_effect(0.2);
  after.mutable_itl()->set_test("t-test (baseline variance), 20 vs 2 nights, t = 9.1");
  const std::string html = RenderBenchmarks({before, after});
  EXPECT_NE(html.find("data-mark=change data-metric=ITL"), std::string::npos) << html;
  EXPECT_NE(html.find("▼ ITL +20.0%"), std::string::npos) << html;
  EXPECT_NE(html.find("t = 9.1"), std::string::npos) << "the test's figures are in the tooltip";
  EXPECT_EQ(html.find("TTFT +"), std::string::npos) << "TTFT did not change";
}

TEST(BoardTest, EachBenchmarkValueIsJudgedAgainstItsOwnTarget) {
  v1::BenchmarkPoint point;
  point.set_model("granite-8b");
  point.set_series("bf16 tp2 paged_fp8 8192 0 1x64");
  point.set_dtype("bf16");
  point.set_tp("2");
  point.set_attention("paged_fp8");
  point.set_context("8192");
  point.set_program("0 1x64");
  point.set_day("2026-12-01");
  point.set_ttft_ms(46.7);
  point.set_ttft_target_ms(50);
  point.set_itl_ms(12);
  point.set_itl_target_ms(10);
  const std::string html = RenderBenchmarks({point});
  EXPECT_NE(html.find("<span class=pass data-metric=ttft>46.7</span>"), std::string::npos) << html;
  EXPECT_NE(html.find("<span class=fail data-metric=itl>12</span>"), std::string::npos) << html;
  for (const char* column : {"<th>dtype</th>", "<th>TP</th>", "<th>attention</th>", "<th>context</th>", "<th>program</th>"}) {
    EXPECT_NE(html.find(column), std::string::npos) << column;
  }
  EXPECT_NE(html.find("<td>paged_fp8</td>"), std::string::npos) << html;
  point.set_ttft_target_ms(0);
  EXPECT_NE(RenderBenchmarks({point}).find("<span class=untargeted data-metric=ttft>"), std::string::npos)
      << "no target: neither colour";
}

TEST(BoardTest, AttentionTypesNeverShareACellAndSetupErrorsAreNotFailures) {
  MatrixView view;
  v1::MatrixCell paged = Cell("m", "run", v1::JOB_STATE_SUCCEEDED, 1);
  paged.set_attention("paged");
  v1::MatrixCell fp8 = Cell("m", "run", v1::JOB_STATE_FAILED, 1);
  fp8.set_attention("paged_fp8");
  v1::MatrixCell missing = Cell("m", "compile", v1::JOB_STATE_FAILED, 2);
  missing.set_attention("paged");
  missing.set_setup_error(true);
  view.cells = {paged, fp8, missing};
  const std::string html = RenderMatrix(view);
  EXPECT_NE(html.find("<th rowspan=2>attention</th>"), std::string::npos);
  EXPECT_NE(html.find("<td>paged</td>"), std::string::npos);
  EXPECT_NE(html.find("<td>paged_fp8</td>"), std::string::npos) << "a row of its own";
  EXPECT_NE(html.find("<td class=\"cell setup\">"), std::string::npos) << html;
  EXPECT_NE(html.find("<span class=\"setup\">SETUP 2</span>"), std::string::npos) << html;
  EXPECT_NE(html.find("&amp;attention=paged_fp8"), std::string::npos) << "cells link to their own jobs";
}

}  // namespace
}  // namespace gauntlet::board

namespace gauntlet::board {
namespace {

TEST(BoardTest, KernelJobsShowTheirComputeCommunicationSplitAndLatencyTable) {
  v1::Job gemm;
  (*gemm.mutable_metrics())["MLP_Top.fwd.compute_ms"] = 2.0;
  (*gemm.mutable_metrics())["MLP_Top.fwd.comm_ms"] = 2.0;
  (*gemm.mutable_metrics())["MLP_Top.fwd.busbw_gbps"] = 12.5;
  (*gemm.mutable_metrics())["MLP_Top.weight_grad.compute_ms"] = 1.0;
  (*gemm.mutable_metrics())["MLP_Top.weight_grad.comm_ms"] = 0.0;
  (*gemm.mutable_metrics())["compute_ms"] = 3.0;
  const std::string split = RenderKernelTables(gemm);
  EXPECT_NE(split.find("id=gemm-split"), std::string::npos);
  EXPECT_NE(split.find("<tr><td>MLP_Top</td><td>fwd</td><td>2</td><td>2</td><td>12.5</td>"), std::string::npos) << split;
  EXPECT_NE(split.find("kbar compute\" style=\"width:50.0%"), std::string::npos) << "half of the widest step";
  EXPECT_LT(split.find("<td>fwd</td>"), split.find("<td>weight_grad</td>")) << "passes in pipeline order";

  v1::Job moe;
  (*moe.mutable_metrics())["cpu.t1.time_ms"] = 0.5;
  (*moe.mutable_metrics())["cpu.t1024.time_ms"] = 2.0;
  (*moe.mutable_metrics())["naive.t1024.time_ms"] = 1.0;
  (*moe.mutable_metrics())["naive.t1024.relative_error"] = 1e-3;
  const std::string table = RenderKernelTables(moe);
  EXPECT_NE(table.find("<th>input_token</th><th>cpu ms</th><th>naive ms</th>"), std::string::npos) << table;
  EXPECT_NE(table.find("<tr><td>1</td><td>0.5 "), std::string::npos) << table;
  EXPECT_NE(table.find("<td class=missing>FAIL</td>"), std::string::npos) << "naive has no time at 1 token";
  EXPECT_LT(table.find("<td>1</td>"), table.find("<td>1024</td>")) << "rows by token count, not as text";

  v1::Job other;
  (*other.mutable_metrics())["ttft_ms"] = 3;
  EXPECT_EQ(RenderKernelTables(other), "");
}

}  // namespace
}  // namespace gauntlet::board
