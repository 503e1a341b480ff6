// Two nights of a schedule on a real farm, the second with one benchmark
// regression, one numerics regression, one flaky job and one metric that
// only moves within its noise: `gauntlet compare` classifies each, on the
// table, in JSON, and in its exit code.
#include <gtest/gtest.h>

#include <fstream>
#include <mutex>
#include <thread>

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <set>

#include "tests/integration/farm.h"

namespace gauntlet::testing {
namespace {

void Write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

std::string KindOf(const nlohmann::json& reply, const std::string& job, const std::string& metric = "") {
  for (const auto& finding : reply["findings"]) {
    if (finding.value("job", "") == job && finding.value("metric", "") == metric) return finding.value("kind", "");
  }
  return "(none)";
}

// A webhook receiver on 127.0.0.1 that fails its first call, as a receiver
// restarting would.
class Receiver {
 public:
  Receiver() {
    server_.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      bodies_.push_back(req.body);
      res.status = bodies_.size() == 1 ? 500 : 200;
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~Receiver() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }
  std::vector<std::string> bodies() {
    std::lock_guard lock(mu_);
    return bodies_;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::string> bodies_;
};

TEST(NightlyCompareTest, ClassifiesEachChangeOfTheSecondNight) {
  Receiver receiver;
  Farm farm("nightly-compare");
  farm.StartCoordinator();
  farm.StartAgent("node-a", "cpu:2");
  const std::string dir = farm.dir();
  // Each script reads which night it is from a file the test writes.
  const std::string night_is = "[ \"$(cat " + dir + "/night)\" = 2 ]";
  Write(dir + "/bench.sh", "if " + night_is + R"sh(; then itl="12.0, 12.1, 11.9, 12.2, 12.0"; tps="100, 99, 101, 100";
else itl="10.0, 10.2, 9.9, 10.1, 10.0"; tps="100, 101, 99, 100"; fi
printf '{"verdict": "pass", "metrics": {"itl_ms": 11}, "samples": {"itl_ms": [%s], "tokens_per_s": [%s]}}' \
  "$itl" "$tps" > "$GAUNTLET_OUT/result.json"
)sh");
  Write(dir + "/numerics.sh", "if " + night_is + R"sh(; then
  printf '{"verdict": "fail", "reason": "cross entropy 3.1 over 2.5"}' > "$GAUNTLET_OUT/result.json"; exit 1; fi
)sh");
  // Fails its first attempt on night two only, then passes its retry.
  Write(dir + "/flaky.sh", "if " + night_is + " && [ ! -f " + dir + "/flaked ]; then touch " + dir +
                               "/flaked; exit 7; fi\n");
  Write(dir + "/nightly.yaml", R"(
name: nightly
schedule: {cron: "0 2 * * *", timezone: UTC, notify: {webhook: ")" + receiver.url() + R"("}}
jobs:
  - {name: bench, kind: exec, command: "sh )" + dir + R"(/bench.sh"}
  - {name: numerics, kind: exec, command: "sh )" + dir + R"(/numerics.sh"}
  - {name: flaky, kind: exec, max_attempts: 2, command: "sh )" + dir + R"(/flaky.sh"}
  - {name: steady, kind: exec, command: "true"}
)");
  ASSERT_EQ(farm.Cli({"submit", dir + "/nightly.yaml"}).exit_code, 0);

  std::vector<int64_t> sweeps;
  for (const char* night : {"1", "2"}) {
    Write(dir + "/night", night);
    CliResult fired = farm.Cli({"--json", "schedules", "run-now", "nightly"});
    ASSERT_EQ(fired.exit_code, 0) << fired.output;
    const int64_t sweep = std::stoll(nlohmann::json::parse(fired.output).value("sweepId", "0"));
    ASSERT_NE(sweep, 0) << fired.output;
    farm.WaitForSweep(sweep);
    sweeps.push_back(sweep);
  }

  CliResult table = farm.Cli({"compare", "--schedule", "nightly"});
  EXPECT_EQ(table.exit_code, 3) << "regressions gate a pipeline: " << table.output;
  for (const char* expected : {"bench_regression", "regression", "flaky", "unchanged", "tokens_per_s",
                               "Welch t-test, 5 vs 5 samples", "+19.9%"}) {
    EXPECT_NE(table.output.find(expected), std::string::npos) << expected << " in\n" << table.output;
  }

  CliResult json = farm.Cli({"--json", "compare", std::to_string(sweeps[0]), std::to_string(sweeps[1])});
  EXPECT_EQ(json.exit_code, 3) << json.output;
  const auto reply = nlohmann::json::parse(json.output);
  EXPECT_EQ(KindOf(reply, "bench", "itl_ms"), "bench_regression");
  EXPECT_EQ(KindOf(reply, "bench", "tokens_per_s"), "unchanged");
  EXPECT_EQ(KindOf(reply, "numerics"), "regression");
  EXPECT_EQ(KindOf(reply, "flaky"), "flaky");
  EXPECT_EQ(KindOf(reply, "steady"), "unchanged");
  EXPECT_TRUE(reply.value("hasRegressions", false));

  // The webhook: nothing for night one (no regression), night two's
  // regressions once it finished, sent again after the receiver's 500.
  ASSERT_TRUE(Farm::WaitUntil([&] { return receiver.bodies().size() >= 2; }, std::chrono::seconds(20)));
  const auto alert = nlohmann::json::parse(receiver.bodies()[1]);
  EXPECT_EQ(receiver.bodies()[0], receiver.bodies()[1]);
  EXPECT_EQ(alert.value("schedule", ""), "nightly");
  EXPECT_EQ(alert.value("sweep_id", 0), sweeps[1]);
  std::set<std::string> alerted;
  for (const auto& regression : alert["regressions"]) alerted.insert(regression.value("job", "") + "/" +
                                                                     regression.value("kind", ""));
  EXPECT_EQ(alerted, (std::set<std::string>{"bench/bench_regression", "numerics/regression"}));
  CliResult show;
  ASSERT_TRUE(Farm::WaitUntil([&] {
    show = farm.Cli({"schedules", "show", "nightly"});
    return show.output.find("attempt 2: HTTP 200") != std::string::npos;
  }));
  EXPECT_NE(show.output.find("attempt 1: HTTP 500"), std::string::npos) << show.output;
  EXPECT_EQ(receiver.bodies().size(), 2u) << "delivered once, never again";
  CliResult bad = farm.Cli({"schedules", "add", "x", "--cron", "@daily", "--webhook", "file:///etc/passwd", "--spec",
                            dir + "/nightly.yaml"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.output.find("is not an http(s) URL"), std::string::npos) << bad.output;

  // One job night by night: the CLI, the JSON API and the board's pages.
  CliResult history = farm.Cli({"schedules", "history", "nightly", "--job", "bench"});
  ASSERT_EQ(history.exit_code, 0) << history.output;
  for (const char* expected : {"itl_ms", "tokens_per_s", "bench_regression itl_ms +19.9%", "10.04", "12.04"}) {
    EXPECT_NE(history.output.find(expected), std::string::npos) << expected << " in\n" << history.output;
  }
  httplib::Client http("127.0.0.1", farm.http_port());
  auto tests = http.Get("/api/v1/schedules/nightly/tests?job=numerics");
  ASSERT_TRUE(tests && tests->status == 200) << (tests ? tests->body : "no answer");
  const auto numerics = nlohmann::json::parse(tests->body);
  ASSERT_EQ(numerics["nights"].size(), 2u) << tests->body;
  EXPECT_EQ(numerics["nights"][0].value("outcome", ""), "fail");
  EXPECT_EQ(numerics["nights"][0]["findings"][0].value("kind", ""), "regression");
  EXPECT_EQ(numerics["nights"][1].value("outcome", ""), "pass");
  EXPECT_TRUE(numerics["nights"][1]["findings"].empty()) << "the first night has nothing before it: " << tests->body;
  auto flaky = http.Get("/api/v1/schedules/nightly/tests?job=flaky");
  ASSERT_TRUE(flaky && flaky->status == 200);
  EXPECT_EQ(nlohmann::json::parse(flaky->body)["nights"][0].value("outcome", ""), "flaky");
  auto unknown = http.Get("/api/v1/schedules/nightly/tests?job=nope");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  EXPECT_NE(unknown->body.find("has no job 'nope'"), std::string::npos) << unknown->body;
  auto page = http.Get("/nightly/nightly/tests?job=bench");
  ASSERT_TRUE(page && page->status == 200);
  EXPECT_NE(page->body.find("data-kind=\"bench_regression\" data-metric=\"itl_ms\""), std::string::npos);
  // The matrix of the schedule's newest night marks each change on its cell.
  auto matrix = http.Get("/?schedule=nightly");
  ASSERT_TRUE(matrix && matrix->status == 200);
  EXPECT_NE(matrix->body.find("option value=" + std::to_string(sweeps[1]) + " selected"), std::string::npos)
      << "the schedule's newest night is shown";
  for (const char* mark : {"data-mark=\"regression\" data-job=\"numerics\"",
                           "data-mark=\"bench_regression\" data-job=\"bench\"",
                           "data-mark=\"flaky\" data-job=\"flaky\""}) {
    EXPECT_NE(matrix->body.find(mark), std::string::npos) << mark;
  }
  EXPECT_EQ(matrix->body.find("data-job=\"steady\""), std::string::npos) << "unchanged jobs carry no mark";
  auto first = http.Get("/?sweep=" + std::to_string(sweeps[0]));
  ASSERT_TRUE(first && first->status == 200);
  EXPECT_NE(first->body.find("compare needs two"), std::string::npos) << "the first night says why it has no marks";
  // compare --night judges an older night: night one has no night before it.
  CliResult older = farm.Cli({"compare", "--schedule", "nightly", "--night", std::to_string(sweeps[0])});
  EXPECT_EQ(older.exit_code, 1) << older.output;
  EXPECT_NE(older.output.find("compare needs two"), std::string::npos) << older.output;

  // Pinned to night two itself, the comparison has nothing to say.
  ASSERT_EQ(farm.Cli({"baseline", "pin", "nightly", std::to_string(sweeps[1])}).exit_code, 0);
  CliResult same = farm.Cli({"compare", std::to_string(sweeps[1]), std::to_string(sweeps[1])});
  EXPECT_EQ(same.exit_code, 0) << same.output;
  ASSERT_EQ(farm.Cli({"baseline", "unpin", "nightly"}).exit_code, 0);
}

}  // namespace
}  // namespace gauntlet::testing
