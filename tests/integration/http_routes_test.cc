// The HTTP routes and JSON API of a real HttpServer on loopback, over a
// JobManager on in-memory SQLite: status codes, 404s, escaping, the
// protobuf JSON casing and /metrics.
#include "coordinator/api/http_server.h"

#include <httplib.h>

#include <gtest/gtest.h>

#include <filesystem>

#include "coordinator/store/artifact_store.h"
#include "tests/unit/test_util.h"

namespace gauntlet {
namespace {

class HttpRoutesTest : public testing_util::ManagerTest {
 protected:
  void SetUp() override {
    ManagerTest::SetUp();
    auto dir = std::filesystem::temp_directory_path() / "gauntlet-http-routes-test";
    std::filesystem::create_directories(dir);
    artifacts_ = std::make_unique<store::ArtifactStore>(dir.string());
    server_ = std::make_unique<api::HttpServer>(*jobs_, *artifacts_, clock_);
    auto port = server_->Start("127.0.0.1", 0);
    ASSERT_TRUE(port.has_value()) << port.error().ToString();
    client_ = std::make_unique<httplib::Client>("127.0.0.1", *port);
    port_ = *port;
  }
  void TearDown() override { server_->Stop(); }

  httplib::Result Get(const std::string& path) { return client_->Get(path); }

  std::unique_ptr<store::ArtifactStore> artifacts_;
  std::unique_ptr<api::HttpServer> server_;
  std::unique_ptr<httplib::Client> client_;
  int port_ = 0;
};

TEST_F(HttpRoutesTest, StatusCodesNameTheProblem) {
  EXPECT_EQ(Get("/healthz")->status, 200);
  auto missing = Get("/api/v1/jobs/99");
  EXPECT_EQ(missing->status, 404);
  EXPECT_NE(missing->body.find("no job 99"), std::string::npos) << missing->body;
  auto bad = Get("/api/v1/jobs/abc");
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(bad->body.find("must be a positive integer"), std::string::npos) << bad->body;
  EXPECT_EQ(Get("/api/v1/sweeps/0")->status, 400);
  EXPECT_EQ(Get("/api/v1/sweeps/7/jobs")->status, 404);
  EXPECT_EQ(Get("/jobs/99")->status, 404) << "the board's page too";
  EXPECT_EQ(Get("/api/v1/matrix?sweep=x")->status, 400);
  EXPECT_EQ(Get("/no/such/page")->status, 404);
}

TEST_F(HttpRoutesTest, JsonIsTheProtobufMappingAndHtmlIsEscaped) {
  AddAgent("n1", 1);
  int64_t sweep = Submit(
      "name: html\njobs: [{name: a, kind: exec, command: 'echo <b>bold</b>', "
      "labels: {model: '<script>x</script>', dtype: fp16, tp: '1', context: '4096'}}]");
  auto json = Get("/api/v1/sweeps/" + std::to_string(sweep));
  ASSERT_EQ(json->status, 200);
  EXPECT_EQ(json->get_header_value("Content-Type"), "application/json");
  EXPECT_NE(json->body.find("\"totalJobs\":1"), std::string::npos) << "lowerCamelCase: " << json->body;
  auto jobs = Get("/api/v1/sweeps/" + std::to_string(sweep) + "/jobs");
  EXPECT_NE(jobs->body.find("\\u003cscript\\u003ex\\u003c/script\\u003e"), std::string::npos)
      << "JSON keeps the value, escaped: " << jobs->body;
  for (const std::string& page : std::vector<std::string>{"/jobs/1", "/sweeps/" + std::to_string(sweep), "/"}) {
    auto html = Get(page);
    ASSERT_EQ(html->status, 200) << page;
    EXPECT_EQ(html->body.find("<script>x</script>"), std::string::npos) << page << " must escape job names";
    EXPECT_EQ(html->body.find("<b>bold</b>"), std::string::npos) << page << " must escape commands";
  }
}

TEST_F(HttpRoutesTest, MutationsAreNotOnGetAndUnknownAgentsAre404) {
  AddAgent("n1", 1);
  EXPECT_EQ(Get("/api/v1/agents/n1/drain")->status, 404) << "no state change on GET";
  auto agents = jobs_->ListAgents();
  ASSERT_TRUE(agents.has_value());
  EXPECT_FALSE(agents->at(0).drained());
  EXPECT_EQ(client_->Post("/api/v1/agents/nobody/drain")->status, 404);
  auto drained = client_->Post("/api/v1/agents/n1/drain");
  ASSERT_EQ(drained->status, 200);
  EXPECT_NE(drained->body.find("\"drained\":true"), std::string::npos) << drained->body;
}

TEST_F(HttpRoutesTest, ACrossSiteFormCannotDrainAnAgent) {
  AddAgent("n1", 1);
  for (const auto& headers : {httplib::Headers{{"Origin", "http://evil.example"}},
                              httplib::Headers{{"Sec-Fetch-Site", "cross-site"}},
                              httplib::Headers{{"Origin", "null"}}}) {
    for (const char* path : {"/agents/n1/drain", "/api/v1/agents/n1/drain"}) {
      auto refused = client_->Post(path, headers, "", "application/x-www-form-urlencoded");
      ASSERT_TRUE(refused);
      EXPECT_EQ(refused->status, 403) << path;
      EXPECT_NE(refused->body.find("another"), std::string::npos) << refused->body;
    }
  }
  EXPECT_FALSE(jobs_->ListAgents()->at(0).drained()) << "nothing changed";
  // The board's own form: same origin.
  const std::string host = "127.0.0.1:" + std::to_string(port_);
  auto same = client_->Post("/agents/n1/drain", {{"Origin", "http://" + host}, {"Sec-Fetch-Site", "same-origin"}}, "",
                            "application/x-www-form-urlencoded");
  ASSERT_TRUE(same);
  EXPECT_EQ(same->status, 303);
  EXPECT_TRUE(jobs_->ListAgents()->at(0).drained());
}

TEST_F(HttpRoutesTest, ABodyBeyondTheLimitIsRefusedUnread) {
  AddAgent("n1", 1);
  auto refused = client_->Post("/api/v1/agents/n1/drain", std::string(1 << 20, 'x'), "application/octet-stream");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 413);
  EXPECT_FALSE(jobs_->ListAgents()->at(0).drained());
  EXPECT_EQ(client_->Post("/api/v1/agents/n1/drain", std::string(100, 'x'), "text/plain")->status, 200)
      << "a small body is read as before";
}

TEST_F(HttpRoutesTest, MetricsCountJobsByStateAndTheScheduler) {
  AddAgent("n1", 1);
  Submit("name: two\njobs: [{name: a, kind: exec, command: 'true'}, {name: b, kind: exec, command: 'true'}]");
  jobs_->Tick();
  auto metrics = Get("/metrics");
  ASSERT_EQ(metrics->status, 200);
  EXPECT_NE(metrics->body.find("gauntlet_jobs{device_kind=\"any\",state=\"leased\"} 1"), std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("gauntlet_jobs{device_kind=\"any\",state=\"ready\"} 1"), std::string::npos);
  EXPECT_NE(metrics->body.find("gauntlet_jobs_placed_total 1"), std::string::npos);
  EXPECT_NE(metrics->body.find("gauntlet_leases_expired_total{cause=\"agent_silent\"} 0"), std::string::npos);
  EXPECT_NE(metrics->body.find("gauntlet_coordinator_threads"), std::string::npos);
}

}  // namespace
}  // namespace gauntlet
