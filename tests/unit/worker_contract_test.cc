// The agent↔worker contract: job.json and result.json round trips, the one
// rule from a process's end to an attempt's outcome, and a rank's device.
#include "lib/contract/worker_contract.h"

#include <gtest/gtest.h>

#include "lib/contract/stages.h"
#include "lib/contract/targets.h"

namespace gauntlet::contract {
namespace {

TEST(WorkerContract, JobRoundTripsAndNamesBadFields) {
  WorkerJob job;
  job.job_id = 7;
  job.attempt_id = 9;
  job.suite = "llm";
  job.params = {{"stage", "run"}};
  job.backend = "gpu";
  job.devices = {2, 3};
  job.inputs = "/tmp/in";
  auto back = WorkerJobFromJson(ToJson(job));
  ASSERT_TRUE(back.has_value()) << back.error().ToString();
  EXPECT_EQ(back->suite, "llm");
  EXPECT_EQ(back->params["stage"], "run");
  EXPECT_EQ(back->devices, (std::vector<int>{2, 3}));
  EXPECT_EQ(back->version, kWorkerContractVersion);

  auto no_suite = WorkerJobFromJson({{"params", nlohmann::json::object()}});
  ASSERT_FALSE(no_suite.has_value());
  EXPECT_NE(no_suite.error().message().find("'suite'"), std::string::npos);
  auto bad_devices = WorkerJobFromJson({{"suite", "llm"}, {"devices", {"a"}}});
  ASSERT_FALSE(bad_devices.has_value());
  EXPECT_NE(bad_devices.error().message().find("'devices'"), std::string::npos);
  auto newer = WorkerJobFromJson({{"suite", "llm"}, {"version", kWorkerContractVersion + 1}});
  ASSERT_FALSE(newer.has_value());
  EXPECT_NE(newer.error().message().find("newer than this worker"), std::string::npos);
  EXPECT_FALSE(WorkerJobFromJson(nlohmann::json::array()).has_value());
  EXPECT_EQ(WorkerJobFromJson({{"suite", "x"}, {"backend", ""}})->backend, "cpu") << "empty backend means cpu";
}

TEST(WorkerContract, ResultRoundTripsAndKeepsOnlyNumericMetrics) {
  WorkerResult result;
  result.suite = "selftest";
  result.verdict = Verdict::kFail;
  result.reason = "3 of 8 steps";
  result.metrics = {{"ttft_ms", 12.5}};
  result.samples = {{"itl_ms", {4.0, 4.5, 4.25}}};
  auto back = WorkerResultFromJson(ToJson(result));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->verdict, Verdict::kFail);
  EXPECT_EQ(back->metrics.at("ttft_ms"), 12.5);
  EXPECT_EQ(back->samples.at("itl_ms"), (std::vector<double>{4.0, 4.5, 4.25}));
  auto bad_samples = WorkerResultFromJson({{"verdict", "pass"}, {"samples", {{"itl_ms", 3}}}});
  ASSERT_FALSE(bad_samples.has_value());
  EXPECT_NE(bad_samples.error().message().find("samples.itl_ms"), std::string::npos) << bad_samples.error().message();
  auto odd = WorkerResultFromJson({{"verdict", "pass"}, {"metrics", {{"a", 1}, {"b", "x"}, {"c", nullptr}}}});
  ASSERT_TRUE(odd.has_value());
  EXPECT_EQ(odd->metrics.size(), 1u);
  auto no_verdict = WorkerResultFromJson({{"metrics", nlohmann::json::object()}});
  ASSERT_FALSE(no_verdict.has_value());
  EXPECT_NE(no_verdict.error().message().find("'verdict'"), std::string::npos);
  EXPECT_FALSE(WorkerResultFromJson({{"verdict", "maybe"}}).has_value());
}

WorkerResult Verdict(contract::Verdict verdict, std::string reason = "") {
  WorkerResult result;
  result.verdict = verdict;
  result.reason = std::move(reason);
  return result;
}

TEST(WorkerContract, WorkerExitCodesMapToFailureClasses) {
  struct Case {
    int exit_code;
    std::optional<WorkerResult> result;
    bool succeeded;
    FailureClass failure;
  };
  const std::vector<Case> cases = {
      {0, Verdict(Verdict::kPass), true, FailureClass::kNone},
      {0, std::nullopt, false, FailureClass::kInfrastructure},
      {0, Verdict(Verdict::kFail, "x"), false, FailureClass::kVerdict},
      {1, Verdict(Verdict::kFail, "3 of 8 steps"), false, FailureClass::kVerdict},
      {2, Verdict(Verdict::kFail, "params.dtype: 'fp7'"), false, FailureClass::kConfiguration},
      {3, Verdict(Verdict::kFail, "disk full"), false, FailureClass::kInfrastructure},
      {134, std::nullopt, false, FailureClass::kInfrastructure},
  };
  for (const auto& c : cases) {
    ProcessEnd end;
    end.exit_code = c.exit_code;
    end.description = "exit code " + std::to_string(c.exit_code);
    Outcome outcome = DecideOutcome(end, c.result, /*worker=*/true);
    SCOPED_TRACE("exit " + std::to_string(c.exit_code));
    EXPECT_EQ(outcome.succeeded, c.succeeded);
    EXPECT_EQ(outcome.failure, c.failure) << FailureClassName(outcome.failure);
    if (c.result && !c.result->reason.empty() && !c.succeeded) {
      EXPECT_NE(outcome.reason.find(c.result->reason), std::string::npos) << outcome.reason;
    }
  }
  EXPECT_FALSE(IsRetryable(FailureClass::kVerdict));
  EXPECT_FALSE(IsRetryable(FailureClass::kConfiguration));
  EXPECT_TRUE(IsRetryable(FailureClass::kInfrastructure));
}

TEST(WorkerContract, SignalsStopsAndExecJobs) {
  ProcessEnd crashed;
  crashed.signal = 11;
  crashed.exit_code = 139;
  crashed.description = "killed by signal 11";
  EXPECT_EQ(DecideOutcome(crashed, std::nullopt, true).failure, FailureClass::kInfrastructure);
  ProcessEnd cancelled;
  cancelled.cancelled = true;
  cancelled.stop_reason = "cancelled";
  EXPECT_EQ(DecideOutcome(cancelled, Verdict(Verdict::kPass), true).failure, FailureClass::kCancelled);
  ProcessEnd timed_out;
  timed_out.timed_out = true;
  timed_out.stop_reason = "timed out after 5s";
  Outcome late = DecideOutcome(timed_out, std::nullopt, false);
  EXPECT_EQ(late.failure, FailureClass::kInfrastructure);
  EXPECT_EQ(late.reason, "timed out after 5s");
  ProcessEnd launch;
  launch.launch_failed = true;
  launch.stop_reason = "cannot run 'nope': No such file or directory";
  EXPECT_EQ(DecideOutcome(launch, std::nullopt, false).reason, launch.stop_reason);

  ProcessEnd exit1;
  exit1.exit_code = 1;
  exit1.description = "exit code 1";
  EXPECT_EQ(DecideOutcome(exit1, std::nullopt, /*worker=*/false).failure, FailureClass::kCommand)
      << "an exec command's codes are its own";
  ProcessEnd exit0;
  EXPECT_TRUE(DecideOutcome(exit0, std::nullopt, false).succeeded) << "exec jobs need no result.json";
  EXPECT_EQ(DecideOutcome(exit0, Verdict(Verdict::kFail, "slow"), false).failure, FailureClass::kVerdict);
}

TEST(WorkerContract, AFailingCommandsReasonCarriesItsLastOutput) {
  ProcessEnd exit2;
  exit2.exit_code = 2;
  exit2.description = "exit code 2";
  exit2.output_tail = "Traceback (most recent call last): | ModuleNotFoundError: No module named 'vllm'";
  EXPECT_EQ(DecideOutcome(exit2, std::nullopt, false).reason,
            "exit code 2; last output: Traceback (most recent call last): | ModuleNotFoundError: No module named 'vllm'");
  EXPECT_EQ(DecideOutcome(exit2, Verdict(Verdict::kFail, "numerics"), false).reason,
            "exit code 2; verdict fail: numerics")
      << "the command's own verdict says more than its output";
  ProcessEnd exit0;
  exit0.output_tail = "FAILED tests/test_model.py::test_logits";
  EXPECT_EQ(DecideOutcome(exit0, Verdict(Verdict::kFail, ""), false).reason,
            "verdict fail without a reason; last output: FAILED tests/test_model.py::test_logits");
}

TEST(Targets, UpperAndLowerBoundsAndMissingMetrics) {
  const nlohmann::json targets = {{"itl_ms", {{"max", 25}}}, {"tokens_per_s", {{"min", 100}}}};
  EXPECT_EQ(MissedTarget(targets, {{"itl_ms", 20}, {"tokens_per_s", 150}}), "");
  EXPECT_EQ(MissedTarget(targets, {{"itl_ms", 31.25}, {"tokens_per_s", 150}}), "itl_ms 31.25 is over the target 25");
  EXPECT_EQ(MissedTarget(targets, {{"itl_ms", 25}, {"tokens_per_s", 99.5}}), "tokens_per_s 99.5 is under the target 100");
  EXPECT_EQ(MissedTarget(targets, {{"itl_ms", 20}}),
            "tokens_per_s has a target of at least 100 but the result reports no tokens_per_s");
  EXPECT_EQ(MissedTarget(nlohmann::json::object(), {}), "");
}

TEST(WorkerContract, DeviceForRank) {
  EXPECT_EQ(DeviceForRank("2,3", 0), 2);
  EXPECT_EQ(DeviceForRank("2,3", 1), 3);
  EXPECT_EQ(DeviceForRank("2,3", 2), 2) << "past the list: the rank itself";
  EXPECT_EQ(DeviceForRank("", 1), 1);
  EXPECT_EQ(DeviceForRank("x,5", 0), 0) << "a malformed entry: the rank";
  EXPECT_EQ(DeviceForRank("7", 0), 7);
  EXPECT_EQ(GpuOrdinal(/*narrowed=*/true, 1, 3), 1) << "narrowed: the runtime counts from 0";
  EXPECT_EQ(GpuOrdinal(/*narrowed=*/false, 1, 3), 3);
}

TEST(Stages, OneListInPipelineOrder) {
  EXPECT_EQ(StageRank("reference"), 0);
  EXPECT_LT(StageRank("validate"), StageRank("benchmark"));
  EXPECT_LT(StageRank("benchmark"), StageRank("kernel"));
  EXPECT_LT(StageRank("kernel"), StageRank("job"));
  EXPECT_TRUE(IsLlmStage("compile"));
  EXPECT_FALSE(IsLlmStage("kernel"));
  EXPECT_EQ(StageList(), "reference, compile, run, validate or benchmark");
}

}  // namespace
}  // namespace gauntlet::contract
