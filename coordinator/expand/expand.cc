#include "coordinator/expand/expand.h"

#include <algorithm>
#include <cassert>
#include <functional>
#include <regex>

#include "common/sha256.h"
#include "coordinator/expand/model_stages.h"

namespace gauntlet::expand {
namespace {

using Binding = std::map<std::string, nlohmann::json>;

std::string ValueText(const nlohmann::json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

std::string Substitute(const std::string& text, const Binding& binding) {
  if (text.find("${") == std::string::npos) return text;
  static const std::regex variable("\\$\\{([^}]*)\\}");
  std::string out;
  auto last = text.cbegin();
  for (auto it = std::sregex_iterator(text.begin(), text.end(), variable); it != std::sregex_iterator(); ++it) {
    out.append(last, (*it)[0].first);
    auto found = binding.find((*it)[1]);
    assert(found != binding.end() && "the parser checks every variable");
    out += ValueText(found->second);
    last = (*it)[0].second;
  }
  out.append(last, text.cend());
  return out;
}

// A string that is exactly "${var}" takes the value with its type, so
// `n: ${size}` stays a number.
nlohmann::json SubstituteJson(const nlohmann::json& value, const Binding& binding) {
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    if (text.size() > 3 && text.starts_with("${") && text.back() == '}' &&
        text.find('}') == text.size() - 1) {
      auto found = binding.find(text.substr(2, text.size() - 3));
      if (found != binding.end()) return found->second;
    }
    return Substitute(text, binding);
  }
  if (value.is_object()) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [key, item] : value.items()) out[key] = SubstituteJson(item, binding);
    return out;
  }
  if (value.is_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& item : value) out.push_back(SubstituteJson(item, binding));
    return out;
  }
  return value;
}

// Every combination of the matrix, first variable slowest.
std::vector<Binding> Combinations(const spec::JobTemplate& job) {
  std::vector<Binding> out(1);
  for (const auto& [variable, values] : job.matrix) {
    std::vector<Binding> next;
    next.reserve(out.size() * values.size());
    for (const auto& partial : out) {
      for (const auto& value : values) {
        Binding binding = partial;
        binding[variable] = value;
        next.push_back(std::move(binding));
      }
    }
    out = std::move(next);
  }
  return out;
}

std::string InstanceName(const spec::JobTemplate& job, const Binding& binding) {
  if (job.matrix.empty()) return job.name;
  std::string name = job.name + "[";
  bool first = true;
  for (const auto& [variable, values] : job.matrix) {
    name += (first ? "" : ",") + variable + "=" + ValueText(binding.at(variable));
    first = false;
  }
  return name + "]";
}

PlannedJob Instantiate(const spec::JobTemplate& job, const Binding& binding) {
  PlannedJob out;
  out.name = InstanceName(job, binding);
  out.template_name = job.name;
  out.kind = job.kind;
  out.devices = job.devices;
  out.device_kind = job.device_kind;
  out.priority = job.priority;
  out.max_attempts = job.max_attempts;
  out.timeout_s = job.timeout_s;
  out.labels = job.labels;
  for (const auto& [variable, value] : binding) out.labels[variable] = ValueText(value);
  if (job.kind == spec::JobKind::kWorker) {
    out.spec = {{"suite", job.suite}, {"params", SubstituteJson(job.params, binding)}, {"backend", job.backend}};
  } else {
    nlohmann::json argv = nlohmann::json::array();
    for (const auto& arg : job.command) argv.push_back(Substitute(arg, binding));
    nlohmann::json env = nlohmann::json::object();
    for (const auto& [key, value] : job.env) env[key] = Substitute(value, binding);
    out.spec = {{"argv", argv}, {"env", env}, {"workdir", Substitute(job.workdir, binding)}};
  }
  out.tags = job.tags;
  out.cacheable = job.cacheable;
  auto stage = job.labels.find("stage");
  if (stage != job.labels.end()) out.stage = stage->second;
  out.content_key = ContentKey(out);
  return out;
}

// Templates in an order where each comes after those it depends on. The
// parser has already refused cycles and unknown names.
std::vector<size_t> TopologicalOrder(const std::vector<spec::JobTemplate>& jobs) {
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < jobs.size(); ++i) index[jobs[i].name] = i;
  std::vector<size_t> order;
  std::vector<bool> placed(jobs.size(), false);
  std::function<void(size_t)> place = [&](size_t i) {
    if (placed[i]) return;
    placed[i] = true;
    for (const auto& dep : jobs[i].depends_on) place(index.at(dep));
    order.push_back(i);
  };
  for (size_t i = 0; i < jobs.size(); ++i) place(i);
  return order;
}

}  // namespace

std::string ContentKey(const PlannedJob& job) {
  // The key covers what the job computes, not how it is scheduled or named,
  // so the same work in another sweep (or another night) has the same key.
  nlohmann::json key = {{"kind", job.kind == spec::JobKind::kWorker ? "worker" : "exec"},
                        {"spec", job.spec},
                        {"devices", job.devices},
                        {"device_kind", job.device_kind}};
  return Sha256Hex(key.dump());
}

StatusOr<SweepPlan> Expand(const spec::SweepSpec& spec) {
  SweepPlan plan;
  plan.name = spec.name;
  plan.priority = spec.priority;
  GAUNTLET_RETURN_IF_ERROR(ExpandModelStages(spec, &plan));

  // For each template: its instances' indices in the plan and their bindings.
  struct Instances {
    std::vector<size_t> indices;
    std::vector<Binding> bindings;
  };
  std::map<std::string, Instances> by_template;

  for (size_t t : TopologicalOrder(spec.jobs)) {
    const spec::JobTemplate& job = spec.jobs[t];
    Instances& mine = by_template[job.name];
    mine.bindings = Combinations(job);
    for (const auto& binding : mine.bindings) {
      mine.indices.push_back(plan.jobs.size());
      plan.jobs.push_back(Instantiate(job, binding));
    }
    for (const auto& dep_name : job.depends_on) {
      const Instances& upstream = by_template.at(dep_name);
      const auto& dep_matrix = std::find_if(spec.jobs.begin(), spec.jobs.end(),
                                            [&](const auto& j) { return j.name == dep_name; })->matrix;
      std::vector<std::string> shared;
      for (const auto& [variable, values] : job.matrix) {
        for (const auto& [dep_variable, dep_values] : dep_matrix) {
          if (variable == dep_variable) shared.push_back(variable);
        }
      }
      // Group upstream instances by their shared values once, not per instance.
      std::map<std::string, std::vector<size_t>> upstream_by_shared;
      for (size_t u = 0; u < upstream.indices.size(); ++u) {
        std::string key;
        for (const auto& variable : shared) key += upstream.bindings[u].at(variable).dump() + '\x1f';
        upstream_by_shared[key].push_back(upstream.indices[u]);
      }
      for (size_t m = 0; m < mine.indices.size(); ++m) {
        std::string key;
        for (const auto& variable : shared) key += mine.bindings[m].at(variable).dump() + '\x1f';
        auto found = upstream_by_shared.find(key);
        if (found == upstream_by_shared.end()) continue;
        auto& deps = plan.jobs[mine.indices[m]].depends_on;
        deps.insert(deps.end(), found->second.begin(), found->second.end());
      }
    }
  }
  return plan;
}

Status CheckFits(const SweepPlan& plan, const std::vector<NodeCapacity>& nodes) {
  if (nodes.empty()) return Status::Ok();
  for (const auto& job : plan.jobs) {
    int largest = 0;
    std::string largest_node;
    for (const auto& node : nodes) {
      if (!job.device_kind.empty() && node.device_kind != job.device_kind) continue;
      bool tagged = std::all_of(job.tags.begin(), job.tags.end(), [&](const std::string& tag) {
        return std::find(node.tags.begin(), node.tags.end(), tag) != node.tags.end();
      });
      if (!tagged) continue;
      if (node.devices > largest) largest = node.devices, largest_node = node.node;
    }
    if (largest >= job.devices) continue;
    std::string kind = job.device_kind.empty() ? "" : " of kind '" + job.device_kind + "'";
    for (const auto& tag : job.tags) kind += " tagged '" + tag + "'";
    std::string have = largest == 0 ? "no agent has devices" + kind
                                    : "the largest agent, '" + largest_node + "', has " + std::to_string(largest);
    return Status::InvalidArgument("job '" + job.name + "': devices: " + std::to_string(job.devices) +
                                   " devices" + kind + " are needed on one node but " + have +
                                   "; lower devices, or start an agent with more (--devices cpu:" +
                                   std::to_string(job.devices) + ")");
  }
  return Status::Ok();
}

}  // namespace gauntlet::expand
