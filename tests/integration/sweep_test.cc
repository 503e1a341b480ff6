// A real coordinator and two real agents run a DAG of 20+ jobs, worker jobs
// under mpirun among them, and respect its order.
#include <cstdlib>
#include <map>

#include <gtest/gtest.h>

#include "agent/inventory.h"
#include "tests/integration/farm.h"

namespace gauntlet::testing {
namespace {

constexpr const char* kDag = R"(
name: dag
defaults: {max_attempts: 2, timeout: 60s}
jobs:
  - name: fetch
    kind: exec
    command: "echo fetching; echo '{\"verdict\":\"pass\",\"metrics\":{\"bytes\":42}}' > $GAUNTLET_OUT/result.json"
  - name: compile
    kind: exec
    depends_on: fetch
    matrix: {model: [llama, granite, mixtral, phi], dtype: [fp16, bf16]}
    command: "echo compile ${model} ${dtype} on $GAUNTLET_DEVICES"
  - name: run
    kind: worker
    suite: selftest
    depends_on: compile
    matrix: {model: [llama, granite, mixtral, phi], dtype: [fp16, bf16]}
    params: {n: 10000}
  - name: tp2
    kind: worker
    suite: selftest
    devices: 2
    depends_on: fetch
    matrix: {seed: [1, 2]}
    params: {n: 200000}
  - name: report
    kind: exec
    depends_on: [run, tp2, fetch]
    command: "grep -q bytes $GAUNTLET_INPUTS/fetch/result.json && echo all done"
)";

TEST(SweepTest, DagOfTwentyJobsCompletesAcrossTwoAgentsInOrder) {
  // 1 fetch + 8 compiles + 8 worker runs + 2 two-device worker jobs + 1 report.
  Farm farm("dag");
  farm.StartCoordinator();
  farm.StartAgent("node-a", "cpu:2");
  farm.StartAgent("node-b", "cpu:2");
  int64_t sweep_id = farm.Submit(kDag);
  v1::Sweep sweep = farm.WaitForSweep(sweep_id, std::chrono::seconds(120));
  ASSERT_TRUE(sweep.succeeded()) << sweep.ShortDebugString();
  EXPECT_EQ(sweep.total_jobs(), 1 + 8 + 8 + 2 + 1);

  std::map<int64_t, v1::Job> jobs;
  std::set<std::string> agents_used;
  for (const auto& listed : farm.Jobs(sweep_id)) jobs[listed.id()] = farm.Job(listed.id());
  for (const auto& [id, job] : jobs) {
    EXPECT_EQ(job.state(), v1::JOB_STATE_SUCCEEDED) << job.name();
    ASSERT_GE(job.attempts_size(), 1);
    const auto& attempt = job.attempts(job.attempts_size() - 1);
    agents_used.insert(attempt.agent());
    EXPECT_EQ(attempt.device_indices_size(), job.devices()) << job.name();
    for (int64_t upstream : job.depends_on()) {
      const auto& before = jobs[upstream].attempts(jobs[upstream].attempts_size() - 1);
      EXPECT_LE(before.finished_at_ms(), attempt.leased_at_ms())
          << job.name() << " started before " << jobs[upstream].name() << " finished";
    }
  }
  EXPECT_EQ(agents_used.size(), 2u) << "both agents should take work";
  // The worker's result reached the coordinator with its metrics and artifacts.
  auto named = [&](const std::string& name) -> const v1::Job& {
    for (const auto& [id, job] : jobs) {
      if (job.name() == name) return job;
    }
    ADD_FAILURE() << "no job " << name;
    return jobs.begin()->second;
  };
  const v1::Job& tp2 = named("tp2[seed=1]");
  EXPECT_EQ(tp2.verdict(), "pass");
  EXPECT_EQ(tp2.metrics().at("ranks"), 2);
  EXPECT_EQ(tp2.metrics().at("elements"), 400000);
  std::set<std::string> artifact_names;
  for (const auto& ref : tp2.artifacts()) artifact_names.insert(ref.name());
  EXPECT_TRUE(artifact_names.contains("result.json"));
  EXPECT_TRUE(artifact_names.contains("sums.json"));
  EXPECT_EQ(named("fetch").metrics().at("bytes"), 42);
  EXPECT_EQ(named("report").depends_on_size(), 8 + 2 + 1) << "every run, both tp2 jobs and fetch";

  // The CLI reads the same results.
  CliResult results = farm.Cli({"results", std::to_string(sweep_id)});
  EXPECT_EQ(results.exit_code, 0) << results.output;
  EXPECT_NE(results.output.find("run[model=granite,dtype=bf16]"), std::string::npos) << results.output;
  CliResult logs = farm.Cli({"logs", "1"});
  EXPECT_NE(logs.output.find("fetching"), std::string::npos) << logs.output;
}

// Each job reports the OMP_NUM_THREADS it was started with.
constexpr const char* kThreads = R"(
name: threads
defaults: {timeout: 60s}
jobs:
  - name: one
    kind: exec
    command: "echo '{\"verdict\":\"pass\",\"metrics\":{\"threads\":'$OMP_NUM_THREADS'}}' > $GAUNTLET_OUT/result.json"
  - name: two
    kind: exec
    devices: 2
    command: "echo '{\"verdict\":\"pass\",\"metrics\":{\"threads\":'$OMP_NUM_THREADS'}}' > $GAUNTLET_OUT/result.json"
  - name: pinned
    kind: exec
    env: {OMP_NUM_THREADS: "7"}
    command: "echo '{\"verdict\":\"pass\",\"metrics\":{\"threads\":'$OMP_NUM_THREADS'}}' > $GAUNTLET_OUT/result.json"
)";

std::map<std::string, double> ThreadsByJob(Farm& farm) {
  const int64_t sweep_id = farm.Submit(kThreads);
  const v1::Sweep sweep = farm.WaitForSweep(sweep_id);
  EXPECT_TRUE(sweep.succeeded()) << sweep.ShortDebugString();
  std::map<std::string, double> threads;
  for (const auto& listed : farm.Jobs(sweep_id)) {
    const v1::Job job = farm.Job(listed.id());
    threads[job.name()] = job.metrics().contains("threads") ? job.metrics().at("threads") : -1;
  }
  return threads;
}

// Jobs sharing a node split its cores rather than each starting a thread per
// core: a job gets its devices' share, and its own env still wins.
TEST(SweepTest, JobsGetTheirDevicesShareOfCpuThreads) {
  Farm farm("threads");
  farm.StartCoordinator();
  farm.StartAgent("node-a", "cpu:4", {"--threads-per-device", "3"});
  const std::map<std::string, double> expected = {{"one", 3}, {"two", 6}, {"pinned", 7}};
  EXPECT_EQ(ThreadsByJob(farm), expected);
}

TEST(SweepTest, ByDefaultADeviceGetsTheNodesCoresOverItsDevices) {
  Farm farm("threads-default");
  farm.StartCoordinator();
  farm.StartAgent("node-a", "cpu:2");
  // An agent started with OMP_NUM_THREADS leaves it to the jobs.
  const char* inherited = std::getenv("OMP_NUM_THREADS");
  const double share = inherited ? std::atoi(inherited) : agent::ThreadsPerDevice(agent::UsableCores(), 2);
  const auto threads = ThreadsByJob(farm);
  EXPECT_EQ(threads.at("one"), share);
  EXPECT_EQ(threads.at("two"), inherited ? share : 2 * share);
  EXPECT_EQ(threads.at("pinned"), 7);
}

// `retry --sweep N --failed` runs a sweep's failed jobs again in one step,
// and the job skipped behind one runs once it passes.
TEST(SweepTest, RetryingASweepsFailedJobsRunsThemAndWhatWaitedOnThem) {
  Farm farm("retry-sweep");
  farm.StartCoordinator();
  farm.StartAgent("node-a", "cpu:2");
  const std::string mark = farm.dir() + "/failed-once";
  const int64_t sweep_id = farm.Submit("name: flaky\ndefaults: {max_attempts: 1}\njobs:\n"
                                       "  - {name: once, kind: exec, command: \"test -e " + mark + " || { touch " +
                                       mark + "; exit 3; }\"}\n"
                                       "  - {name: after, kind: exec, depends_on: once, command: \"echo after\"}\n"
                                       "  - {name: fine, kind: exec, command: \"true\"}\n");
  v1::Sweep first = farm.WaitForSweep(sweep_id);
  ASSERT_TRUE(first.finished() && !first.succeeded()) << first.ShortDebugString();
  std::map<std::string, v1::Job> jobs;
  for (const auto& listed : farm.Jobs(sweep_id)) jobs[listed.name()] = farm.Job(listed.id());
  ASSERT_EQ(jobs.at("once").state(), v1::JOB_STATE_FAILED);
  ASSERT_EQ(jobs.at("after").state(), v1::JOB_STATE_SKIPPED);

  CliResult retried = farm.Cli({"retry", "--sweep", std::to_string(sweep_id), "--failed"});
  ASSERT_EQ(retried.exit_code, 0) << retried.output;
  EXPECT_NE(retried.output.find("retried 1 failed jobs of sweep " + std::to_string(sweep_id) + ": " +
                                std::to_string(jobs.at("once").id())),
            std::string::npos)
      << retried.output;
  v1::Sweep second = farm.WaitForSweep(sweep_id);
  EXPECT_TRUE(second.succeeded()) << second.ShortDebugString();
  EXPECT_EQ(farm.Job(jobs.at("after").id()).state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(farm.Job(jobs.at("fine").id()).attempts_size(), 1) << "a job that passed is not run again";

  CliResult again = farm.Cli({"retry", "--sweep", std::to_string(sweep_id), "--failed"});
  EXPECT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("nothing to retry"), std::string::npos) << again.output;
  CliResult missing = farm.Cli({"retry", "--sweep", "999", "--failed"});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.output.find("no sweep 999"), std::string::npos) << missing.output;
  CliResult bare = farm.Cli({"retry", "--sweep", std::to_string(sweep_id)});
  EXPECT_EQ(bare.exit_code, 2) << "--sweep needs --failed: " << bare.output;
}

// A spec's retry rules: exit 75 (EX_TEMPFAIL) is retried twice beyond
// max_attempts 1, and a command rule with limit 0 fails at once despite
// max_attempts 3, saying which rule decided.
TEST(SweepTest, RetryRulesDecideWhichFailuresRunAgain) {
  Farm farm("retry-rules");
  farm.StartCoordinator();
  farm.StartAgent("node-a", "cpu:2");
  const std::string count = farm.dir() + "/tries";
  const int64_t sweep_id = farm.Submit(
      "name: rules\ndefaults: {max_attempts: 1, retry: [{exit_code: 75, limit: 2}]}\njobs:\n"
      "  - {name: tempfail, kind: exec, command: \"echo x >> " + count + "; test $(wc -l < " + count +
      ") -ge 3 || exit 75\"}\n"
      "  - {name: never, kind: exec, max_attempts: 3, retry: [{class: command, limit: 0}], command: \"exit 1\"}\n");
  v1::Sweep sweep = farm.WaitForSweep(sweep_id);
  ASSERT_TRUE(sweep.finished()) << sweep.ShortDebugString();
  std::map<std::string, v1::Job> jobs;
  for (const auto& listed : farm.Jobs(sweep_id)) jobs[listed.name()] = farm.Job(listed.id());
  EXPECT_EQ(jobs.at("tempfail").state(), v1::JOB_STATE_SUCCEEDED) << jobs.at("tempfail").reason();
  EXPECT_EQ(jobs.at("tempfail").attempts_size(), 3);
  EXPECT_EQ(jobs.at("never").state(), v1::JOB_STATE_FAILED);
  EXPECT_EQ(jobs.at("never").attempts_size(), 1);
  EXPECT_NE(jobs.at("never").reason().find("by retry rule {class: command, limit: 0}"), std::string::npos)
      << jobs.at("never").reason();
}

}  // namespace
}  // namespace gauntlet::testing
