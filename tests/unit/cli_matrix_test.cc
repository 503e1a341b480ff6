#include <gtest/gtest.h>

#include "cli/matrix.h"

namespace gauntlet::cli {
namespace {

v1::Job Job(const std::string& stage, const std::string& dtype, const std::string& tp, const std::string& context,
            v1::JobState state) {
  v1::Job job;
  job.set_stage(stage);
  auto& labels = *job.mutable_labels();
  labels["model"] = "tiny";
  if (!dtype.empty()) labels["dtype"] = dtype;
  labels["tp"] = tp;
  labels["attention"] = "paged";
  labels["context"] = context;
  job.set_state(state);
  return job;
}

TEST(CliMatrix, RowsByModelDtypeTpColumnsByContextThenPipelineOrder) {
  std::vector<v1::Job> jobs = {
      Job("reference", "", "", "512", v1::JOB_STATE_SUCCEEDED),  // Every row's input: no row of its own.
      Job("validate", "fp32", "2", "512", v1::JOB_STATE_FAILED),
      Job("run", "fp32", "2", "512", v1::JOB_STATE_SUCCEEDED),
      Job("run", "fp32", "10", "4096", v1::JOB_STATE_RUNNING),
      Job("compile", "bf16", "1", "4096", v1::JOB_STATE_CACHED),
  };
  const MatrixView matrix = BuildMatrix(jobs);
  EXPECT_EQ(matrix.columns, (std::vector<std::string>{"MODEL", "DTYPE", "TP", "ATTENTION", "run@512", "validate@512",
                                                      "compile@4096", "run@4096"}));
  ASSERT_EQ(matrix.rows.size(), 3u);
  EXPECT_EQ(matrix.rows[0], (std::vector<std::string>{"tiny", "bf16", "1", "paged", "-", "-", "PASS", "-"}));
  EXPECT_EQ(matrix.rows[1], (std::vector<std::string>{"tiny", "fp32", "2", "paged", "PASS", "FAIL", "-", "-"}))
      << "TP sorts as a number: 2 before 10";
  EXPECT_EQ(matrix.rows[2][7], "RUN");
}

TEST(CliMatrix, ACellShowsItsWorstOutcomeAndHowManyOfItsJobs) {
  const v1::Job pass = Job("run", "fp32", "1", "512", v1::JOB_STATE_SUCCEEDED);
  const v1::Job fail = Job("run", "fp32", "1", "512", v1::JOB_STATE_FAILED);
  const v1::Job wait = Job("run", "fp32", "1", "512", v1::JOB_STATE_PENDING);
  EXPECT_EQ(CellText({&pass, &pass}), "PASS");
  EXPECT_EQ(CellText({&pass, &fail, &wait}), "FAIL 1/3");
  EXPECT_EQ(CellText({&pass, &wait}), "WAIT 1/2");
  EXPECT_EQ(CellText({}), "-");
  EXPECT_EQ(RenderMatrix(BuildMatrix({})), "") << "no model jobs, no matrix";
}

}  // namespace
}  // namespace gauntlet::cli
