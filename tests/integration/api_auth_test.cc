// Who may do what, on a real farm: API tokens and their roles over every
// ControlService method (read from its descriptor, so a new RPC without a
// policy fails here) and every mutating HTTP route; the bootstrap of the
// first admin; the board's sign-in cookie; the audit trail; revocation; the
// limit on failed authentications; and no token written anywhere in plain
// text.
#include <httplib.h>

#include <gtest/gtest.h>

#include <google/protobuf/descriptor.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>

#include "coordinator/auth/roles.h"
#include "tests/integration/farm.h"

namespace gauntlet::testing {
namespace {

namespace fs = std::filesystem;

// Calls ControlService.`method` with an empty request (valid for every
// message) and `token`; only the status matters here.
grpc::Status CallWithToken(grpc::GenericStub& stub, const std::string& method, const std::string& token) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
  grpc::Slice empty(std::string(""));
  grpc::ByteBuffer request(&empty, 1);  // A buffer with no slice is not a message; one empty slice is.
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, "/" + std::string(v1::ControlService::service_full_name()) + "/" + method,
                 grpc::StubOptions(), &request, &response, [&](grpc::Status status) { done.set_value(status); });
  return done.get_future().get();
}

// Makes a token through the CLI, as an admin would; returns its secret.
std::string CreateToken(Farm& farm, const std::string& admin_file, const std::string& name, const std::string& role) {
  CliResult created = farm.Cli({"--token-file", admin_file, "tokens", "create", "--name", name, "--role", role});
  EXPECT_EQ(created.exit_code, 0) << created.output;
  const std::string secret = created.output.substr(0, created.output.find('\n'));
  EXPECT_TRUE(secret.starts_with("gnt_")) << created.output;
  return secret;
}

std::string WriteTokenFile(const std::string& path, const std::string& token) {
  std::ofstream(path) << token << "\n";
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
  return path;
}

class ApiAuthTest : public ::testing::Test {
 protected:
  // A farm whose first admin was made through the CLI on an open (loopback)
  // coordinator, then viewer and submitter tokens by that admin.
  void SetUp() override {
    farm_ = std::make_unique<Farm>("api-auth-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    farm_->StartCoordinator();
    farm_->StartAgent("node-a", "cpu:2");
    CliResult open = farm_->Cli({"whoami"});
    ASSERT_EQ(open.exit_code, 0) << open.output;
    EXPECT_NE(open.output.find("no API tokens yet"), std::string::npos) << open.output;
    CliResult viewer_first = farm_->Cli({"tokens", "create", "--name", "early", "--role", "viewer"});
    EXPECT_NE(viewer_first.exit_code, 0);
    EXPECT_NE(viewer_first.output.find("first token of a farm must be an admin"), std::string::npos)
        << viewer_first.output;
    admin_file_ = farm_->dir() + "/admin-token";
    CliResult admin = farm_->Cli({"tokens", "create", "--name", "ops", "--role", "admin", "--save", "--save-to", admin_file_});
    ASSERT_EQ(admin.exit_code, 0) << admin.output;
    EXPECT_EQ(fs::status(admin_file_).permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
    admin_ = admin.output.substr(0, admin.output.find('\n'));
    EXPECT_EQ(ReadFile(admin_file_), admin_ + "\n");
    farm_->UseApiToken(admin_);
    viewer_ = CreateToken(*farm_, admin_file_, "dashboards", "viewer");
    submitter_ = CreateToken(*farm_, admin_file_, "ci-bot", "submitter");
  }

  std::unique_ptr<Farm> farm_;
  std::string admin_file_, admin_, viewer_, submitter_;
};

TEST_F(ApiAuthTest, EveryControlMethodChecksItsRole) {
  auto channel = grpc::CreateChannel(farm_->address(), grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  const auto* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(v1::ControlService::service_full_name());
  ASSERT_NE(service, nullptr);
  const std::map<std::string, std::pair<auth::Role, std::string>> callers = {
      {"viewer", {auth::Role::kViewer, viewer_}},
      {"submitter", {auth::Role::kSubmitter, submitter_}},
      {"admin", {auth::Role::kAdmin, admin_}}};
  for (int i = 0; i < service->method_count(); ++i) {
    const std::string method = service->method(i)->name();
    auto policy = auth::ControlMethodPolicy(method);
    ASSERT_TRUE(policy.has_value()) << "ControlService." << method << " has no policy in auth/roles.cc";
    // A wrong token on a few methods only: more would trip the limit on
    // failed authentications, which the boot test below proves.
    for (const std::string& token : {std::string(), std::string(i < 3 ? "gnt_guessed" : "")}) {
      grpc::Status status = CallWithToken(stub, method, token);
      EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
          << method << " with '" << token << "': " << status.error_message();
    }
    for (const auto& [role_name, caller] : callers) {
      // Methods that would end the test's own access run last, below.
      if (caller.first == auth::Role::kAdmin && (method == "RevokeToken" || method == "RevokeAgent")) continue;
      grpc::Status status = CallWithToken(stub, method, caller.second);
      if (auth::Allows(caller.first, policy->role)) {
        EXPECT_NE(status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
            << method << " as " << role_name << ": " << status.error_message();
        EXPECT_NE(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << method << " as " << role_name;
      } else {
        EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
            << method << " as " << role_name << ": " << status.error_message();
        EXPECT_NE(status.error_message().find(method + " needs a"), std::string::npos) << status.error_message();
      }
    }
  }
  // Refused calls of known callers to changing methods are in the trail.
  CliResult events = farm_->Cli({"--token-file", admin_file_, "events", "--actor", "dashboards", "--limit", "200"});
  ASSERT_EQ(events.exit_code, 0) << events.output;
  EXPECT_NE(events.output.find("DrainAgent"), std::string::npos) << events.output;
  EXPECT_NE(events.output.find("permission denied"), std::string::npos) << events.output;
}

TEST_F(ApiAuthTest, RolesAuditTrailAndRevocation) {
  const std::string viewer_file = WriteTokenFile(farm_->dir() + "/viewer-token", viewer_);
  const std::string submitter_file = WriteTokenFile(farm_->dir() + "/submitter-token", submitter_);
  const std::string spec = farm_->dir() + "/one.yaml";
  std::ofstream(spec) << "name: one\njobs: [{name: a, kind: exec, command: \"echo ran\"}]\n";

  CliResult anonymous = farm_->Cli({"status"});
  EXPECT_NE(anonymous.exit_code, 0);
  EXPECT_NE(anonymous.output.find("needs an API token"), std::string::npos) << anonymous.output;
  CliResult viewer_submit = farm_->Cli({"--token-file", viewer_file, "submit", spec});
  EXPECT_NE(viewer_submit.exit_code, 0);
  EXPECT_NE(viewer_submit.output.find("SubmitSweep needs a submitter token; 'dashboards' is a viewer"),
            std::string::npos)
      << viewer_submit.output;
  CliResult submitted = farm_->Cli({"--token-file", submitter_file, "submit", spec, "--wait"});
  EXPECT_EQ(submitted.exit_code, 0) << submitted.output;
  CliResult sweeps = farm_->Cli({"--token-file", viewer_file, "--json", "status"});
  EXPECT_EQ(sweeps.exit_code, 0) << sweeps.output;

  // A schedule is an admin's, also when it comes inside a spec.
  const std::string nightly = farm_->dir() + "/nightly.yaml";
  std::ofstream(nightly) << "name: nightly\nschedule: {cron: \"0 2 * * *\"}\njobs: [{name: a, kind: exec, command: "
                            "\"echo ran\"}]\n";
  CliResult scheduled = farm_->Cli({"--token-file", submitter_file, "submit", nightly});
  EXPECT_NE(scheduled.exit_code, 0);
  EXPECT_NE(scheduled.output.find("needs an admin token"), std::string::npos) << scheduled.output;
  EXPECT_NE(farm_->Cli({"--token-file", submitter_file, "drain", "node-a"}).exit_code, 0);
  EXPECT_EQ(farm_->Cli({"--token-file", admin_file_, "drain", "node-a"}).exit_code, 0);
  EXPECT_EQ(farm_->Cli({"--token-file", admin_file_, "drain", "node-a", "--undo"}).exit_code, 0);

  CliResult whoami = farm_->Cli({"--token-file", submitter_file, "whoami"});
  EXPECT_EQ(whoami.output, "ci-bot (submitter)\n");
  CliResult list = farm_->Cli({"--token-file", admin_file_, "tokens", "list"});
  EXPECT_NE(list.output.find("ci-bot"), std::string::npos) << list.output;
  EXPECT_EQ(list.output.find(submitter_), std::string::npos) << "a list never shows a secret";
  CliResult reused = farm_->Cli({"--token-file", admin_file_, "tokens", "create", "--name", "ci-bot", "--role", "viewer"});
  EXPECT_NE(reused.output.find("taken"), std::string::npos) << reused.output;
  CliResult last_admin = farm_->Cli({"--token-file", admin_file_, "tokens", "revoke", "ops"});
  EXPECT_NE(last_admin.exit_code, 0);
  EXPECT_NE(last_admin.output.find("last live admin token"), std::string::npos) << last_admin.output;

  CliResult listed = farm_->Cli({"--token-file", viewer_file, "status"});
  EXPECT_NE(listed.output.find(" ci-bot "), std::string::npos) << "the sweep list says who submitted: " << listed.output;
  CliResult revoked = farm_->Cli({"--token-file", admin_file_, "tokens", "revoke", "ci-bot"});
  EXPECT_EQ(revoked.exit_code, 0) << revoked.output;
  CliResult after = farm_->Cli({"--token-file", submitter_file, "status"});
  EXPECT_NE(after.exit_code, 0);
  EXPECT_NE(after.output.find("unknown, expired or revoked"), std::string::npos) << after.output;

  // The trail: who did what, allowed or refused, newest first.
  CliResult trail = farm_->Cli({"--token-file", admin_file_, "--json", "events", "--limit", "100"});
  ASSERT_EQ(trail.exit_code, 0) << trail.output;
  for (const char* expected : {"\"actor\": \"ci-bot\"", "\"action\": \"SubmitSweep\"", "\"action\": \"DrainAgent\"",
                               "\"action\": \"UndrainAgent\"", "\"action\": \"RevokeToken\"",
                               "\"target\": \"token ci-bot\"", "\"action\": \"CreateToken\"", "\"actor\": \"local\""}) {
    EXPECT_NE(trail.output.find(expected), std::string::npos) << expected << " in " << trail.output;
  }
  auto sweep = farm_->Cli({"--token-file", admin_file_, "--json", "status", "1"});
  EXPECT_NE(sweep.output.find("\"submittedBy\": \"ci-bot\""), std::string::npos) << sweep.output;
}

TEST_F(ApiAuthTest, HttpRoutesNeedTheirRoleAndTheBoardSignsIn) {
  httplib::Client http("127.0.0.1", farm_->http_port());
  const httplib::Headers viewer = {{"Authorization", "Bearer " + viewer_}};
  const httplib::Headers admin = {{"Authorization", "Bearer " + admin_}};
  EXPECT_EQ(http.Get("/healthz")->status, 200);
  EXPECT_EQ(http.Get("/api/v1/sweeps")->status, 401);
  EXPECT_EQ(http.Get("/metrics")->status, 401);
  auto page = http.Get("/agents");
  EXPECT_EQ(page->status, 303);
  EXPECT_EQ(page->get_header_value("Location"), "/login?next=/agents");
  EXPECT_EQ(http.Get("/api/v1/sweeps", viewer)->status, 200);
  EXPECT_EQ(http.Get("/agents", viewer)->status, 200);
  for (const char* route : {"/api/v1/agents/node-a/drain", "/agents/node-a/drain"}) {
    EXPECT_EQ(http.Post(route)->status, 401) << route;
    EXPECT_EQ(http.Post(route, viewer, "", "text/plain")->status, 403) << route;
    auto done = http.Post(route, admin, "", "text/plain");
    EXPECT_TRUE(done->status == 200 || done->status == 303) << route << " " << done->status;
    EXPECT_EQ(http.Post("/api/v1/agents/node-a/undrain", admin, "", "text/plain")->status, 200);
  }
  // Sign-in: a wrong token stays out; a right one becomes an HttpOnly,
  // SameSite=Strict cookie that the board's reads and changes accept.
  auto wrong = http.Post("/login", "token=gnt_wrong&next=%2Fagents", "application/x-www-form-urlencoded");
  EXPECT_EQ(wrong->status, 401);
  EXPECT_NE(wrong->body.find("unknown, expired or revoked"), std::string::npos);
  auto signed_in = http.Post("/login", "token=" + viewer_ + "&next=%2Fagents", "application/x-www-form-urlencoded");
  EXPECT_EQ(signed_in->status, 303);
  EXPECT_EQ(signed_in->get_header_value("Location"), "/agents");
  const std::string cookie = signed_in->get_header_value("Set-Cookie");
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos) << cookie;
  const httplib::Headers with_cookie = {{"Cookie", cookie.substr(0, cookie.find(';'))}};
  EXPECT_EQ(http.Get("/agents", with_cookie)->status, 200);
  EXPECT_EQ(http.Post("/agents/node-a/drain", with_cookie, "", "text/plain")->status, 403) << "a viewer's cookie";
  auto offsite = http.Post("/login", "token=" + viewer_ + "&next=%2F%2Fevil.example", "application/x-www-form-urlencoded");
  EXPECT_EQ(offsite->get_header_value("Location"), "/") << "sign-in returns only to this board";
  auto audit = http.Get("/audit", admin);
  EXPECT_EQ(audit->status, 200);
  EXPECT_NE(audit->body.find("DrainAgent"), std::string::npos);
  EXPECT_NE(audit->body.find("SignIn"), std::string::npos);
}

TEST(ApiAuthBootTest, AdminTokenFileBoardPublicAndFailedAuthLimit) {
  Farm farm("api-auth-boot");
  const std::string admin = "0123456789abcdef0123456789abcdef-admin";
  const std::string admin_file = farm.dir() + "/admin-token";
  std::ofstream(admin_file) << admin << "\n";
  CliResult loose = Farm::Run({Farm::BinDir() + "/gauntlet-coordinator", "--db", farm.dir() + "/x.db",
                               "--admin-token-file", admin_file},
                              farm.dir() + "/loose.log");
  EXPECT_EQ(loose.exit_code, 2);
  EXPECT_NE(loose.output.find("chmod 600"), std::string::npos) << loose.output;
  fs::permissions(admin_file, fs::perms::owner_read | fs::perms::owner_write);
  farm.AddCoordinatorFlags({"--admin-token-file", admin_file, "--board-public"});
  farm.StartCoordinator();
  farm.UseApiToken(admin);
  // In force from the first start, with no token stored.
  CliResult anonymous = farm.Cli({"status"});
  EXPECT_NE(anonymous.exit_code, 0) << anonymous.output;
  CliResult whoami = farm.Cli({"--token-file", admin_file, "whoami"});
  EXPECT_EQ(whoami.output, "bootstrap-admin (admin)\n");
  httplib::Client http("127.0.0.1", farm.http_port());
  EXPECT_EQ(http.Get("/")->status, 200) << "--board-public: reads need no token";
  EXPECT_EQ(http.Get("/api/v1/sweeps")->status, 200);
  EXPECT_EQ(http.Post("/api/v1/agents/node-a/drain")->status, 401) << "changes still do";

  // Guessing: after the limit, even a right token from that peer waits.
  int refused = 0;
  for (int i = 0; i < 30; ++i) {
    auto reply = http.Post("/api/v1/agents/node-a/drain", {{"Authorization", "Bearer gnt_guess" + std::to_string(i)}},
                           "", "text/plain");
    refused += reply->status == 429;
  }
  EXPECT_EQ(refused, 10) << "20 failures are allowed per minute, the rest refused unchecked";
  EXPECT_EQ(http.Post("/api/v1/agents/node-a/drain", {{"Authorization", "Bearer " + admin}}, "", "text/plain")->status,
            429);
  CliResult limited = farm.Cli({"--token-file", admin_file, "agents"});
  EXPECT_NE(limited.output.find("too many failed authentications"), std::string::npos) << limited.output;

  // No token in any log line or database column (the WAL included).
  farm.KillCoordinator();
  for (const auto& entry : fs::recursive_directory_iterator(farm.dir())) {
    if (!entry.is_regular_file() || entry.path() == admin_file) continue;
    EXPECT_EQ(ReadFile(entry.path().string()).find(admin), std::string::npos) << entry.path();
  }
}

TEST_F(ApiAuthTest, NoSecretIsWrittenAnywhere) {
  const std::string viewer_file = WriteTokenFile(farm_->dir() + "/viewer-token", viewer_);
  EXPECT_NE(farm_->Cli({"--token-file", viewer_file, "drain", "node-a"}).exit_code, 0);
  httplib::Client http("127.0.0.1", farm_->http_port());
  http.Post("/login", "token=" + admin_ + "&next=%2F", "application/x-www-form-urlencoded");
  http.Get("/api/v1/sweeps", {{"Authorization", "Bearer gnt_not_a_token"}});
  farm_->KillCoordinator();
  for (const auto& entry : fs::recursive_directory_iterator(farm_->dir())) {
    if (!entry.is_regular_file() || entry.path() == admin_file_ || entry.path() == viewer_file) continue;
    // The CLI's own output of `tokens create` shows each secret once, by design.
    if (entry.path().filename().string().starts_with("cli-")) continue;
    const std::string text = ReadFile(entry.path().string());
    for (const std::string& secret : {admin_, viewer_, submitter_}) {
      EXPECT_EQ(text.find(secret), std::string::npos) << entry.path();
    }
  }
}

}  // namespace
}  // namespace gauntlet::testing
