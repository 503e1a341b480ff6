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
