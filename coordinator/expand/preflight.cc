#include "coordinator/expand/preflight.h"

#include <algorithm>
#include <filesystem>
#include <set>
#include <tuple>

namespace gauntlet::expand {
namespace {

// One path a stage reads, and who could run that stage.
struct Need {
  bool model = true;  // Else a dataset.
  std::string path;
  std::string kind;
  std::vector<std::string> tags;
  bool operator<(const Need& other) const {
    return std::tie(model, path, kind, tags) < std::tie(other.model, other.path, other.kind, other.tags);
  }
};

std::string Normal(const std::string& path) {
  std::string normal = std::filesystem::path(path).lexically_normal().string();
  while (normal.size() > 1 && normal.back() == '/') normal.pop_back();
  return normal;
}

bool Under(const std::string& path, const std::vector<std::string>& roots) {
  return std::any_of(roots.begin(), roots.end(), [&](const std::string& root) {
    const std::string normal = Normal(root);
    return path.size() > normal.size() && path.compare(0, normal.size(), normal) == 0 && path[normal.size()] == '/';
  });
}

bool Runs(const AgentFacts& agent, const Need& need) {
  const bool kind = need.kind.empty() || std::find(agent.kinds.begin(), agent.kinds.end(), need.kind) != agent.kinds.end();
  return kind && std::all_of(need.tags.begin(), need.tags.end(), [&](const std::string& tag) {
           return std::find(agent.tags.begin(), agent.tags.end(), tag) != agent.tags.end();
         });
}

std::string Field(const spec::SweepSpec& spec, const Need& need) {
  if (need.model) {
    for (size_t i = 0; i < spec.models.size(); ++i) {
      if (Normal(spec.models[i].variant) == need.path) return "models[" + std::to_string(i) + "].variant";
    }
    return "models.variant";
  }
  for (size_t i = 0; i < spec.datasets.size(); ++i) {
    if (Normal(spec.datasets[i].path) == need.path) return "datasets[" + std::to_string(i) + "].path";
  }
  return "datasets.path";
}

std::string Holdings(const std::vector<const AgentFacts*>& agents, bool model) {
  std::string out;
  int shown = 0;
  for (const AgentFacts* agent : agents) {
    const auto& held = model ? agent->models : agent->datasets;
    for (const auto& path : held) {
      if (shown++ == 3) return out + ", ...";
      out += (out.empty() ? "" : ", ") + agent->name + ":" + path;
    }
  }
  return out.empty() ? "nothing" : out;
}

}  // namespace

PreflightReport Preflight(const spec::SweepSpec& spec, const SweepPlan& plan, const std::vector<AgentFacts>& agents) {
  PreflightReport report;
  if (agents.empty()) return report;  // Nothing to check against; the jobs wait for agents.
  std::set<Need> needs;
  for (const auto& job : plan.jobs) {
    if (job.stage.empty() || job.kind != spec::JobKind::kWorker) continue;
    const nlohmann::json params = job.spec().value("params", nlohmann::json::object());
    // Only paths: a hub id is fetched by whoever runs it.
    if (params.contains("model") && params["model"].is_string()) {
      const std::string model = params["model"];
      if (!model.empty() && model.front() == '/') needs.insert({true, Normal(model), job.device_kind, job.tags});
    }
    if (params.contains("dataset") && params["dataset"].is_object() && params["dataset"].contains("path") &&
        params["dataset"]["path"].is_string()) {
      const std::string path = params["dataset"]["path"];
      if (!path.empty() && path.front() == '/') needs.insert({false, Normal(path), job.device_kind, job.tags});
    }
  }
  std::set<std::string> said;
  for (const Need& need : needs) {
    std::vector<const AgentFacts*> able, reporting;
    for (const auto& agent : agents) {
      if (!Runs(agent, need)) continue;
      able.push_back(&agent);
      // Only a path under a folder an agent scanned can be missing there: it
      // may hold other paths it was never asked to report.
      if (Under(need.path, need.model ? agent.model_roots : agent.dataset_roots)) reporting.push_back(&agent);
    }
    const std::string field = Field(spec, need);
    const std::string what = need.model ? "model folders" : "datasets";
    const std::string who = need.kind.empty() ? "agents" : "agents of kind '" + need.kind + "'";
    if (able.empty()) continue;  // The device-kind check says so.
    if (reporting.empty()) {
      if (said.insert(field + "?").second) {
        report.notes.push_back(field + ": '" + need.path + "' not checked: it is under no folder that an agent able "
                               "to run it reports its " + what + " from (gauntlet-agent --" +
                               (need.model ? "models" : "datasets") + " DIR)");
      }
      continue;
    }
    bool found = false, truncated = false;
    for (const AgentFacts* agent : reporting) {
      const auto& held = need.model ? agent->models : agent->datasets;
      found = found || std::find(held.begin(), held.end(), need.path) != held.end();
      truncated = truncated || agent->truncated;
    }
    if (found || !said.insert(field).second) continue;
    if (truncated) {
      report.notes.push_back(field + ": '" + need.path + "' not found, but an agent holds more than it reports");
      continue;
    }
    report.problems.push_back(field + ": '" + need.path + "' is on no agent that could run it (" + who +
                              " hold: " + Holdings(reporting, need.model) + "); copy it there, fix the path, or "
                              "submit with --no-preflight");
  }
  return report;
}

}  // namespace gauntlet::expand
