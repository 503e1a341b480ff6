#include "agent/session.h"

#include <chrono>

#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

#include "agent/constants.h"
#include "agent/disk_inventory.h"
#include "lib/rpc/message_policy.h"

namespace gauntlet::agent {

using constants::kInitialBackoffMs;
using constants::kMaxBackoffMs;

Session::Session(AgentConfig config) : config_(std::move(config)) {
  grpc::ChannelArguments args = rpc::ChannelArguments();
  // Reconnect quickly after a coordinator restart instead of gRPC's default
  // backoff of up to two minutes.
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, kMaxBackoffMs);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, kInitialBackoffMs);
  auto credentials = config_.channel_credentials ? config_.channel_credentials : grpc::InsecureChannelCredentials();
  auto channel = grpc::CreateCustomChannel(config_.coordinator, credentials, args);
  stub_ = v1::AgentService::NewStub(channel);
}

Session::Session(AgentConfig config, std::unique_ptr<v1::AgentService::StubInterface> stub)
    : config_(std::move(config)), stub_(std::move(stub)) {}

Session::~Session() {
  stopping_ = true;
  std::lock_guard lock(mu_);
  for (auto& [id, running] : running_) {
    running.runner->Cancel();
    if (running.thread.joinable()) running.thread.join();
  }
}

std::vector<int64_t> Session::LiveAttempts() {
  std::lock_guard lock(mu_);
  std::vector<int64_t> ids;
  for (const auto& [id, running] : running_) {
    if (!running.runner->done()) ids.push_back(id);
  }
  return ids;
}

bool Session::Register() {
  v1::RegisterRequest request;
  request.set_name(config_.name);
  request.set_version(config_.version);
  for (const auto& device : config_.devices) *request.add_devices() = device;
  for (const auto& tag : config_.tags) request.add_tags(tag);
  for (const auto& suite : config_.suites) request.add_suites(suite);
  for (int64_t id : LiveAttempts()) request.add_running_attempts(id);
  inventory_ = ScanInventory(config_.model_roots, config_.dataset_roots);
  scanned_at_ = std::chrono::steady_clock::now();
  *request.mutable_inventory() = inventory_;
  grpc::ClientContext context;
  if (config_.credential) config_.credential->Attach(&context, /*registering=*/true);
  // Wait for the channel to (re)connect rather than failing fast while the
  // coordinator restarts.
  context.set_wait_for_ready(true);
  context.set_deadline(std::chrono::system_clock::now() + constants::kRegisterTimeout);
  v1::RegisterResponse reply;
  grpc::Status status = stub_->Register(&context, request, &reply);
  if (!status.ok()) {
    spdlog::warn("register with {} failed: {}", config_.coordinator, status.error_message());
    if (status.error_code() == grpc::StatusCode::PERMISSION_DENIED ||
        status.error_code() == grpc::StatusCode::UNAUTHENTICATED) {
      // Revoked, or the name is another's now: what runs here can never be
      // reported, and the coordinator has given it to another agent.
      std::lock_guard lock(mu_);
      for (auto& [id, running] : running_) {
        if (!running.runner->done()) spdlog::warn("attempt {}: stopped, this agent may not report it", id);
        running.runner->Cancel();
      }
    }
    return false;
  }
  if (config_.credential) config_.credential->SetSession(reply.session());
  spdlog::info("registered with {} as {} ({} devices, lease ttl {} ms)", config_.coordinator, config_.name,
               config_.devices.size(), reply.lease_ttl_ms());
  // Heartbeat well within the lease so one slow call never loses it.
  config_.poll_ms = std::min<int64_t>(config_.poll_ms, std::max<int64_t>(reply.lease_ttl_ms() / 3, 100));
  return true;
}

bool Session::InventoryChanged() {
  if (config_.model_roots.empty() && config_.dataset_roots.empty()) return false;
  if (std::chrono::steady_clock::now() - scanned_at_ < constants::kInventoryRescan) return false;
  scanned_at_ = std::chrono::steady_clock::now();
  return !SameInventory(ScanInventory(config_.model_roots, config_.dataset_roots), inventory_);
}

void Session::Apply(const v1::HeartbeatResponse& response) {
  std::lock_guard lock(mu_);
  for (const auto& assignment : response.assignments()) {
    if (running_.contains(assignment.attempt_id())) continue;
    auto runner = std::make_unique<AttemptRunner>(config_, *stub_, assignment, stopping_);
    AttemptRunner* raw = runner.get();
    Running& slot = running_[assignment.attempt_id()];
    slot.runner = std::move(runner);
    slot.thread = std::thread([raw] { raw->Run(); });
  }
  for (int64_t id : response.cancel_attempts()) {
    auto found = running_.find(id);
    if (found != running_.end()) {
      spdlog::info("attempt {}: cancelled by the coordinator", id);
      found->second.runner->Cancel();
    }
  }
}

void Session::ReapFinished() {
  std::lock_guard lock(mu_);
  for (auto it = running_.begin(); it != running_.end();) {
    if (it->second.runner->done()) {
      it->second.thread.join();
      it = running_.erase(it);
    } else {
      ++it;
    }
  }
}

void Session::Run(const std::atomic<bool>& stop) {
  int backoff_ms = kInitialBackoffMs;
  bool registered = false;
  while (!stop) {
    if (!registered) {
      registered = Register();
      if (!registered) {
        std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms));
        backoff_ms = std::min(backoff_ms * 2, kMaxBackoffMs);
        continue;
      }
    }
    v1::HeartbeatRequest request;
    request.set_name(config_.name);
    request.set_wait_ms(config_.poll_ms);
    for (int64_t id : LiveAttempts()) request.add_running_attempts(id);
    grpc::ClientContext context;
    if (config_.credential) config_.credential->Attach(&context);
    context.set_wait_for_ready(true);
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(config_.poll_ms + constants::kHeartbeatGraceMs));
    v1::HeartbeatResponse response;
    grpc::Status status = stub_->Heartbeat(&context, request, &response);
    if (!status.ok()) {
      spdlog::warn("heartbeat failed: {}; retrying in {} ms", status.error_message(), backoff_ms);
      std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms));
      backoff_ms = std::min(backoff_ms * 2, kMaxBackoffMs);
      // After an outage, register again so the coordinator hears of every
      // attempt still running here.
      registered = false;
      continue;
    }
    backoff_ms = kInitialBackoffMs;
    if (response.register_again()) {
      registered = false;
      continue;
    }
    Apply(response);
    ReapFinished();
    // The same session registers again: nothing running is lost.
    if (InventoryChanged()) registered = false;
  }
  stopping_ = true;
}

}  // namespace gauntlet::agent
