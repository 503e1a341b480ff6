// Agents: nodes, their devices and which job holds each, devices out of
// service with why, and drain, heal and check buttons (plain forms, so they
// work without JavaScript).
#include "coordinator/api/board/html.h"
#include "coordinator/api/board/pages.h"

namespace gauntlet::board {
namespace {

std::string HealthCell(const v1::Agent& agent, int64_t now_ms) {
  std::string out;
  for (const auto& device : agent.devices()) {
    if (device.health().empty() || device.health() == "healthy") continue;
    const std::string base = "/agents/" + UrlEncode(agent.name()) + "/devices/" + std::to_string(device.index());
    out += "<div class=unhealthy data-device=" + std::to_string(device.index()) + "><span class=fail>" +
           Escape(device.kind()) + std::to_string(device.index()) + " " + Escape(device.health()) + "</span> for " +
           std::to_string((now_ms - device.unhealthy_since_ms()) / 1000) + "s: " + Escape(device.health_reason());
    if (device.health_check_job() != 0) {
      const std::string job = std::to_string(device.health_check_job());
      out += " <a href=\"/jobs/" + job + "\">check job " + job + "</a>";
    }
    out += " <form class=inline method=post action=\"" + base + "/heal\"><button>heal</button></form>"
           "<form class=inline method=post action=\"" + base + "/check\"><button>check again</button></form></div>";
  }
  return out.empty() ? "<span class=pass>ok</span>" : out;
}

}  // namespace

std::string RenderAgents(const std::vector<v1::Agent>& agents, const std::map<int64_t, v1::Job>& jobs_by_attempt,
                         int64_t now_ms) {
  std::string body = "<h1>Agents</h1>";
  if (agents.empty()) return body + "<p class=empty>No agent has registered. Start one: <code>gauntlet-agent "
                                    "--coordinator HOST:PORT --devices gpu:8</code></p>";
  body += "<table class=list id=agents><thead><tr><th>agent</th><th>state</th><th>tags</th><th>last heartbeat</th>"
          "<th>devices</th><th>health</th><th></th></tr></thead><tbody>";
  for (const auto& agent : agents) {
    std::string state = !agent.alive() ? "<span class=fail>down</span>"
                        : agent.drained() ? "<span class=notrun>drained</span>"
                                          : "<span class=pass>up</span>";
    std::string tags;
    for (const auto& tag : agent.tags()) tags += "<span class=tag>" + Escape(tag) + "</span> ";
    std::string devices;
    for (const auto& device : agent.devices()) {
      const bool out_of_service = !device.health().empty() && device.health() != "healthy";
      devices += "<span class=\"device" + std::string(device.held_by_attempt() ? " busy" : "") +
                 (out_of_service ? " out" : "") + "\">" +
                 Escape(device.kind()) + std::to_string(device.index());
      auto holder = jobs_by_attempt.find(device.held_by_attempt());
      if (holder != jobs_by_attempt.end()) {
        devices += ": <a href=\"/jobs/" + std::to_string(holder->second.id()) + "\">" + Escape(holder->second.name()) +
                   "</a>";
      }
      devices += "</span> ";
    }
    std::string action = agent.drained() ? "undrain" : "drain";
    body += "<tr><td class=name>" + Escape(agent.name()) + "</td><td>" + state + "</td><td>" + tags + "</td><td>" +
            std::to_string((now_ms - agent.last_heartbeat_ms()) / 1000) + "s ago</td><td class=devices>" + devices +
            "</td><td class=health>" + HealthCell(agent, now_ms) +
            "</td><td><form method=post action=\"/agents/" + UrlEncode(agent.name()) + "/" + action +
            "\"><button>" + action + "</button></form></td></tr>";
  }
  return body + "</tbody></table>";
}

}  // namespace gauntlet::board
