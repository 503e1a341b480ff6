// Who may speak for an agent, on a real farm: a process claiming a live
// agent's name is refused and gets no job; a registered impostor cannot
// report, log or heartbeat for another agent's attempt; registration
// tokens admit only what they allow; a revoked agent's running job re-runs
// elsewhere; and no credential is written anywhere in plain text.
#include <gtest/gtest.h>

#include <google/protobuf/descriptor.h>
#include <grpcpp/grpcpp.h>

#include <pwd.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/sha256.h"
#include "tests/integration/farm.h"

namespace gauntlet::testing {
namespace {

namespace fs = std::filesystem;

// Every file of the farm's folder, logs and database (with its WAL) alike.
std::string EverythingWritten(const std::string& dir) {
  std::string all;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file() || entry.path().filename().string().starts_with("session-")) continue;
    all += ReadFile(entry.path().string());
  }
  return all;
}

class RawAgent {
 public:
  explicit RawAgent(const std::string& address)
      : stub_(v1::AgentService::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()))) {}

  grpc::Status Register(const std::string& name, const std::string& kind = "cpu",
                        const std::string& registration_token = "", int devices = 1) {
    v1::RegisterRequest request;
    request.set_name(name);
    for (int i = 0; i < devices; ++i) {
      auto* device = request.add_devices();
      device->set_kind(kind);
      device->set_index(i);
    }
    grpc::ClientContext context;
    if (!registration_token.empty()) context.AddMetadata("x-gauntlet-registration-token", registration_token);
    v1::RegisterResponse reply;
    grpc::Status status = stub_->Register(&context, request, &reply);
    if (status.ok()) session_ = reply.session();
    return status;
  }
  grpc::Status Heartbeat(const std::string& name) {
    v1::HeartbeatRequest request;
    request.set_name(name);
    request.set_wait_ms(0);
    grpc::ClientContext context;
    Authorize(context);
    v1::HeartbeatResponse reply;
    return stub_->Heartbeat(&context, request, &reply);
  }
  // The assignments a heartbeat hands out, waiting up to a second for them.
  grpc::Status Poll(const std::string& name, v1::HeartbeatResponse* reply) {
    v1::HeartbeatRequest request;
    request.set_name(name);
    request.set_wait_ms(1000);
    grpc::ClientContext context;
    Authorize(context);
    return stub_->Heartbeat(&context, request, reply);
  }
  grpc::Status Report(int64_t attempt_id, v1::AttemptState state = v1::ATTEMPT_STATE_SUCCEEDED) {
    v1::AttemptReport report;
    report.set_attempt_id(attempt_id);
    report.set_state(state);
    grpc::ClientContext context;
    Authorize(context);
    v1::ReportAttemptResponse reply;
    return stub_->ReportAttempt(&context, report, &reply);
  }
  grpc::Status UploadLog(int64_t attempt_id, const std::string& job_token = "", int64_t offset = 0) {
    v1::LogChunk chunk;
    chunk.set_attempt_id(attempt_id);
    chunk.set_offset(offset);
    chunk.set_data("forged line\n");
    grpc::ClientContext context;
    Authorize(context);
    if (!job_token.empty()) context.AddMetadata("x-gauntlet-job-token", job_token);
    v1::UploadLogResponse reply;
    return stub_->UploadLog(&context, chunk, &reply);
  }
  void Forget() { session_.clear(); }
  const std::string& session() const { return session_; }

 private:
  void Authorize(grpc::ClientContext& context) {
    if (!session_.empty()) context.AddMetadata("authorization", "Bearer " + session_);
  }
  std::unique_ptr<v1::AgentService::Stub> stub_;
  std::string session_;
};

// A job that holds its agent until killed the first time, and passes the second.
std::string HoldOnce(const std::string& dir) {
  return "name: hold\njobs: [{name: hold, kind: exec, max_attempts: 2, command: \"if [ -f " + dir +
         "/held ]; then exit 0; fi; touch " + dir + "/held; sleep 60\"}]";
}

v1::Job RunningJob(Farm& farm, int64_t sweep) {
  const int64_t job_id = farm.Jobs(sweep).at(0).id();
  return farm.WaitForJob(job_id, [](const v1::Job& job) { return job.state() == v1::JOB_STATE_RUNNING; });
}

TEST(AgentAuthTest, NoOneButTheAgentSpeaksForItsName) {
  Farm farm("agent-auth-impostor");
  farm.StartCoordinator();
  farm.StartAgent("node-a", "cpu:1");
  const int64_t sweep = farm.Submit(HoldOnce(farm.dir()));
  const v1::Job running = RunningJob(farm, sweep);
  const int64_t attempt = running.attempts(running.attempts_size() - 1).id();

  RawAgent impostor(farm.address());
  grpc::Status stolen = impostor.Register("node-a");
  EXPECT_EQ(stolen.error_code(), grpc::StatusCode::PERMISSION_DENIED) << stolen.error_message();
  EXPECT_NE(stolen.error_message().find("held by a live agent"), std::string::npos) << stolen.error_message();
  EXPECT_EQ(impostor.Heartbeat("node-a").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(impostor.Report(attempt).error_code(), grpc::StatusCode::UNAUTHENTICATED);

  // Registered under a name of its own, it still cannot act for node-a.
  ASSERT_TRUE(impostor.Register("thief").ok());
  EXPECT_EQ(impostor.Heartbeat("node-a").error_code(), grpc::StatusCode::PERMISSION_DENIED);
  grpc::Status forged = impostor.Report(attempt);
  EXPECT_EQ(forged.error_code(), grpc::StatusCode::PERMISSION_DENIED) << forged.error_message();
  EXPECT_EQ(impostor.UploadLog(attempt).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(farm.Job(running.id()).state(), v1::JOB_STATE_RUNNING) << "the forged success changed nothing";
  EXPECT_EQ(farm.Job(running.id()).agent(), "node-a");
  const std::string thief_session = impostor.session();
  impostor.Forget();
  EXPECT_EQ(impostor.Register("thief").error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << "the thief is alive: registering again without its session is refused";

  const std::string coordinator_log = ReadFile(farm.dir() + "/coordinator.log");
  EXPECT_NE(coordinator_log.find("refused a second agent claiming the name node-a"), std::string::npos);
  EXPECT_NE(coordinator_log.find("refused agent thief's report for attempt " + std::to_string(attempt)),
            std::string::npos);

  // The real agent never noticed: its job ends as it would have.
  farm.Cli({"cancel", "--sweep", std::to_string(sweep)});
  farm.WaitForSweep(sweep);
  const std::string session = ReadFile(farm.dir() + "/agent-node-a/session-node-a");
  ASSERT_EQ(session.size(), 64u);
  EXPECT_EQ(fs::status(farm.dir() + "/agent-node-a/session-node-a").permissions() & fs::perms::group_read,
            fs::perms::none);
  const std::string written = EverythingWritten(farm.dir());
  EXPECT_EQ(written.find(session), std::string::npos) << "node-a's session is stored nowhere in plain text";
  EXPECT_EQ(written.find(thief_session), std::string::npos);
  EXPECT_NE(written.find(Sha256Hex(session)), std::string::npos) << "its hash is what the database keeps";
}

// Every AgentService method, from the service's descriptor: each needs a
// session but Register, so an RPC added without a policy here fails.
TEST(AgentAuthTest, EveryAgentCallButRegisterNeedsASession) {
  Farm farm("agent-auth-every-rpc");
  farm.StartCoordinator();
  auto stub = v1::AgentService::NewStub(grpc::CreateChannel(farm.address(), grpc::InsecureChannelCredentials()));
  // Without a credential, and with one nobody was given.
  for (const std::string& bearer : std::vector<std::string>{"", "Bearer " + std::string(64, '0')}) {
    auto context = [&] {
      auto made = std::make_unique<grpc::ClientContext>();
      if (!bearer.empty()) made->AddMetadata("authorization", bearer);
      return made;
    };
    const std::map<std::string, std::function<grpc::Status()>> calls = {
        {"Heartbeat", [&] {
           v1::HeartbeatRequest request;
           request.set_name("x");
           v1::HeartbeatResponse reply;
           return stub->Heartbeat(context().get(), request, &reply);
         }},
        {"ReportAttempt", [&] {
           v1::AttemptReport request;
           request.set_attempt_id(1);
           v1::ReportAttemptResponse reply;
           return stub->ReportAttempt(context().get(), request, &reply);
         }},
        {"UploadLog", [&] {
           v1::LogChunk request;
           request.set_attempt_id(1);
           v1::UploadLogResponse reply;
           return stub->UploadLog(context().get(), request, &reply);
         }},
        {"UploadArtifact", [&] {
           auto call_context = context();
           v1::ArtifactRef reply;
           auto writer = stub->UploadArtifact(call_context.get(), &reply);
           v1::ArtifactChunk chunk;
           chunk.set_sha256(std::string(64, 'a'));
           chunk.set_attempt_id(1);
           writer->Write(chunk);
           writer->WritesDone();
           return writer->Finish();
         }},
        {"DownloadArtifact", [&] {
           auto call_context = context();
           v1::DownloadArtifactRequest request;
           request.set_sha256(std::string(64, 'a'));
           auto reader = stub->DownloadArtifact(call_context.get(), request);
           v1::ArtifactChunk chunk;
           while (reader->Read(&chunk)) {
           }
           return reader->Finish();
         }},
    };
    const auto* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(v1::AgentService::service_full_name());
    ASSERT_NE(service, nullptr);
    for (int i = 0; i < service->method_count(); ++i) {
      const std::string method = service->method(i)->name();
      if (method == "Register") continue;  // The one call that hands out sessions.
      auto call = calls.find(method);
      ASSERT_NE(call, calls.end()) << "AgentService." << method << " has no policy in this test";
      grpc::Status status = call->second();
      EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
          << method << " with '" << bearer << "': " << status.error_message();
    }
  }
}

TEST(AgentAuthTest, RegistrationTokensAdmitOnlyWhatTheyAllow) {
  Farm farm("agent-auth-tokens");
  const std::string token = "lab-registration-token-7f3a";
  std::ofstream(farm.dir() + "/agent-tokens.yaml")
      << "- name: lab-cpu\n  token_sha256: " << Sha256Hex(token) << "\n  device_kinds: [cpu]\n";
  std::ofstream(farm.dir() + "/token") << token << "\n";
  // A token file others can read is refused, naming the fix.
  CliResult loose = Farm::Run({Farm::BinDir() + "/gauntlet-agent", "--coordinator", "127.0.0.1:1", "--name", "x",
                               "--devices", "cpu:1", "--token-file", farm.dir() + "/token"},
                              farm.dir() + "/loose-agent.log");
  EXPECT_EQ(loose.exit_code, 2) << loose.output;
  EXPECT_NE(loose.output.find("chmod 600"), std::string::npos) << loose.output;
  fs::permissions(farm.dir() + "/token", fs::perms::owner_read | fs::perms::owner_write);
  farm.AddCoordinatorFlags({"--agent-tokens", farm.dir() + "/agent-tokens.yaml"});
  farm.StartCoordinator();
  farm.StartAgent("node-a", "cpu:1", {"--token-file", farm.dir() + "/token"});
  const int64_t sweep = farm.Submit("name: one\njobs: [{name: a, kind: exec, command: \"echo ran\"}]");
  EXPECT_TRUE(farm.WaitForSweep(sweep).succeeded()) << "the agent with the token joined and ran the job";

  RawAgent rogue(farm.address());
  grpc::Status none = rogue.Register("rogue");
  EXPECT_EQ(none.error_code(), grpc::StatusCode::UNAUTHENTICATED) << none.error_message();
  EXPECT_NE(none.error_message().find("--token-file"), std::string::npos) << none.error_message();
  EXPECT_EQ(rogue.Register("rogue", "cpu", "guessed").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  grpc::Status gpu = rogue.Register("rogue", "gpu", token);
  EXPECT_EQ(gpu.error_code(), grpc::StatusCode::PERMISSION_DENIED) << gpu.error_message();
  EXPECT_NE(gpu.error_message().find("does not allow 'gpu' devices"), std::string::npos) << gpu.error_message();
  EXPECT_TRUE(rogue.Register("rogue", "cpu", token).ok());
  CliResult agents = farm.Cli({"--json", "agents"});
  ASSERT_EQ(agents.exit_code, 0) << agents.output;
  std::map<std::string, std::string> admitted;
  const auto listed = nlohmann::json::parse(agents.output);
  for (const auto& agent : listed["agents"]) {
    admitted[agent.value("name", "")] = agent.value("admittedBy", "");
  }
  EXPECT_EQ(admitted["node-a"], "lab-cpu") << agents.output;
  EXPECT_EQ(admitted["rogue"], "lab-cpu");

  for (const char* file : {"/coordinator.log", "/agent-node-a.log", "/gauntlet.db", "/gauntlet.db-wal"}) {
    EXPECT_EQ(ReadFile(farm.dir() + file).find(token), std::string::npos) << file << " holds the token";
  }
}

TEST(AgentAuthTest, ARevokedAgentsRunningJobRunsElsewhereAndItsCallsAreRefused) {
  Farm farm("agent-auth-revoke");
  farm.StartCoordinator();
  farm.StartAgent("node-a", "cpu:1");
  const int64_t sweep = farm.Submit(HoldOnce(farm.dir()));
  const v1::Job running = RunningJob(farm, sweep);
  ASSERT_EQ(running.agent(), "node-a");
  farm.StartAgent("node-b", "cpu:1");
  ASSERT_TRUE(Farm::WaitUntil([&] { return farm.Cli({"agents"}).output.find("node-b") != std::string::npos; }));

  CliResult revoked = farm.Cli({"agents", "revoke", "node-a"});
  ASSERT_EQ(revoked.exit_code, 0) << revoked.output;
  EXPECT_NE(revoked.output.find("re-run elsewhere"), std::string::npos) << revoked.output;
  const v1::Sweep done = farm.WaitForSweep(sweep);
  EXPECT_TRUE(done.succeeded());
  const v1::Job job = farm.Job(running.id());
  ASSERT_EQ(job.attempts_size(), 2);
  EXPECT_EQ(job.attempts(0).state(), v1::ATTEMPT_STATE_LOST);
  EXPECT_NE(job.attempts(0).reason().find("revoked"), std::string::npos) << job.attempts(0).reason();
  EXPECT_EQ(job.attempts(1).agent(), "node-b");
  EXPECT_NE(farm.Cli({"agents"}).output.find("revoked"), std::string::npos);
  // node-a's own calls now fail, and registering again is refused.
  ASSERT_TRUE(Farm::WaitUntil([&] {
    return farm.AgentLog("node-a").find("was revoked") != std::string::npos;
  })) << farm.AgentLog("node-a");
  CliResult undo = farm.Cli({"agents", "revoke", "node-a", "--undo"});
  ASSERT_EQ(undo.exit_code, 0) << undo.output;
  ASSERT_TRUE(Farm::WaitUntil([&] {
    auto agents = farm.Cli({"agents"}).output;
    auto row = agents.find("node-a");
    return row != std::string::npos && agents.find(" up ", row) < agents.find('\n', row);
  })) << "after --undo it registers again";
}

// Each attempt's uploads carry its own job token: another attempt's token,
// none, or its own after the attempt ended are all refused, even from the
// agent that holds both leases.
TEST(AgentAuthTest, AJobTokenUploadsOnlyForItsOwnAttemptAndOnlyWhileItRuns) {
  Farm farm("agent-auth-job-tokens");
  farm.StartCoordinator();
  RawAgent hand(farm.address());
  ASSERT_TRUE(hand.Register("hand", "cpu", "", /*devices=*/2).ok());
  farm.Submit("name: two\njobs: [{name: a, kind: exec, command: \"true\"}, {name: b, kind: exec, command: \"true\"}]");
  std::map<int64_t, std::string> token_of;
  ASSERT_TRUE(Farm::WaitUntil([&] {
    v1::HeartbeatResponse reply;
    EXPECT_TRUE(hand.Poll("hand", &reply).ok());
    for (const auto& assignment : reply.assignments()) token_of[assignment.attempt_id()] = assignment.job_token();
    return token_of.size() == 2;
  })) << "both jobs were assigned to the hand-driven agent";
  const auto [first, first_token] = *token_of.begin();
  const auto [second, second_token] = *token_of.rbegin();
  ASSERT_EQ(first_token.size(), 64u);
  ASSERT_NE(first_token, second_token);

  grpc::Status crossed = hand.UploadLog(first, second_token);
  EXPECT_EQ(crossed.error_code(), grpc::StatusCode::PERMISSION_DENIED) << crossed.error_message();
  EXPECT_NE(crossed.error_message().find("job token"), std::string::npos) << crossed.error_message();
  EXPECT_EQ(hand.UploadLog(first).error_code(), grpc::StatusCode::PERMISSION_DENIED) << "no job token at all";
  grpc::Status own = hand.UploadLog(first, first_token);
  EXPECT_TRUE(own.ok()) << own.error_message();

  ASSERT_TRUE(hand.Report(first, v1::ATTEMPT_STATE_RUNNING).ok());
  ASSERT_TRUE(hand.Report(first, v1::ATTEMPT_STATE_SUCCEEDED).ok());
  grpc::Status late = hand.UploadLog(first, first_token, /*offset=*/12);
  EXPECT_EQ(late.error_code(), grpc::StatusCode::PERMISSION_DENIED) << late.error_message();
  EXPECT_NE(late.error_message().find("has ended"), std::string::npos) << late.error_message();
  EXPECT_TRUE(hand.UploadLog(second, second_token).ok()) << "the other attempt still runs; its token works";

  const std::string written = EverythingWritten(farm.dir());
  EXPECT_EQ(written.find(first_token), std::string::npos) << "job tokens are derived, never stored or logged";
  EXPECT_EQ(written.find(second_token), std::string::npos);
}

// An agent started as root runs jobs as the user of --run-as: the job is
// that user, cannot read the agent's session file, and finds no
// registration token in its environment; folders that user cannot reach,
// root itself, and --run-as without root are refused at start.
TEST(AgentAuthTest, RunAsGivesJobsAnUnprivilegedUserAndNoneOfTheAgentsSecrets) {
  Farm farm("agent-auth-run-as");
  const std::string agent = Farm::BinDir() + "/gauntlet-agent";
  auto start = [&](const std::string& workdir, const std::string& user, const std::string& log) {
    return Farm::Run({agent, "--coordinator", "127.0.0.1:1", "--name", "x", "--devices", "cpu:1", "--workdir", workdir,
                      "--run-as", user},
                     farm.dir() + "/" + log + ".log");
  };
  if (::geteuid() != 0) {
    CliResult refused = start(farm.dir() + "/agent", "nobody", "not-root");
    EXPECT_EQ(refused.exit_code, 2) << refused.output;
    EXPECT_NE(refused.output.find("only an agent running as root"), std::string::npos) << refused.output;
    return;
  }
  const passwd* nobody = getpwnam("nobody");
  ASSERT_NE(nobody, nullptr) << "Debian has the user nobody";
  const std::string private_dir = farm.dir() + "/private";
  fs::create_directories(private_dir);
  fs::permissions(private_dir, fs::perms::owner_all);
  CliResult unreachable = start(private_dir + "/agent", "nobody", "unreachable");
  EXPECT_EQ(unreachable.exit_code, 2) << unreachable.output;
  EXPECT_NE(unreachable.output.find("user nobody cannot enter " + private_dir + " (mode 700)"), std::string::npos)
      << unreachable.output;
  CliResult as_root = start(farm.dir() + "/agent", "root", "as-root");
  EXPECT_EQ(as_root.exit_code, 2) << as_root.output;
  EXPECT_NE(as_root.output.find("--run-as root: is root"), std::string::npos) << as_root.output;

  farm.StartCoordinator();
  // Where nobody can reach it: the test folder may sit under root's home.
  char workdir_template[] = "/tmp/gauntlet-run-as-XXXXXX";
  ASSERT_NE(mkdtemp(workdir_template), nullptr);
  const std::string workdir = workdir_template;
  fs::permissions(workdir, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
  ::setenv("GAUNTLET_AGENT_TOKEN", "registration-secret-of-the-agent", 1);
  farm.StartAgent("node-a", "cpu:1", {"--run-as", "nobody", "--workdir", workdir});
  ::unsetenv("GAUNTLET_AGENT_TOKEN");
  const int64_t sweep = farm.Submit(
      "name: who\njobs: [{name: who, kind: exec, command: \"id -u; env | grep -c GAUNTLET_AGENT_TOKEN; cat " + workdir +
      "/session-node-a >/dev/null 2>&1 && echo SESSION-READ || echo SESSION-DENIED; echo $HOME; touch "
      "$GAUNTLET_OUT/made\"}]");
  const v1::Sweep done = farm.WaitForSweep(sweep);
  EXPECT_TRUE(done.succeeded()) << farm.AgentLog("node-a");
  const v1::Job job = farm.Jobs(sweep).at(0);
  CliResult log = farm.Cli({"logs", std::to_string(job.id())});
  EXPECT_NE(log.output.find(std::to_string(nobody->pw_uid) + "\n0\nSESSION-DENIED\n" + nobody->pw_dir),
            std::string::npos)
      << "runs as nobody, with nobody's HOME, no token and no way into the session: " << log.output;
  ASSERT_EQ(farm.Job(job.id()).artifacts_size(), 1) << "and wrote its output where the agent collects it";
  EXPECT_EQ(farm.Job(job.id()).artifacts(0).name(), "made");
  EXPECT_TRUE(fs::exists(workdir + "/session-node-a")) << "the session the job could not read is there";
  fs::remove_all(workdir);
}

// Guessing registration tokens is cut off per peer; an agent already in,
// on the same address, keeps its session and runs jobs.
TEST(AgentAuthTest, FailedRegistrationsAreLimitedWithoutStoppingLiveAgents) {
  Farm farm("agent-auth-guess-limit");
  const std::string token = "lab-registration-token-guessable";
  std::ofstream(farm.dir() + "/agent-tokens.yaml") << "- name: lab\n  token_sha256: " << Sha256Hex(token) << "\n";
  std::ofstream(farm.dir() + "/token") << token << "\n";
  fs::permissions(farm.dir() + "/token", fs::perms::owner_read | fs::perms::owner_write);
  farm.AddCoordinatorFlags({"--agent-tokens", farm.dir() + "/agent-tokens.yaml"});
  farm.StartCoordinator();
  farm.StartAgent("node-a", "cpu:1", {"--token-file", farm.dir() + "/token"});
  EXPECT_TRUE(farm.WaitForSweep(farm.Submit("name: a\njobs: [{name: a, kind: exec, command: \"true\"}]")).succeeded());

  RawAgent guesser(farm.address());
  int unauthenticated = 0;
  grpc::Status last;
  for (int guess = 0; guess < 30; ++guess) {
    last = guesser.Register("guesser", "cpu", "guess-" + std::to_string(guess));
    if (last.error_code() != grpc::StatusCode::UNAUTHENTICATED) break;
    ++unauthenticated;
  }
  EXPECT_EQ(unauthenticated, 20) << "twenty guesses a minute, then none checked";
  EXPECT_EQ(last.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << last.error_message();
  grpc::Status right = guesser.Register("guesser", "cpu", token);
  EXPECT_EQ(right.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << "even the right token is not checked now";
  EXPECT_TRUE(farm.WaitForSweep(farm.Submit("name: b\njobs: [{name: b, kind: exec, command: \"true\"}]")).succeeded())
      << "node-a, on the same address, still heartbeats and runs jobs";
}

}  // namespace
}  // namespace gauntlet::testing
