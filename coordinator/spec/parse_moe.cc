#include "coordinator/spec/parse_moe.h"

#include <algorithm>
#include <functional>

#include "lib/moe/moe_params.h"

namespace gauntlet::spec::internal {
namespace {

constexpr size_t kMaxChecked = 10000;

// Calls `check` with the params of every combination of the matrix.
Status EachCombination(const JobTemplate& job, const std::function<Status(const nlohmann::json&)>& check) {
  std::vector<size_t> digits(job.matrix.size(), 0);
  for (size_t checked = 0; checked < kMaxChecked; ++checked) {
    nlohmann::json params = job.params;
    for (size_t i = 0; i < job.matrix.size(); ++i) params[job.matrix[i].first] = job.matrix[i].second[digits[i]];
    GAUNTLET_RETURN_IF_ERROR(check(params));
    size_t i = job.matrix.size();
    for (; i-- > 0;) {
      if (++digits[i] < job.matrix[i].second.size()) break;
      digits[i] = 0;
    }
    if (i == static_cast<size_t>(-1)) break;
  }
  return Status::Ok();
}

std::string Describe(const nlohmann::json& params, const JobTemplate& job) {
  std::string out;
  for (const auto& [name, values] : job.matrix) {
    const auto& value = params[name];
    out += (out.empty() ? "" : ", ") + name + "=" + (value.is_string() ? value.get<std::string>() : value.dump());
  }
  return out.empty() ? "" : " (" + out + ")";
}

}  // namespace

Status CheckMoeKernel(const ErrorContext& ctx, const YAML::Node& entry, const std::string& path, JobTemplate* job,
                      SweepSpec* spec) {
  const YAML::Node& where = entry["params"] ? entry["params"] : entry;
  GAUNTLET_RETURN_IF_ERROR(EachCombination(*job, [&](const nlohmann::json& params) -> Status {
    auto read = moe::ReadMoeParams(params, job->backend == "gpu");
    if (!read) return ctx.At(where, path, read.error().message() + Describe(params, *job));
    return Status::Ok();
  }));
  auto usebest = job->params.find("usebest");
  auto mode = job->params.find("mode");
  const bool autotune = mode != job->params.end() && *mode == "autotune";
  if (usebest == job->params.end() || *usebest != true || job->params.contains("config_dir") || autotune) {
    return Status::Ok();
  }
  // The tuning its usebest reads: the same shapes, over every token count
  // the entry sweeps, as one job whose best-config file is its artifact.
  JobTemplate tune = *job;
  tune.name = job->name + "-autotune";
  tune.params["mode"] = "autotune";
  tune.params.erase("usebest");
  tune.params.erase("fault");
  tune.params["method"] = job->backend == "gpu" ? "fused" : "cpu";
  std::vector<std::string> tokens;
  std::vector<std::pair<std::string, std::vector<nlohmann::json>>> kept;
  for (const auto& [name, values] : job->matrix) {
    if (name == "input_token") {
      for (const auto& value : values) tokens.push_back(value.is_string() ? value.get<std::string>() : value.dump());
    } else if (name != "method" && name != "fault" && name != "usebest" && name != "mode" && name != "repeats") {
      kept.emplace_back(name, values);
    }
  }
  tune.matrix = kept;
  if (!tokens.empty()) {
    std::string joined;
    for (const auto& count : tokens) joined += (joined.empty() ? "" : ",") + count;
    tune.params["input_token"] = joined;
  }
  tune.labels["stage"] = kAutotuneStage;
  tune.cacheable = std::find(spec->cache.begin(), spec->cache.end(), kAutotuneStage) != spec->cache.end();
  tune.depends_on.clear();
  job->depends_on.push_back(tune.name);
  spec->jobs.push_back(std::move(tune));
  return Status::Ok();
}

}  // namespace gauntlet::spec::internal
