#include "cli/client.h"

#include <ctime>
#include <iostream>

#include <google/protobuf/util/json_util.h>

#include "lib/jobs/job_state.h"
#include "lib/rpc/credentials.h"
#include "lib/rpc/message_policy.h"
#include "lib/rpc/tls.h"

namespace gauntlet::cli {

namespace {

// One process, one caller: the token is the command line's, set once by Connect.
std::string& CallToken() {
  static std::string token;
  return token;
}

}  // namespace

std::unique_ptr<v1::ControlService::Stub> Connect(const Globals& globals) {
  CallToken() = globals.token;
  auto credentials = globals.credentials ? globals.credentials : grpc::InsecureChannelCredentials();
  return v1::ControlService::NewStub(grpc::CreateCustomChannel(globals.coordinator, credentials, rpc::ChannelArguments()));
}

bool LoadCredentials(Globals* globals) {
  auto credentials = rpc::ClientCredentials(globals->tls);
  if (!credentials) {
    std::cerr << "error: " << credentials.error().message() << "\n";
    return false;
  }
  globals->credentials = std::move(*credentials);
  return true;
}

std::unique_ptr<grpc::ClientContext> Context(int seconds) {
  auto context = std::make_unique<grpc::ClientContext>();
  if (!CallToken().empty()) context->AddMetadata(rpc::kAuthorizationKey, rpc::BearerHeader(CallToken()));
  if (seconds > 0) context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
  return context;
}

int Fail(const Globals& globals, const grpc::Status& status) {
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
    std::cerr << "error: cannot reach the coordinator at " << globals.coordinator << " (" << status.error_message()
              << "); start it, or point --coordinator / GAUNTLET_COORDINATOR at it\n";
    return kExitFailed;
  }
  std::cerr << "error: " << status.error_message() << "\n";
  return status.error_code() == grpc::StatusCode::INVALID_ARGUMENT ? kExitUsage : kExitFailed;
}

void PrintJson(const google::protobuf::Message& message) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.always_print_primitive_fields = true;
  (void)google::protobuf::util::MessageToJsonString(message, &out, options);
  std::cout << out;
}

std::string Counts(const v1::Sweep& sweep) {
  std::string out;
  for (const char* name : {"JOB_STATE_SUCCEEDED", "JOB_STATE_CACHED", "JOB_STATE_FAILED", "JOB_STATE_RUNNING",
                           "JOB_STATE_LEASED", "JOB_STATE_READY", "JOB_STATE_PENDING", "JOB_STATE_SKIPPED",
                           "JOB_STATE_CANCELLED"}) {
    auto found = sweep.jobs_by_state().find(name);
    if (found == sweep.jobs_by_state().end() || found->second == 0) continue;
    v1::JobState state = v1::JOB_STATE_UNSPECIFIED;
    v1::JobState_Parse(name, &state);
    out += (out.empty() ? "" : " ") + jobs::JobStateName(state) + "=" + std::to_string(found->second);
  }
  return out;
}

std::string SweepStatus(const v1::Sweep& sweep) {
  switch (jobs::OutcomeOf(sweep)) {
    case jobs::SweepOutcome::kRunning: return "running";
    case jobs::SweepOutcome::kSucceeded: return "succeeded";
    case jobs::SweepOutcome::kCancelled: return "cancelled";
    case jobs::SweepOutcome::kFailed: break;
  }
  return "failed";
}

std::string FormatUtc(int64_t ms) {
  if (ms == 0) return "";
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M UTC", &utc);
  return text;
}

}  // namespace gauntlet::cli
