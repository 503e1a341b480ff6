#include "coordinator/core/device_health.h"

#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>

#include "lib/jobs/job_state.h"

namespace gauntlet::core {
namespace {

constexpr const char* kDefaultHealthCheck = "name: health-check\nkind: worker\nsuite: selftest\n";

sched::DeviceOutcome OutcomeOf(v1::AttemptState state, v1::FailureClass failure_class) {
  if (state == v1::ATTEMPT_STATE_SUCCEEDED) return sched::DeviceOutcome::kRan;
  if (state != v1::ATTEMPT_STATE_FAILED) return sched::DeviceOutcome::kNeutral;
  switch (failure_class) {
    case v1::FAILURE_CLASS_INFRASTRUCTURE: return sched::DeviceOutcome::kInfrastructure;
    case v1::FAILURE_CLASS_VERDICT: return sched::DeviceOutcome::kRan;  // It ran to a verdict.
    default: return sched::DeviceOutcome::kNeutral;
  }
}

sched::DeviceHealth HealthOf(const Farm& farm, const std::string& agent, int index) {
  auto found = farm.device_health.find({agent, index});
  return found == farm.device_health.end() ? sched::DeviceHealth{} : found->second;
}

// Stores a change and queues it for memory once the operation succeeds.
Status PutRow(Farm& farm, Batch& batch, const std::string& agent, int index, const sched::DeviceHealth& health) {
  store::DeviceHealthRow row{agent, index, health};
  GAUNTLET_RETURN_IF_ERROR(farm.store.PutDeviceHealth(row));
  batch.pending().device_health.push_back(std::move(row));
  return Status::Ok();
}

std::string DeviceName(const std::string& agent, int index) { return agent + " device " + std::to_string(index); }

}  // namespace

Status RecordDeviceOutcome(Farm& farm, Batch& batch, const store::AttemptRow& attempt, v1::AttemptState state,
                           v1::FailureClass failure_class, const std::string& reason) {
  if (!jobs::IsTerminal(state)) return Status::Ok();
  const int64_t now = farm.clock.NowMs();
  const sched::HealthPolicy policy{farm.options.unhealthy_after};
  for (int index : attempt.device_indices) {
    const sched::DeviceHealth before = HealthOf(farm, attempt.agent, index);
    const sched::DeviceHealth after =
        attempt.health_check
            ? sched::AfterHealthCheck(before, state == v1::ATTEMPT_STATE_SUCCEEDED, attempt.job_id, reason)
            : sched::AfterAttempt(before, OutcomeOf(state, failure_class), policy, reason, attempt.sweep_id, now);
    if (before == after) continue;
    GAUNTLET_RETURN_IF_ERROR(PutRow(farm, batch, attempt.agent, index, after));
    if (before.in_service() == after.in_service() && before.state == after.state) continue;
    const std::string text = sched::HealthText(after);
    const std::string message =
        DeviceName(attempt.agent, index) + " " + sched::HealthStateName(after.state) + (text.empty() ? "" : ": " + text);
    GAUNTLET_RETURN_IF_ERROR(farm.store.AddEvent(now, attempt.sweep_id, attempt.job_id, attempt.id, "health", message));
    if (after.in_service()) {
      spdlog::info("{}", message);
    } else {
      spdlog::warn("{}", message);
    }
  }
  return Status::Ok();
}

void DescribeHealth(const Farm& farm, v1::Agent* agent) {
  for (auto& device : *agent->mutable_devices()) {
    const sched::DeviceHealth health = HealthOf(farm, agent->name(), device.index());
    device.set_health(sched::HealthStateName(health.state));
    device.set_health_reason(sched::HealthText(health));
    device.set_unhealthy_since_ms(health.in_service() ? 0 : health.since_ms);
    device.set_failures_in_row(health.failures_in_row);
    device.set_health_check_job(health.check_job_id);
  }
}

Status HealthManager::Recover() {
  GAUNTLET_ASSIGN_OR_RETURN(auto rows, farm_.store.DeviceHealthRows());
  for (const auto& row : rows) farm_.device_health[{row.agent, row.index}] = row.health;
  return Status::Ok();
}

Status HealthManager::Put(const std::string& agent, int index, const sched::DeviceHealth& health) {
  return PutRow(farm_, batch_, agent, index, health);
}

Status HealthManager::StartCheck(const std::string& agent, int index, const sched::DeviceHealth& health) {
  std::string kind;
  for (const auto& node : farm_.cluster.Nodes()) {
    if (node.name != agent) continue;
    for (const auto& device : node.devices) {
      if (device.index == index) kind = device.kind;
    }
  }
  std::string job_yaml;
  if (health.source_sweep_id != 0) {
    GAUNTLET_ASSIGN_OR_RETURN(job_yaml, farm_.store.SweepHealthCheck(health.source_sweep_id));
  }
  if (job_yaml.empty()) job_yaml = kDefaultHealthCheck;
  // The check is a sweep of one job, submitted like any other (so it shows
  // on the board with its log), then pinned to the device it checks.
  YAML::Node job = YAML::Load(job_yaml);
  job["devices"] = 1;
  if (!kind.empty()) job["device_kind"] = kind;
  job["max_attempts"] = 1;
  YAML::Node root;
  root["name"] = "health-check." + agent + "." + std::to_string(index);
  root["priority"] = 1000;
  root["jobs"].push_back(job);
  YAML::Emitter out;
  out << root;
  v1::SubmitSweepRequest request;
  request.set_spec_text(out.c_str());
  request.set_source("health check of " + DeviceName(agent, index));
  sched::DeviceHealth next = health;
  auto prepared = sweeps_.Prepare(request);
  if (prepared) {
    for (auto& planned : prepared->plan.jobs) {
      planned.pin_node = agent;
      planned.pin_devices = {index};
    }
    auto submitted = sweeps_.Submit(request, *prepared, [&](int64_t sweep_id) -> Status {
      GAUNTLET_ASSIGN_OR_RETURN(auto page, farm_.store.ListJobs(sweep_id, v1::JOB_STATE_UNSPECIFIED, 1));
      if (page.empty()) return Status::Internal("the health check's sweep has no job");
      next.check_job_id = page.front().id();
      return Put(agent, index, next);
    });
    if (submitted) {
      spdlog::info("health check job {} runs on {}", next.check_job_id, DeviceName(agent, index));
      return Status::Ok();
    }
    prepared = Err(submitted.error());
  }
  // A check that cannot even be submitted (its suite unknown, its spec
  // refused) would be tried again every pass: an admin decides instead.
  next.state = sched::HealthState::kCheckFailed;
  next.last_check = "its health check cannot run: " + prepared.error().message();
  spdlog::warn("{}: {}", DeviceName(agent, index), next.last_check);
  GAUNTLET_RETURN_IF_ERROR(batch_.Run([&] { return Put(agent, index, next); }));
  return batch_.Durable();
}

void HealthManager::StartDueChecks() {
  std::vector<std::pair<std::pair<std::string, int>, sched::DeviceHealth>> due;
  for (const auto& [key, health] : farm_.device_health) {
    if (sched::NeedsCheck(health) && farm_.cluster.HasNode(key.first)) due.emplace_back(key, health);
  }
  for (const auto& [key, health] : due) {
    if (Status status = StartCheck(key.first, key.second, health); !status.ok()) {
      spdlog::error("cannot start the health check of {}, will retry: {}", DeviceName(key.first, key.second),
                    status.ToString());
    }
  }
}

StatusOr<v1::Agent> HealthManager::SetDeviceHealth(const v1::SetDeviceHealthRequest& request) {
  if (request.action() == v1::SetDeviceHealthRequest::ACTION_UNSPECIFIED) {
    return Err(Status::InvalidArgument("device health: name an action, heal or check"));
  }
  std::vector<int> indices;
  for (const auto& node : farm_.cluster.Nodes()) {
    if (node.name != request.agent()) continue;
    for (const auto& device : node.devices) {
      if (request.device_index() < 0 || device.index == request.device_index()) indices.push_back(device.index);
    }
  }
  if (!farm_.cluster.HasNode(request.agent())) {
    return Err(Status::NotFound("no agent '" + request.agent() + "'; 'gauntlet agents' lists them"));
  }
  if (indices.empty()) {
    return Err(Status::NotFound("agent " + request.agent() + " has no device " +
                                std::to_string(request.device_index()) + "; 'gauntlet agents' lists its devices"));
  }
  const int64_t now = farm_.clock.NowMs();
  const bool heal = request.action() == v1::SetDeviceHealthRequest::ACTION_HEAL;
  GAUNTLET_RETURN_IF_ERROR(batch_.Run([&]() -> Status {
    for (int index : indices) {
      const sched::DeviceHealth before = HealthOf(farm_, request.agent(), index);
      const sched::DeviceHealth after = heal ? sched::Healed(before) : sched::CheckRequested(before, now);
      GAUNTLET_RETURN_IF_ERROR(Put(request.agent(), index, after));
      GAUNTLET_RETURN_IF_ERROR(farm_.store.AddEvent(now, 0, 0, 0, "health",
                                                    DeviceName(request.agent(), index) +
                                                        (heal ? " returned to service by an admin"
                                                              : " out of service for a health check an admin asked for")));
    }
    return Status::Ok();
  }));
  GAUNTLET_RETURN_IF_ERROR(batch_.Durable());
  if (!heal) StartDueChecks();
  GAUNTLET_ASSIGN_OR_RETURN(auto agents, farm_.store.ListAgents(0));
  for (auto& agent : agents) {
    if (agent.name() != request.agent()) continue;
    agent.set_alive(farm_.Alive(agent.name()));
    DescribeHealth(farm_, &agent);
    return agent;
  }
  return Err(Status::NotFound("agent '" + request.agent() + "' vanished"));
}

}  // namespace gauntlet::core
