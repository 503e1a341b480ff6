#include "coordinator/expand/expand.h"

#include <algorithm>
#include <cassert>
#include <cstdint>
#include <functional>
#include <unordered_map>

#include "common/sha256.h"
#include "coordinator/expand/model_stages.h"
#include "coordinator/spec/parser.h"

namespace gauntlet::expand {
namespace {

// One matrix variable of a template, with its values pre-rendered as text.
struct Variable {
  const std::string* name;
  const std::vector<nlohmann::json>* values;
  std::vector<std::string> texts;
};

// The values of one combination: digit i picks variables[i]'s value.
// Lookups scan linearly: templates have a handful of variables.
class Binding {
 public:
  Binding(const std::vector<Variable>& variables, const std::vector<size_t>& digits)
      : variables_(variables), digits_(digits) {}

  const nlohmann::json* Value(std::string_view name) const {
    for (size_t i = 0; i < variables_.size(); ++i) {
      if (*variables_[i].name == name) return &(*variables_[i].values)[digits_[i]];
    }
    return nullptr;
  }
  const std::string* Text(std::string_view name) const {
    for (size_t i = 0; i < variables_.size(); ++i) {
      if (*variables_[i].name == name) return &variables_[i].texts[digits_[i]];
    }
    return nullptr;
  }

 private:
  const std::vector<Variable>& variables_;
  const std::vector<size_t>& digits_;
};

std::string ValueText(const nlohmann::json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

// Replaces each ${var}; the parser has checked every name.
std::string Substitute(const std::string& text, const Binding& binding) {
  size_t open = text.find("${");
  if (open == std::string::npos) return text;
  std::string out;
  size_t last = 0;
  while (open != std::string::npos) {
    size_t close = text.find('}', open + 2);
    if (close == std::string::npos) break;
    const std::string* value = binding.Text(std::string_view(text).substr(open + 2, close - open - 2));
    assert(value && "the parser checks every variable");
    out.append(text, last, open - last);
    if (value) out += *value;
    last = close + 1;
    open = text.find("${", last);
  }
  out.append(text, last, std::string::npos);
  return out;
}

// A string that is exactly "${var}" takes the value with its type, so
// `n: ${size}` stays a number.
nlohmann::json SubstituteJson(const nlohmann::json& value, const Binding& binding) {
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    if (text.size() > 3 && text.starts_with("${") && text.back() == '}' && text.find('}') == text.size() - 1) {
      if (const nlohmann::json* found = binding.Value(std::string_view(text).substr(2, text.size() - 3))) return *found;
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

std::vector<Variable> VariablesOf(const spec::JobTemplate& job) {
  std::vector<Variable> variables;
  for (const auto& [name, values] : job.matrix) {
    Variable variable{&name, &values, {}};
    for (const auto& value : values) variable.texts.push_back(ValueText(value));
    variables.push_back(std::move(variable));
  }
  return variables;
}

// Saturates instead of wrapping, so a 10^30-combination matrix reads as huge.
size_t CombinationCount(const std::vector<Variable>& variables) {
  size_t count = 1;
  for (const auto& variable : variables) {
    if (__builtin_mul_overflow(count, variable.values->size(), &count)) return SIZE_MAX;
  }
  return count;
}

std::string Where(const spec::SweepSpec& spec, const spec::JobTemplate& job) {
  return spec.source + ":" + std::to_string(job.mark.line) + ":" + std::to_string(job.mark.column) + ": job '" +
         job.name + "': ";
}

// Advances mixed-radix digits, last variable fastest (so the first is slowest).
void Next(const std::vector<Variable>& variables, std::vector<size_t>* digits) {
  for (size_t i = variables.size(); i-- > 0;) {
    if (++(*digits)[i] < variables[i].values->size()) return;
    (*digits)[i] = 0;
  }
}

PlannedJob Instantiate(const spec::JobTemplate& job, const std::vector<Variable>& variables,
                       const std::vector<size_t>& digits) {
  Binding binding(variables, digits);
  PlannedJob out;
  out.name = job.name;
  if (!variables.empty()) {
    out.name += '[';
    for (size_t i = 0; i < variables.size(); ++i) {
      if (i) out.name += ',';
      out.name += *variables[i].name;
      out.name += '=';
      out.name += variables[i].texts[digits[i]];
    }
    out.name += ']';
  }
  out.template_name = job.name;
  out.kind = job.kind;
  // The parser has checked every value a variable-valued field can take.
  out.devices = job.devices_variable.empty() ? job.devices : std::stoi(*binding.Text(job.devices_variable));
  out.device_kind = Substitute(job.device_kind, binding);
  out.priority = job.priority;
  out.max_attempts = job.max_attempts;
  out.retry = job.retry;
  out.timeout_s = job.timeout_variable.empty() ? job.timeout_s
                                               : spec::ParseDuration(*binding.Text(job.timeout_variable)).value();
  out.labels = job.labels;
  // `${var}` in a label names the job's own matrix value: "ctx ${ctx}" must
  // not put two contexts in one matrix column.
  for (auto& [key, value] : out.labels) value = Substitute(value, binding);
  for (size_t i = 0; i < variables.size(); ++i) out.labels[*variables[i].name] = variables[i].texts[digits[i]];
  nlohmann::json spec;
  if (job.kind == spec::JobKind::kWorker) {
    spec = {{"suite", job.suite}, {"params", SubstituteJson(job.params, binding)}, {"backend", job.backend}};
  } else {
    nlohmann::json argv = nlohmann::json::array();
    for (const auto& arg : job.command) argv.push_back(Substitute(arg, binding));
    nlohmann::json env = nlohmann::json::object();
    for (const auto& [key, value] : job.env) env[key] = Substitute(value, binding);
    spec = {{"argv", std::move(argv)}, {"env", std::move(env)}, {"workdir", Substitute(job.workdir, binding)}};
  }
  // Only when set, so jobs without them keep their content keys.
  if (!job.targets.empty()) spec["targets"] = SubstituteJson(job.targets, binding);
  if (!job.results.empty()) spec["results"] = SubstituteJson(job.results, binding);
  out.spec_json = spec.dump();
  out.tags = job.tags;
  out.cacheable = job.cacheable;
  out.node_cached = job.node_cached;
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

// The values of `shared` variables in a combination, as one lookup key.
std::string SharedKey(const std::vector<Variable>& variables, const std::vector<size_t>& digits,
                      const std::vector<size_t>& shared_positions) {
  std::string key;
  for (size_t position : shared_positions) {
    key += (*variables[position].values)[digits[position]].dump();
    key += '\x1f';
  }
  return key;
}

}  // namespace

std::string ContentKey(const PlannedJob& job) {
  // The key covers what the job computes, not how it is scheduled or named,
  // so the same work in another sweep (or another night) has the same key.
  Sha256 hasher;
  hasher.Update(job.kind == spec::JobKind::kWorker ? "worker" : "exec");
  hasher.Update(std::string_view("\0", 1));
  hasher.Update(job.spec_json);
  hasher.Update(std::string_view("\0", 1));
  hasher.Update(std::to_string(job.devices));
  hasher.Update(std::string_view("\0", 1));
  hasher.Update(job.device_kind);
  return hasher.FinishHex();
}

StatusOr<SweepPlan> Expand(const spec::SweepSpec& spec, const spec::Limits& limits) {
  SweepPlan plan;
  plan.name = spec.name;
  plan.priority = spec.priority;
  plan.health_check_yaml = spec.health_check_yaml;
  GAUNTLET_RETURN_IF_ERROR(ExpandModelStages(spec, limits, &plan));
  int64_t edges = 0;

  // Per template: its variables and the plan index of its first instance
  // (instances are consecutive, in combination order).
  struct Instances {
    std::vector<Variable> variables;
    size_t first = 0;
    size_t count = 0;
  };
  std::map<std::string, Instances> by_template;

  for (size_t t : TopologicalOrder(spec.jobs)) {
    const spec::JobTemplate& job = spec.jobs[t];
    Instances& mine = by_template[job.name];
    mine.variables = VariablesOf(job);
    mine.count = CombinationCount(mine.variables);
    // The plan never exceeds the limit, so the subtraction cannot wrap.
    const size_t room = static_cast<size_t>(limits.max_jobs_per_sweep) - std::min(
                                                                              plan.jobs.size(), static_cast<size_t>(limits.max_jobs_per_sweep));
    if (mine.count > room) {
      const std::string count = mine.count == SIZE_MAX ? "more than 10^19" : std::to_string(mine.count);
      return Err(Status::InvalidArgument(Where(spec, job) + "matrix: " + count + " combinations, with the " +
                                         std::to_string(plan.jobs.size()) + " jobs before them, are " +
                                         spec::OverLimit(limits.max_jobs_per_sweep, "--max-jobs-per-sweep") +
                                         "; split the sweep or narrow the matrix"));
    }
    mine.first = plan.jobs.size();
    plan.jobs.reserve(plan.jobs.size() + mine.count);
    std::vector<size_t> digits(mine.variables.size(), 0);
    for (size_t i = 0; i < mine.count; ++i, Next(mine.variables, &digits)) {
      plan.jobs.push_back(Instantiate(job, mine.variables, digits));
    }

    for (const auto& dep_name : job.depends_on) {
      const Instances& upstream = by_template.at(dep_name);
      // Variables both templates have, as positions in each.
      std::vector<size_t> my_positions, their_positions;
      for (size_t i = 0; i < mine.variables.size(); ++i) {
        for (size_t j = 0; j < upstream.variables.size(); ++j) {
          if (*mine.variables[i].name == *upstream.variables[j].name) {
            my_positions.push_back(i);
            their_positions.push_back(j);
          }
        }
      }
      // Group upstream instances by their shared values once, not per instance.
      std::unordered_map<std::string, std::vector<size_t>> upstream_by_shared;
      std::vector<size_t> up_digits(upstream.variables.size(), 0);
      for (size_t u = 0; u < upstream.count; ++u, Next(upstream.variables, &up_digits)) {
        upstream_by_shared[SharedKey(upstream.variables, up_digits, their_positions)].push_back(upstream.first + u);
      }
      std::fill(digits.begin(), digits.end(), 0);
      for (size_t m = 0; m < mine.count; ++m, Next(mine.variables, &digits)) {
        auto found = upstream_by_shared.find(SharedKey(mine.variables, digits, my_positions));
        if (found == upstream_by_shared.end()) continue;
        edges += static_cast<int64_t>(found->second.size());
        if (edges > limits.max_dependency_edges) {
          return Err(Status::InvalidArgument(
              Where(spec, job) + "depends_on: '" + dep_name + "' brings the sweep's dependencies " +
              spec::OverLimit(limits.max_dependency_edges, "--max-dependency-edges") +
              "; share a matrix variable between the two jobs so each instance waits for its own"));
        }
        auto& deps = plan.jobs[mine.first + m].depends_on;
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
