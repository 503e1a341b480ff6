// The bad-input corpus (tests/bad_input/, written by make_corpus.py): every
// file submitted through the real CLI to a real coordinator with a real agent
// is refused with exit code 2 and a one-line message naming the field, stores
// nothing, and leaves the coordinator answering /healthz within a second.
// Also: paging a 100k-job sweep, and the agent-name character set end to end.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include <grpcpp/grpcpp.h>

#include "tests/integration/farm.h"

namespace gauntlet::testing {
namespace {

struct CorpusCase {
  std::string file;
  std::string expect;
};

std::vector<CorpusCase> ReadManifest() {
  std::ifstream in(std::string(GAUNTLET_SOURCE_DIR) + "/tests/bad_input/MANIFEST.tsv");
  std::vector<CorpusCase> cases;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    size_t tab = line.find('\t');
    if (tab == std::string::npos) continue;
    cases.push_back({line.substr(0, tab), line.substr(tab + 1)});
  }
  return cases;
}

bool Healthy(const Farm& farm) {
  CliResult health = Farm::Run({"curl", "-s", "--max-time", "1",
                                "http://127.0.0.1:" + std::to_string(farm.http_port()) + "/healthz"},
                               farm.dir() + "/healthz.log");
  return health.exit_code == 0 && health.output == "ok\n";
}

class BadInputCorpusTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    farm_ = new Farm("bad-input-corpus");
    farm_->StartCoordinator();
    farm_->StartAgent("small", "cpu:2");
    // The agent reports its worker's suites at Register: wait for it, so the
    // unknown-suite cases have something to be checked against.
    ASSERT_TRUE(Farm::WaitUntil([] { return farm_->Cli({"agents"}).output.find("small") != std::string::npos; }));
  }
  static void TearDownTestSuite() { delete farm_; }
  static Farm* farm_;
};

Farm* BadInputCorpusTest::farm_ = nullptr;

TEST_F(BadInputCorpusTest, EveryFileIsRefusedClearlyStoresNothingAndLeavesTheCoordinatorHealthy) {
  const std::vector<CorpusCase> cases = ReadManifest();
  ASSERT_GE(cases.size(), 100u) << "the corpus has at least 100 files";
  const std::string corpus = std::string(GAUNTLET_SOURCE_DIR) + "/tests/bad_input/corpus/";
  for (const auto& c : cases) {
    CliResult result = farm_->Cli({"submit", corpus + c.file});
    EXPECT_EQ(result.exit_code, 2) << c.file << ": " << result.output;
    EXPECT_NE(result.output.find(c.expect), std::string::npos) << c.file << ": expected '" << c.expect << "' in "
                                                               << result.output;
    EXPECT_EQ(result.output.rfind("error: ", 0), 0u) << c.file << ": " << result.output;
    EXPECT_EQ(result.output.find('\n'), result.output.size() - 1) << c.file << ": one line: " << result.output;
    EXPECT_TRUE(Healthy(*farm_)) << "after " << c.file;
  }
  CliResult status = farm_->Cli({"--json", "status"});
  EXPECT_EQ(status.exit_code, 0);
  EXPECT_EQ(status.output.find("\"id\""), std::string::npos) << "nothing stored: " << status.output;
}

TEST_F(BadInputCorpusTest, ASpecOverTheSizeLimitIsRefusedBeforeParsing) {
  // Generated here rather than checked in: 5 MB of one valid spec.
  std::string path = farm_->dir() + "/huge.yaml";
  {
    std::ofstream out(path);
    out << "name: huge\njobs:\n";
    for (int i = 0; out.tellp() < 5 * 1024 * 1024; ++i) out << "  - {name: j" << i << ", kind: exec, command: x}\n";
  }
  CliResult result = farm_->Cli({"submit", path});
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_NE(result.output.find("huge.yaml: the spec is "), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("over the limit of 4194304 (raise it with gauntlet-coordinator --max-spec-bytes)"),
            std::string::npos)
      << result.output;
  EXPECT_TRUE(Healthy(*farm_));
}

TEST_F(BadInputCorpusTest, AgentNamesUseTheDocumentedCharacterSet) {
  // Every allowed character, 63 bytes: registers and shows on every view.
  const std::string name = "a0Z9_.-bcdefghijklmnopqrstuvwxyABCDEFGHIJKLMNOPQRSTUVWXY1234567";
  ASSERT_EQ(name.size(), 63u);
  farm_->StartAgent(name, "cpu:1");
  ASSERT_TRUE(Farm::WaitUntil([&] { return farm_->Cli({"agents"}).output.find(name) != std::string::npos; }));
  for (const char* page : {"/agents", "/jobs", "/sweeps", "/api/v1/sweeps"}) {
    CliResult get = Farm::Run({"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                               "http://127.0.0.1:" + std::to_string(farm_->http_port()) + page},
                              farm_->dir() + "/page.log");
    EXPECT_EQ(get.output, "200") << page;
  }
  // A name with a space is refused by the agent's own flags...
  CliResult agent = Farm::Run({Farm::BinDir() + "/gauntlet-agent", "--coordinator", farm_->address(), "--name",
                               "evil node", "--devices", "cpu:1"},
                              farm_->dir() + "/evil-agent.log");
  EXPECT_EQ(agent.exit_code, 2);
  EXPECT_NE(agent.output.find("--name: 'evil node' contains ' '"), std::string::npos) << agent.output;
  // ...and by the coordinator, for a client that skips them.
  auto stub = v1::AgentService::NewStub(grpc::CreateChannel(farm_->address(), grpc::InsecureChannelCredentials()));
  for (const std::string& bad : std::vector<std::string>{"evil node", "a/b", "", "-x", std::string(64, 'n')}) {
    v1::RegisterRequest request;
    request.set_name(bad);
    v1::RegisterResponse reply;
    grpc::ClientContext context;
    grpc::Status status = stub->Register(&context, request, &reply);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << "'" << bad << "'";
    EXPECT_NE(status.error_message().find("register: agent name"), std::string::npos) << status.error_message();
  }
  v1::RegisterRequest tagged;
  tagged.set_name("tagged");
  tagged.add_tags("gpu node");
  v1::RegisterResponse reply;
  grpc::ClientContext context;
  EXPECT_EQ(stub->Register(&context, tagged, &reply).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(farm_->Cli({"agents"}).output.find("evil"), std::string::npos) << "nothing of the refused agents stored";
}

// No agent: 100,000 ready jobs that stay put, listed and dry-run page by page.
TEST(PagedListsTest, AHundredThousandJobSweepIsListedAndDryRunInPages) {
  Farm farm("paged-lists");
  farm.StartCoordinator();
  const std::string spec =
      "name: wide\njobs:\n  - name: j\n    kind: exec\n    command: 'echo ${a} ${b}'\n"
      "    matrix: {a: [" + [] {
        std::string values;
        for (int i = 0; i < 1000; ++i) values += (i ? "," : "") + std::to_string(i);
        return values;
      }() + "], b: [0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,"
            "36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63,64,65,66,67,68,69,70,71,"
            "72,73,74,75,76,77,78,79,80,81,82,83,84,85,86,87,88,89,90,91,92,93,94,95,96,97,98,99]}\n";
  const std::string path = farm.dir() + "/wide.yaml";
  std::ofstream(path) << spec;

  CliResult dry = farm.Cli({"--json", "submit", "--dry-run", path});
  ASSERT_EQ(dry.exit_code, 0) << dry.output.substr(0, 2000);
  size_t planned = 0;
  for (size_t at = dry.output.find("\"name\": \"j["); at != std::string::npos; at = dry.output.find("\"name\": \"j[", at + 1)) {
    ++planned;
  }
  EXPECT_EQ(planned, 100000u) << "the dry run follows every page";

  CliResult submitted = farm.Cli({"submit", path});
  ASSERT_EQ(submitted.exit_code, 0) << submitted.output;
  EXPECT_NE(submitted.output.find("100000 jobs"), std::string::npos) << submitted.output;

  // Page by page over the API: no page is the whole sweep, and together they are.
  v1::ListJobsRequest request;
  request.set_sweep_id(1);
  size_t listed = 0, pages = 0, largest_page = 0;
  int64_t last_id = 0;
  do {
    v1::ListJobsResponse page;
    grpc::ClientContext context;
    ASSERT_TRUE(farm.control().ListJobs(&context, request, &page).ok());
    ++pages;
    listed += static_cast<size_t>(page.jobs_size());
    largest_page = std::max(largest_page, page.ByteSizeLong());
    for (const auto& job : page.jobs()) {
      EXPECT_GT(job.id(), last_id) << "pages neither repeat nor skip";
      last_id = job.id();
    }
    request.set_page_token(page.next_page_token());
  } while (!request.page_token().empty());
  EXPECT_EQ(listed, 100000u);
  EXPECT_EQ(pages, 100u) << "1,000 jobs a page by default";
  EXPECT_LT(largest_page, 4u << 20) << "under gRPC's default receive limit";

  CliResult jobs = farm.Cli({"jobs", "--sweep", "1", "--all"});
  ASSERT_EQ(jobs.exit_code, 0);
  EXPECT_EQ(std::count(jobs.output.begin(), jobs.output.end(), '\n'), 100001) << "--all follows every page";
  CliResult first = farm.Cli({"jobs", "--sweep", "1"});
  EXPECT_EQ(std::count(first.output.begin(), first.output.end(), '\n'), 52) << "50 rows, the header and a hint";

  v1::ListJobsRequest bad;
  bad.set_page_token("not-a-token");
  v1::ListJobsResponse reply;
  grpc::ClientContext context;
  grpc::Status status = farm.control().ListJobs(&context, bad, &reply);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("page_token 'not-a-token' is not one this coordinator gave out"),
            std::string::npos);
}

}  // namespace
}  // namespace gauntlet::testing
