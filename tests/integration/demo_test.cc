// `make demo` as a new user runs it: `gauntlet up`, a tiny model made on the
// spot, the seeds' workflow over dtype x TP x context, and the status matrix
// printed, all passing on this machine's CPUs.
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "tests/integration/farm.h"

namespace gauntlet::testing {
namespace {

TEST(DemoTest, MakeDemoRunsTheSeedsWorkflowOnATinyModelAndPrintsTheMatrix) {
  Farm farm("demo");  // For its folder; the demo starts its own farm.
  const std::string data = farm.dir() + "/data";
  CliResult demo = Farm::Run({"env", "DEMO_EXIT=1", "GAUNTLET_DATA=" + data, "GAUNTLET_GRPC=127.0.0.1:0",
                              "GAUNTLET_HTTP=127.0.0.1:0", std::string(GAUNTLET_SOURCE_DIR) + "/scripts/demo.sh",
                              Farm::BinDir()},
                             farm.dir() + "/demo.log");
  ASSERT_EQ(demo.exit_code, 0) << demo.output;
  // 1 reference (both contexts share its prompts) + 2 dtypes x 2 TP x 2
  // contexts x (compile, run, validate, benchmark).
  EXPECT_NE(demo.output.find("sweep 1 succeeded: succeeded=33"), std::string::npos) << demo.output;
  EXPECT_NE(demo.output.find("MODEL       DTYPE  TP  ATTENTION  compile@256  run@256  validate@256  benchmark@256  "
                             "compile@512"),
            std::string::npos)
      << demo.output;
  int rows = 0;
  std::istringstream lines(demo.output);
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with("tiny-llama")) continue;
    ++rows;
    EXPECT_EQ(line.find("FAIL"), std::string::npos) << line;
    std::istringstream cells(line);
    int passes = 0;
    for (std::string cell; cells >> cell;) passes += cell == "PASS";
    EXPECT_EQ(passes, 8) << "every stage at both contexts: " << line;
  }
  EXPECT_EQ(rows, 4) << "fp32 and bf16 at TP 1 and 2: " << demo.output;
  EXPECT_NE(demo.output.find("Board: http://127.0.0.1:"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(data + "/models/tiny-llama/config.json"));
}

}  // namespace
}  // namespace gauntlet::testing
