// The GEMM strategies of seed 002 on a real farm: the example sweep (every
// strategy on 4 and 8 ranks in 1 and 2 packages, and the customized file)
// passes its check against the unsharded GEMM, writes ASTRA-Sim's workload
// file with the generator's sizes, and a sharding fault fails the check.
#include <filesystem>
#include <fstream>
#include <regex>

#include <gtest/gtest.h>
#include <httplib.h>

#include "tests/integration/farm.h"

namespace gauntlet::testing {
namespace {

std::string Artifact(Farm& farm, const v1::Job& job, const std::string& name) {
  const std::string out = farm.dir() + "/" + std::to_string(job.id()) + "-" + name;
  CliResult fetched = farm.Cli({"artifacts", std::to_string(job.id()), name, "--out", out});
  EXPECT_EQ(fetched.exit_code, 0) << fetched.output;
  return ReadFile(out);
}

TEST(GemmStrategiesTest, EveryStrategyMatchesTheUnshardedGemmAndWritesTheWorkloadFile) {
  Farm farm("gemm-strategies");
  farm.StartCoordinator("5s");
  farm.StartAgent("node-a", "cpu:8");
  CliResult submitted = farm.Cli({"submit", "--wait", GAUNTLET_SOURCE_DIR "/examples/sweeps/gemm-strategies.yaml"});
  EXPECT_EQ(submitted.exit_code, 0) << submitted.output;
  std::map<std::string, v1::Job> jobs;
  for (const auto& listed : farm.Jobs(1)) jobs[listed.name()] = farm.Job(listed.id());
  ASSERT_EQ(jobs.size(), 17u) << "4 strategies × 2 NPU counts × 2 package splits, and the customized file";
  for (const auto& [name, job] : jobs) {
    EXPECT_EQ(job.state(), v1::JOB_STATE_SUCCEEDED) << name << ": " << job.reason();
    EXPECT_GT(job.metrics().at("compute_ms"), 0) << name;
  }

  // gen_astrasim_workload_input.py's layout; every size is its formula's
  // (m, n, k from the CSV; 8 NPUs in 2 packages; 2 bytes), worked by hand.
  const v1::Job& hybrid = jobs.at("kernel-gemm[parallel=HYBRID_DATA_MODEL,num_npus=8,num_packages=2]");
  EXPECT_EQ(hybrid.device_indices_size(), 8);
  const std::string workload = Artifact(farm, hybrid, "workload_HYBRID_DATA_MODEL.txt");
  const std::regex expected(
      "HYBRID_DATA_MODEL\n3\n"
      "MLP_Bottom_0\t-1\t\\d+\tALLGATHER\t16384\t\\d+\tREDUCESCATTER\t131072\t\\d+\tALLREDUCE\t16384\t100\tHYBRID_DATA_MODEL\n"
      "MLP_Bottom_1\t-1\t\\d+\tALLGATHER\t8192\t\\d+\tREDUCESCATTER\t65536\t\\d+\tALLREDUCE\t4096\t100\tHYBRID_DATA_MODEL\n"
      "MLP_Top_0\t-1\t\\d+\tALLGATHER\t32768\t\\d+\tREDUCESCATTER\t65536\t\\d+\tALLREDUCE\t16384\t100\tHYBRID_DATA_MODEL");
  EXPECT_TRUE(std::regex_match(workload, expected)) << workload;

  const std::string model = Artifact(farm, jobs.at("kernel-gemm[parallel=MODEL,num_npus=8,num_packages=2]"),
                                     "workload_MODEL.txt");
  EXPECT_TRUE(std::regex_match(model, std::regex(
      "MODEL\n3\n"
      "MLP_Bottom_0\t-1\t\\d+\tALLGATHER\t16384\t\\d+\tREDUCESCATTER\t262144\t\\d+\tNONE\t0\t100\tMODEL\n"
      "MLP_Bottom_1\t-1\t\\d+\tALLGATHER\t8192\t\\d+\tREDUCESCATTER\t131072\t\\d+\tNONE\t0\t100\tMODEL\n"
      "MLP_Top_0\t-1\t\\d+\tALLGATHER\t32768\t\\d+\tREDUCESCATTER\t131072\t\\d+\tNONE\t0\t100\tMODEL")))
      << model;

  const v1::Job& custom = jobs.at("gemm-customized");
  const std::string customized = Artifact(farm, custom, "workload_HYBRID_CUSTOMIZED.txt");
  EXPECT_TRUE(std::regex_match(customized, std::regex(
      "HYBRID_CUSTOMIZED\n4\n"
      "MLP_Bottom_0\t-1\t\\d+\tNONE\t0\t\\d+\tNONE\t0\t\\d+\tALLREDUCE\t65536\t100\tDATA\n"
      "MLP_Bottom_1\t-1\t\\d+\tALLGATHER\t8192\t\\d+\tREDUCESCATTER\t131072\t\\d+\tNONE\t0\t100\tMODEL\n"
      "MLP_Top_0\t-1\t\\d+\tALLGATHER\t32768\t\\d+\tREDUCESCATTER\t65536\t\\d+\tALLREDUCE\t16384\t100\tHYBRID_DATA_MODEL\n"
      "MLP_Top_1\t-1\t\\d+\tALLGATHER\t16384\t\\d+\tREDUCESCATTER\t65536\t\\d+\tALLREDUCE\t32768\t100\tHYBRID_MODEL_DATA")))
      << customized;
  // Every measurement, with the bytes each collective moved.
  const std::string csv = Artifact(farm, custom, "measurements.csv");
  EXPECT_NE(csv.find("MLP_Top_1,weight_grad,HYBRID_MODEL_DATA,256,128,64,"), std::string::npos) << csv;
  EXPECT_NE(csv.find(",ALLREDUCE,4,32768,"), std::string::npos) << "within a package of 4: " << csv;
  EXPECT_GT(custom.metrics().at("MLP_Top_0.input_grad.comm_ms"), 0);
  // The board's job page shows the split per layer and pass.
  httplib::Client http("127.0.0.1", farm.http_port());
  auto page = http.Get("/jobs/" + std::to_string(custom.id()));
  ASSERT_TRUE(page);
  EXPECT_NE(page->body.find("id=gemm-split"), std::string::npos);
  EXPECT_NE(page->body.find("<td>MLP_Top_1</td><td>weight_grad</td>"), std::string::npos);
  EXPECT_GE(custom.metrics().at("MLP_Top_0.input_grad.busbw_gbps"), 0);
}

TEST(GemmStrategiesTest, AShardingFaultFailsTheCheckAgainstTheUnshardedGemm) {
  Farm farm("gemm-fault");
  const std::string mnk = farm.dir() + "/mnk.csv";
  std::ofstream(mnk) << "Layer,m,n,k\nFc,64,32,16\n";
  farm.StartCoordinator();
  farm.StartAgent("node-a", "cpu:4");
  const std::string spec = farm.dir() + "/fault.yaml";
  std::ofstream(spec) << "name: fault\nkernels:\n  - suite: gemm\n    params: {mnk: mnk.csv, parallel: [MODEL, DATA], "
                         "num_npus: 4, fault: shard, repeats: 1}\n";
  CliResult submitted = farm.Cli({"submit", "--wait", spec});
  EXPECT_NE(submitted.exit_code, 0) << submitted.output;
  for (const auto& listed : farm.Jobs(1)) {
    const v1::Job job = farm.Job(listed.id());
    EXPECT_EQ(job.state(), v1::JOB_STATE_FAILED) << job.name();
    EXPECT_EQ(job.verdict(), "fail");
    EXPECT_NE(job.reason().find("the sharded result differs from the unsharded GEMM"), std::string::npos) << job.reason();
  }
}

}  // namespace
}  // namespace gauntlet::testing
