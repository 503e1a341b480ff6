// ASTRA-Sim's mnk CSV, the strategies' shards and communication sizes, and
// the workload file, against what gen_astrasim_workload_input.py computes.
#include <gtest/gtest.h>

#include "coordinator/expand/expand.h"
#include "coordinator/spec/parser.h"
#include "lib/gemm/mnk.h"
#include "lib/gemm/strategy.h"
#include "lib/gemm/workload.h"

namespace gauntlet::gemm {
namespace {

const char* kPlain = "Layer,m,n,k\nMLP_Bottom_0,512,128,256\nMLP_Bottom_1,512,64,128\nMLP_Top_0,512,256,128\n";
const char* kCustomized =
    "Layer,m,n,k,CustomizedParallelization\nMLP_Bottom_0,512,128,256,DATA\nMLP_Bottom_1,512,64,128,MODEL\n"
    "MLP_Top_0,512,256,128,HYBRID_DATA_MODEL\nMLP_Top_1,512,128,256,HYBRID_MODEL_DATA\n";

TEST(MnkCsvTest, ReadsBothFormsAndAStrategyOverridesTheColumn) {
  auto plain = ParseMnkCsv(kPlain, "example.csv", "DATA");
  ASSERT_TRUE(plain.has_value()) << plain.error().message();
  ASSERT_EQ(plain->size(), 3u);
  EXPECT_EQ((*plain)[0].name, "MLP_Bottom_0");
  EXPECT_EQ((*plain)[0].m, 512);
  EXPECT_EQ((*plain)[0].n, 128);
  EXPECT_EQ((*plain)[0].k, 256);
  EXPECT_EQ((*plain)[2].parallelism, "DATA");
  EXPECT_EQ((*plain)[2].line, 4);
  auto custom = ParseMnkCsv(kCustomized, "c.csv", "HYBRID_CUSTOMIZED");
  ASSERT_TRUE(custom.has_value()) << custom.error().message();
  EXPECT_EQ((*custom)[1].parallelism, "MODEL");
  EXPECT_EQ((*custom)[3].parallelism, "HYBRID_MODEL_DATA");
  // As the seed says: --parallel=DATA overrides a customized file's column.
  auto overridden = ParseMnkCsv(kCustomized, "c.csv", "DATA");
  ASSERT_TRUE(overridden.has_value());
  EXPECT_EQ((*overridden)[1].parallelism, "DATA");
}

TEST(MnkCsvTest, BadFilesAreRefusedWithTheLineAndField) {
  struct Case {
    std::string text, strategy, message;
  } cases[] = {
      {"Layer,m,k\nA,1,2\n", "DATA", "x.csv:1: header 'Layer,m,k' must be Layer,m,n,k or Layer,m,n,k,CustomizedParallelization"},
      {"Layer,m,n,k\nA,1,2\n", "DATA", "x.csv:2: missing field k; the line has 3 fields where the header has 4"},
      {"Layer,m,n,k\nA,1,0,2\n", "DATA", "x.csv:2: n: '0' must be a positive integer"},
      {"Layer,m,n,k\n\nA,1,2,x\n", "DATA", "x.csv:3: k: 'x' must be a positive integer"},
      {"Layer,m,n,k\nA,1,2,3\n", "HYBRID_CUSTOMIZED", "x.csv:1: parallel HYBRID_CUSTOMIZED needs each layer's strategy"},
      {"Layer,m,n,k,CustomizedParallelization\nA,1,2,3,HYBRD_DATA_MODEL\n", "HYBRID_CUSTOMIZED",
       "x.csv:2: CustomizedParallelization: 'HYBRD_DATA_MODEL' is not a strategy; use DATA, MODEL, HYBRID_DATA_MODEL or "
       "HYBRID_MODEL_DATA"},
      {"Layer,m,n,k\nA,1,2,3\n", "PIPELINE", "parallel: 'PIPELINE' is not a strategy"},
      {"", "DATA", "x.csv: empty"},
      {"Layer,m,n,k\n", "DATA", "x.csv: has a header but no layers"},
  };
  for (const auto& c : cases) {
    auto parsed = ParseMnkCsv(c.text, "x.csv", c.strategy);
    ASSERT_FALSE(parsed.has_value()) << c.message;
    EXPECT_NE(parsed.error().message().find(c.message), std::string::npos) << parsed.error().message();
  }
}

GemmLayer Layer(const std::string& strategy) { return {"L", 512, 128, 256, strategy, 2}; }

// The generator's formulas (m, n, k = 512, 128, 256; 8 NPUs in 2 packages;
// 2-byte data), worked by hand.
TEST(StrategyTest, ShardsAndSizesAreTheGenerators) {
  auto data = PlanLayer(Layer("DATA"), 8, 2, 2);
  ASSERT_TRUE(data.has_value());
  EXPECT_EQ(data->forward.rows, 64);  // m / 8
  EXPECT_EQ(data->forward.cols, 128);
  EXPECT_EQ(data->forward.collective, Collective::kNone);
  EXPECT_EQ(data->weight_grad.collective, Collective::kAllReduce);
  EXPECT_EQ(data->weight_grad.group, Group::kData);
  EXPECT_EQ(data->weight_grad.bytes, 128 * 256 * 2);
  EXPECT_EQ(data->weight_grad.rows, 256);   // k
  EXPECT_EQ(data->weight_grad.inner, 64);   // m / 8

  auto model = PlanLayer(Layer("MODEL"), 8, 2, 2);
  ASSERT_TRUE(model.has_value());
  EXPECT_EQ(model->forward.cols, 16);  // n / 8
  EXPECT_EQ(model->forward.bytes, 512 * 128 * 2 / 8);
  EXPECT_EQ(model->input_grad.collective, Collective::kReduceScatter);
  EXPECT_EQ(model->input_grad.bytes, 512 * 256 * 2);
  EXPECT_EQ(model->input_grad.inner, 16);
  EXPECT_EQ(model->weight_grad.collective, Collective::kNone);

  auto data_model = PlanLayer(Layer("HYBRID_DATA_MODEL"), 8, 2, 2);
  ASSERT_TRUE(data_model.has_value());
  EXPECT_EQ(data_model->data_ways, 2);
  EXPECT_EQ(data_model->model_ways, 4);
  EXPECT_EQ(data_model->forward.rows, 256);  // m / packages
  EXPECT_EQ(data_model->forward.cols, 32);   // n / per package
  EXPECT_EQ(data_model->forward.bytes, 512 * 128 * 2 / 8);
  EXPECT_EQ(data_model->input_grad.bytes, 512 * 256 * 2 / 2);
  EXPECT_EQ(data_model->weight_grad.bytes, 256 * 128 * 2 / 4);

  auto model_data = PlanLayer(Layer("HYBRID_MODEL_DATA"), 8, 2, 2);
  ASSERT_TRUE(model_data.has_value());
  EXPECT_EQ(model_data->data_ways, 4);
  EXPECT_EQ(model_data->model_ways, 2);
  EXPECT_EQ(model_data->forward.rows, 128);  // m / per package
  EXPECT_EQ(model_data->forward.cols, 64);   // n / packages
  EXPECT_EQ(model_data->input_grad.bytes, 512 * 256 * 2 / 4);
  EXPECT_EQ(model_data->weight_grad.bytes, 128 * 256 * 2 / 2);

  // Places: package-major ranks; the hybrid's groups.
  EXPECT_EQ(PlaceOf("HYBRID_DATA_MODEL", 5, 8, 2).data_shard, 1);
  EXPECT_EQ(PlaceOf("HYBRID_DATA_MODEL", 5, 8, 2).model_shard, 1);
  EXPECT_EQ(PlaceOf("HYBRID_MODEL_DATA", 5, 8, 2).data_shard, 1);
  EXPECT_EQ(PlaceOf("HYBRID_MODEL_DATA", 5, 8, 2).model_shard, 1);
  EXPECT_EQ(PlaceOf("HYBRID_MODEL_DATA", 2, 8, 2).model_shard, 0);
  EXPECT_EQ(PlaceOf("HYBRID_MODEL_DATA", 2, 8, 2).data_shard, 2);
}

TEST(StrategyTest, AShardThatDoesNotDivideIsRefusedNamingTheLayer) {
  auto odd = PlanLayer({"Embedding", 1000, 128, 64, "DATA", 7}, 16, 2, 2);
  ASSERT_FALSE(odd.has_value());
  EXPECT_EQ(odd.error().message(),
            "layer Embedding (line 7): m = 1000 does not split 16 ways (data parallel under DATA on 16 NPUs in 2 "
            "packages); choose sizes that divide, as real shards must");
  EXPECT_FALSE(PlanLayer(Layer("DATA"), 6, 4, 2).has_value()) << "6 NPUs do not fill 4 packages";
}

TEST(StrategyTest, BusBandwidthFollowsNcclTests) {
  // 1 GB all-reduced over 4 ranks in 1 s: 2·3/4 of 1 GB/s on every link.
  EXPECT_DOUBLE_EQ(BusBandwidthGbps(Collective::kAllReduce, 1'000'000'000, 4, 1.0), 1.5);
  // Gathering 250 MB from each of 4 ranks: 1 GB gathered, 3/4 of it moved.
  EXPECT_DOUBLE_EQ(BusBandwidthGbps(Collective::kAllGather, 250'000'000, 4, 1.0), 0.75);
  EXPECT_DOUBLE_EQ(BusBandwidthGbps(Collective::kReduceScatter, 1'000'000'000, 4, 1.0), 0.75);
  EXPECT_EQ(BusBandwidthGbps(Collective::kAllReduce, 1000, 1, 1.0), 0) << "one rank moves nothing";
}

TEST(WorkloadTest, TheFileIsTheGeneratorsLayoutWithMeasuredCycles) {
  auto layers = ParseMnkCsv(kCustomized, "c.csv", "HYBRID_CUSTOMIZED");
  ASSERT_TRUE(layers.has_value());
  std::vector<LayerPlan> plans;
  std::vector<PassCycles> cycles;
  for (const auto& layer : *layers) {
    plans.push_back(*PlanLayer(layer, 8, 2, 2));
    cycles.push_back({1000, 2000, 3000});
  }
  EXPECT_EQ(WorkloadFile("HYBRID_CUSTOMIZED", *layers, plans, cycles),
            "HYBRID_CUSTOMIZED\n4\n"
            "MLP_Bottom_0\t-1\t1000\tNONE\t0\t2000\tNONE\t0\t3000\tALLREDUCE\t65536\t100\tDATA\n"
            "MLP_Bottom_1\t-1\t1000\tALLGATHER\t8192\t2000\tREDUCESCATTER\t131072\t3000\tNONE\t0\t100\tMODEL\n"
            "MLP_Top_0\t-1\t1000\tALLGATHER\t32768\t2000\tREDUCESCATTER\t65536\t3000\tALLREDUCE\t16384\t100\tHYBRID_DATA_MODEL\n"
            "MLP_Top_1\t-1\t1000\tALLGATHER\t16384\t2000\tREDUCESCATTER\t65536\t3000\tALLREDUCE\t32768\t100\tHYBRID_MODEL_DATA");
  EXPECT_EQ(Cycles(1.5, 1.0), 1'500'000);
  EXPECT_EQ(Cycles(0.001, 1.41), 1410);
}

// The kernels: entry at submit: the CSV inlined, devices from num_npus, and
// a combination that cannot shard refused before anything is stored.
TEST(GemmKernelSpecTest, TheCsvTravelsInTheParamsAndNpusBecomeDevices) {
  const std::map<std::string, std::string> files = {{"mnk/example.csv", kPlain}};
  auto spec = spec::ParseSweepSpec(
      "name: g\nkernels:\n  - suite: gemm\n    params: {mnk: mnk/example.csv, parallel: [DATA, MODEL], num_npus: [4, 8], "
      "num_packages: 2}\n",
      "g.yaml", files);
  ASSERT_TRUE(spec.has_value()) << spec.error().message();
  auto plan = expand::Expand(*spec);
  ASSERT_TRUE(plan.has_value());
  ASSERT_EQ(plan->jobs.size(), 4u);
  EXPECT_EQ(plan->jobs[0].name, "kernel-gemm[parallel=DATA,num_npus=4]");
  EXPECT_EQ(plan->jobs[0].devices, 4);
  EXPECT_EQ(plan->jobs[1].devices, 8);
  EXPECT_EQ(plan->jobs[0].labels.at("model"), "example");
  EXPECT_EQ(plan->jobs[0].spec()["params"]["mnk_csv"], kPlain);

  struct Case {
    std::string params, message;
  } cases[] = {
      {"{mnk: mnk/missing.csv, parallel: DATA, num_npus: 4}",
       "g.yaml:4:19: kernels[0].params.mnk: 'mnk/missing.csv' was not sent with the spec"},
      {"{mnk: mnk/example.csv, parallel: [DATA, PIPELINE], num_npus: 4}",
       "kernels[0].params.parallel: 'PIPELINE' is not a strategy"},
      {"{mnk: mnk/example.csv, parallel: DATA, num_npus: [4, 6], num_packages: 4}",
       "kernels[0].params: parallel DATA, num_npus 6, num_packages 4: num_npus 6 must be a multiple of num_packages 4"},
      {"{mnk: mnk/example.csv, parallel: MODEL, num_npus: 3}",
       "parallel MODEL, num_npus 3, num_packages 1: layer MLP_Bottom_0 (line 2): n = 128 does not split 3 ways"},
      {"{mnk: mnk/example.csv, parallel: HYBRID_CUSTOMIZED, num_npus: 4}",
       "mnk/example.csv:1: parallel HYBRID_CUSTOMIZED needs each layer's strategy"},
      {"{mnk: mnk/example.csv, parallel: DATA, num_npus: 4, datatype_size: 3}", "'3' must be 1, 2, 4 or 8 bytes"},
      {"{mnk: mnk/example.csv, parallel: DATA}", "kernels[0].params.num_npus: missing"},
  };
  for (const auto& c : cases) {
    auto bad = spec::ParseSweepSpec("name: g\nkernels:\n  - suite: gemm\n    params: " + c.params + "\n", "g.yaml", files);
    ASSERT_FALSE(bad.has_value()) << c.message;
    EXPECT_NE(bad.error().message().find(c.message), std::string::npos) << bad.error().message();
  }
  auto devices = spec::ParseSweepSpec(
      "name: g\nkernels:\n  - {suite: gemm, devices: 2, params: {mnk: mnk/example.csv, parallel: DATA, num_npus: 4}}\n",
      "g.yaml", files);
  ASSERT_FALSE(devices.has_value());
  EXPECT_NE(devices.error().message().find("a gemm job takes num_npus devices"), std::string::npos);
}

}  // namespace
}  // namespace gauntlet::gemm
