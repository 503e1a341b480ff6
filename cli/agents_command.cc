// `gauntlet agents`: the agents, their devices and the health of each;
// `agents revoke`, and an admin's `agents heal` / `agents check` for
// devices out of service.
#include <chrono>
#include <iostream>

#include "cli/commands.h"
#include "cli/table.h"

namespace gauntlet::cli {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// "ok", or each device out of service with why and since when.
std::string HealthText(const v1::Agent& agent, int64_t now_ms) {
  std::string text;
  int counting = 0;
  for (const auto& device : agent.devices()) {
    if (device.health().empty() || device.health() == "healthy") {
      counting += device.failures_in_row() > 0;
      continue;
    }
    text += (text.empty() ? "" : "; ") + std::string("device ") + std::to_string(device.index()) + " " +
            device.health() + " " + std::to_string((now_ms - device.unhealthy_since_ms()) / 1000) + "s: " +
            device.health_reason();
    if (device.health_check_job() != 0) text += " (check job " + std::to_string(device.health_check_job()) + ")";
  }
  if (!text.empty()) return text;
  return counting == 0 ? "ok" : "ok (" + std::to_string(counting) + " devices failing)";
}

}  // namespace

int ListAgents(const Globals& globals) {
  auto stub = Connect(globals);
  v1::ListAgentsResponse reply;
  grpc::Status status = stub->ListAgents(Context().get(), v1::ListAgentsRequest(), &reply);
  if (auto done = FailedOrPrintedJson(globals, status, reply)) return *done;
  Table table({"AGENT", "STATE", "DEVICES", "BUSY", "LAST HEARTBEAT", "HEALTH"});
  const int64_t now = NowMs();
  for (const auto& agent : reply.agents()) {
    int busy = 0;
    std::string kinds;
    for (const auto& device : agent.devices()) {
      busy += device.held_by_attempt() != 0;
      if (kinds.find(device.kind()) == std::string::npos) kinds += (kinds.empty() ? "" : ",") + device.kind();
    }
    std::string state = agent.revoked_at_ms() ? "revoked" : !agent.alive() ? "down" : agent.drained() ? "drained" : "up";
    table.Add({agent.name(), state, std::to_string(agent.devices_size()) + " " + kinds, std::to_string(busy),
               std::to_string((now - agent.last_heartbeat_ms()) / 1000) + "s ago", HealthText(agent, now)});
  }
  table.Print(std::cout);
  return 0;
}

int RevokeAgent(const Globals& globals, const std::string& name, bool undo) {
  auto stub = Connect(globals);
  v1::RevokeAgentRequest request;
  request.set_name(name);
  request.set_undo(undo);
  v1::Agent reply;
  grpc::Status rpc = stub->RevokeAgent(Context().get(), request, &reply);
  if (auto done = FailedOrPrintedJson(globals, rpc, reply)) return *done;
  std::cout << "agent " << reply.name()
            << (reply.revoked_at_ms() ? " revoked: its session is over and its running jobs re-run elsewhere"
                                      : " may register again")
            << "\n";
  return 0;
}

int SetDeviceHealth(const Globals& globals, const std::string& agent, int device_index, bool heal) {
  auto stub = Connect(globals);
  v1::SetDeviceHealthRequest request;
  request.set_agent(agent);
  request.set_device_index(device_index);
  request.set_action(heal ? v1::SetDeviceHealthRequest::ACTION_HEAL : v1::SetDeviceHealthRequest::ACTION_CHECK);
  v1::Agent reply;
  grpc::Status rpc = stub->SetDeviceHealth(Context().get(), request, &reply);
  if (auto done = FailedOrPrintedJson(globals, rpc, reply)) return *done;
  for (const auto& device : reply.devices()) {
    if (device_index >= 0 && device.index() != device_index) continue;
    std::cout << "agent " << reply.name() << " device " << device.index() << ": " << device.health();
    if (device.health_check_job() != 0) std::cout << ", health check job " << device.health_check_job();
    std::cout << "\n";
  }
  return 0;
}

}  // namespace gauntlet::cli
