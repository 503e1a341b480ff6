#include "coordinator/spec/parser_sections.h"

#include <set>

#include "coordinator/nightly/cron.h"
#include "coordinator/nightly/delivery_policy.h"
#include "coordinator/nightly/firing.h"
#include "coordinator/spec/parse_gemm.h"
#include "coordinator/spec/parse_moe.h"
#include "coordinator/spec/parse_runner.h"
#include "coordinator/spec/yaml_json.h"
#include "lib/contract/stages.h"
#include "lib/names/names.h"
#include "lib/programs/criteria.h"
#include "lib/programs/selector.h"

namespace gauntlet::spec::internal {
namespace {

const std::set<std::string> kDtypes = {"fp32", "fp16", "bf16", "fp8"};
const std::set<std::string> kAttention = {"paged", "paged_fp8"};
// The LLM stages, and a moe suite's autotune job.
const std::set<std::string> kStages = [] {
  std::set<std::string> stages(contract::kLlmStages.begin(), contract::kLlmStages.end());
  stages.insert(kAutotuneStage);
  return stages;
}();

std::string Join(const std::set<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

// A scalar or a list of scalars, each one of `allowed`.
StatusOr<std::vector<std::string>> ParseChoices(const ErrorContext& ctx, const YAML::Node& node,
                                                const std::string& path, const std::set<std::string>& allowed) {
  auto values = ParseStringList(ctx, node, path);
  if (!values) return Err(values.error());
  if (values->empty()) return Err(ctx.At(node, path, "must not be empty"));
  for (size_t i = 0; i < values->size(); ++i) {
    if (!allowed.contains((*values)[i])) {
      return Err(ctx.At(node.IsSequence() ? node[i] : node, path + (node.IsSequence() ? "[" + std::to_string(i) + "]" : ""),
                        "'" + (*values)[i] + "' is not one of " + Join(allowed)));
    }
  }
  return values;
}

}  // namespace

StatusOr<double> ParseNumber(const ErrorContext& ctx, const YAML::Node& node, const std::string& path, double min,
                             double max) {
  std::string range = "a number from " + std::to_string(min).substr(0, std::to_string(min).find('.') + 2) + " to " +
                      std::to_string(max).substr(0, std::to_string(max).find('.') + 2);
  if (!node.IsScalar()) return Err(ctx.At(node, path, Quote(node) + " must be " + range));
  nlohmann::json value = YamlToJson(node);
  if (!value.is_number() || value.get<double>() < min || value.get<double>() > max) {
    return Err(ctx.At(node, path, Quote(node) + " must be " + range));
  }
  return value.get<double>();
}

StatusOr<bool> ParseBool(const ErrorContext& ctx, const YAML::Node& node, const std::string& path) {
  nlohmann::json value = node.IsScalar() ? YamlToJson(node) : nlohmann::json();
  if (!value.is_boolean()) return Err(ctx.At(node, path, Quote(node) + " must be true or false"));
  return value.get<bool>();
}

Status ParseModels(const ErrorContext& ctx, const YAML::Node& node, const RunnerSpec& default_runner, SweepSpec* spec) {
  if (!node.IsSequence() || node.size() == 0) {
    return ctx.At(node, "models", Quote(node) + " must be a non-empty list of {variant, dtypes, tp, attention}");
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < node.size(); ++i) {
    const YAML::Node& entry = node[i];
    std::string path = "models[" + std::to_string(i) + "]";
    ModelMatrix model;
    model.runner = default_runner;
    model.mark = {entry.Mark().line + 1, entry.Mark().column + 1};
    if (entry.IsScalar()) {
      model.variant = entry.Scalar();
    } else if (entry.IsMap()) {
      GAUNTLET_RETURN_IF_ERROR(CheckKeys(ctx, entry, path, {"variant", "dtypes", "tp", "attention", "runner"}));
      if (entry["runner"]) {
        GAUNTLET_ASSIGN_OR_RETURN(model.runner, ParseRunner(ctx, entry["runner"], path + ".runner"));
      }
      if (!entry["variant"]) return ctx.At(entry, path + ".variant", "missing; name the model (a Hugging Face id or a path)");
      auto variant = ParseString(ctx, entry["variant"], path + ".variant");
      if (!variant) return variant.error();
      model.variant = *variant;
      if (entry["dtypes"]) {
        auto dtypes = ParseChoices(ctx, entry["dtypes"], path + ".dtypes", kDtypes);
        if (!dtypes) return dtypes.error();
        model.dtypes = *dtypes;
      }
      if (entry["attention"]) {
        auto attention = ParseChoices(ctx, entry["attention"], path + ".attention", kAttention);
        if (!attention) return attention.error();
        model.attention = *attention;
      }
      if (entry["tp"]) {
        const YAML::Node& tp = entry["tp"];
        model.tp.clear();
        if (tp.IsScalar()) {
          auto value = ParseInt(ctx, tp, path + ".tp", 1, 64);
          if (!value) return value.error();
          model.tp.push_back(*value);
        } else if (tp.IsSequence() && tp.size() > 0) {
          for (size_t j = 0; j < tp.size(); ++j) {
            auto value = ParseInt(ctx, tp[j], path + ".tp[" + std::to_string(j) + "]", 1, 64);
            if (!value) return value.error();
            model.tp.push_back(*value);
          }
        } else {
          return ctx.At(tp, path + ".tp", Quote(tp) + " must be an integer or a list of integers (tensor-parallel sizes)");
        }
      }
    } else {
      return ctx.At(entry, path, Quote(entry) + " must be a model name or a mapping with variant");
    }
    if (model.variant.empty()) return ctx.At(entry, path + ".variant", "must not be empty");
    // One model may be listed once per stack: the built-in backend beside a
    // team's runner is the seed's "Target" column next to its own.
    if (!seen.insert(model.variant + '\x1f' + model.runner.name).second) {
      return ctx.At(entry, path + ".variant",
                    "'" + model.variant + "' is listed twice" +
                        (model.runner.present() ? " with runner '" + model.runner.name + "'" : "") +
                        "; merge the entries, or give one a different runner");
    }
    spec->models.push_back(std::move(model));
  }
  return Status::Ok();
}

Status ParseContextLengths(const ErrorContext& ctx, const YAML::Node& node, SweepSpec* spec) {
  if (!node.IsSequence() || node.size() == 0) {
    return ctx.At(node, "context_lengths", Quote(node) + " must be a non-empty list, e.g. [4096, 8192]");
  }
  for (size_t i = 0; i < node.size(); ++i) {
    const YAML::Node& entry = node[i];
    std::string path = "context_lengths[" + std::to_string(i) + "]";
    ContextLength context;
    if (entry.IsScalar()) {
      auto value = ParseInt(ctx, entry, path, 128, 1 << 20);
      if (!value) return value.error();
      context.max_context = *value;
    } else if (entry.IsMap()) {
      GAUNTLET_RETURN_IF_ERROR(CheckKeys(ctx, entry, path, {"context", "max_batch", "batch_tkv_limit"}));
      if (!entry["context"]) return ctx.At(entry, path + ".context", "missing; the maximum context length, e.g. 8192");
      auto value = ParseInt(ctx, entry["context"], path + ".context", 128, 1 << 20);
      if (!value) return value.error();
      context.max_context = *value;
      if (entry["max_batch"]) {
        auto batch = ParseInt(ctx, entry["max_batch"], path + ".max_batch", 1, 4096);
        if (!batch) return batch.error();
        context.max_batch = *batch;
      }
      if (entry["batch_tkv_limit"]) {
        auto limit = ParseNumber(ctx, entry["batch_tkv_limit"], path + ".batch_tkv_limit", 1, 1e12);
        if (!limit) return limit.error();
        context.batch_tkv_limit = static_cast<int64_t>(*limit);
      }
    } else {
      return ctx.At(entry, path, Quote(entry) + " must be a context length or {context, max_batch, batch_tkv_limit}");
    }
    spec->context_lengths.push_back(context);
  }
  return Status::Ok();
}

Status ParsePrograms(const ErrorContext& ctx, const YAML::Node& node, const std::map<std::string, std::string>& files,
                     SweepSpec* spec) {
  if (!node.IsMap()) return ctx.At(node, "programs", Quote(node) + " must be a mapping with criteria and select");
  GAUNTLET_RETURN_IF_ERROR(CheckKeys(ctx, node, "programs",
                                     {"criteria", "select", "enforce_homogeneous_prompt_programs",
                                      "prioritize_large_batch_sizes", "allow_empty"}));
  ProgramsSpec& programs = spec->programs;
  programs.present = true;
  const YAML::Node& criteria = node["criteria"];
  if (!criteria) {
    return ctx.At(node, "programs.criteria", "missing; name the program criteria JSON file (as drive_paged_programs.py's "
                                             "--program_criteria_json_path)");
  }
  if (criteria.IsScalar()) {
    programs.criteria_source = criteria.Scalar();
    auto found = files.find(programs.criteria_source);
    if (found == files.end()) {
      return ctx.At(criteria, "programs.criteria",
                    "'" + programs.criteria_source + "' was not sent with the spec; submit with the gauntlet CLI, "
                    "which reads it relative to the spec file, or write the criteria inline");
    }
    programs.criteria_json = found->second;
  } else if (criteria.IsMap()) {
    programs.criteria_source = "programs.criteria";
    programs.criteria_json = YamlToJson(criteria).dump();
  } else {
    return ctx.At(criteria, "programs.criteria", Quote(criteria) + " must be a file name or an inline {programs: [...]}");
  }
  auto parsed = programs::ParseCriteria(programs.criteria_json, programs.criteria_source);
  if (!parsed) return ctx.At(criteria, "programs.criteria", parsed.error().message());

  if (node["select"]) {
    programs.select_mark = {node["select"].Mark().line + 1, node["select"].Mark().column + 1};
    auto select = ParseStringList(ctx, node["select"], "programs.select");
    if (!select) return select.error();
    for (size_t i = 0; i < select->size(); ++i) {
      auto selector = programs::ParseSelector((*select)[i]);
      if (!selector) {
        const YAML::Node& item = node["select"].IsSequence() ? node["select"][i] : node["select"];
        return ctx.At(item, "programs.select[" + std::to_string(i) + "]", selector.error().message());
      }
      if (selector->which == programs::Selector::Which::kId &&
          selector->program_id >= static_cast<int>(parsed->size())) {
        const YAML::Node& item = node["select"].IsSequence() ? node["select"][i] : node["select"];
        return ctx.At(item, "programs.select[" + std::to_string(i) + "]",
                      "'" + (*select)[i] + "' — program " + std::to_string(selector->program_id) + " does not exist; " +
                          programs.criteria_source + " defines programs 0.." + std::to_string(parsed->size() - 1));
      }
    }
    programs.select = *select;
  }
  for (auto [field, target] : {std::pair{"enforce_homogeneous_prompt_programs", &programs.enforce_homogeneous_prompt_programs},
                               std::pair{"prioritize_large_batch_sizes", &programs.prioritize_large_batch_sizes},
                               std::pair{"allow_empty", &programs.allow_empty}}) {
    if (!node[field]) continue;
    auto value = ParseBool(ctx, node[field], std::string("programs.") + field);
    if (!value) return value.error();
    *target = *value;
  }
  return Status::Ok();
}

Status ParseDatasets(const ErrorContext& ctx, const YAML::Node& node, SweepSpec* spec) {
  std::vector<YAML::Node> entries;
  if (node.IsMap()) {
    entries.push_back(node);
  } else if (node.IsSequence() && node.size() > 0) {
    for (const auto& entry : node) entries.push_back(entry);
  } else {
    return ctx.At(node, "datasets", Quote(node) + " must be a list of {type, path}");
  }
  for (size_t i = 0; i < entries.size(); ++i) {
    std::string path = "datasets[" + std::to_string(i) + "]";
    const YAML::Node& entry = entries[i];
    if (!entry.IsMap()) return ctx.At(entry, path, Quote(entry) + " must be a mapping {type, path}");
    GAUNTLET_RETURN_IF_ERROR(CheckKeys(ctx, entry, path, {"type", "path"}));
    DatasetSpec dataset;
    if (entry["type"]) {
      auto type = ParseChoices(ctx, entry["type"], path + ".type", {"sharegpt", "rag_factoid"});
      if (!type) return type.error();
      dataset.type = type->front();
    }
    if (!entry["path"]) return ctx.At(entry, path + ".path", "missing; the dataset file as the agents' nodes see it");
    auto file = ParseString(ctx, entry["path"], path + ".path");
    if (!file) return file.error();
    dataset.path = *file;
    spec->datasets.push_back(dataset);
  }
  return Status::Ok();
}

Status ParseTest(const ErrorContext& ctx, const YAML::Node& node, SweepSpec* spec) {
  if (!node.IsMap()) return ctx.At(node, "test", Quote(node) + " must be a mapping with type");
  GAUNTLET_RETURN_IF_ERROR(CheckKeys(ctx, node, "test",
                                     {"type", "cross_entropy_threshold", "kl_threshold", "mean_diff_threshold",
                                      "top1_threshold", "failure_rate_threshold", "max_new_tokens", "top_k"}));
  TestSpec& test = spec->test;
  if (node["type"]) {
    auto type = ParseChoices(ctx, node["type"], "test.type", {"tokens", "metrics"});
    if (!type) return type.error();
    test.type = type->front();
  }
  if (node["cross_entropy_threshold"]) {
    auto value = ParseNumber(ctx, node["cross_entropy_threshold"], "test.cross_entropy_threshold", 0, 1000);
    if (!value) return value.error();
    test.cross_entropy_threshold = *value;
  }
  if (node["kl_threshold"]) {
    auto value = ParseNumber(ctx, node["kl_threshold"], "test.kl_threshold", 0, 1000);
    if (!value) return value.error();
    test.kl_threshold = *value;
  }
  if (node["mean_diff_threshold"]) {
    auto value = ParseNumber(ctx, node["mean_diff_threshold"], "test.mean_diff_threshold", 0, 1);
    if (!value) return value.error();
    test.mean_diff_threshold = *value;
  }
  if (node["top1_threshold"]) {
    auto value = ParseNumber(ctx, node["top1_threshold"], "test.top1_threshold", 0, 1);
    if (!value) return value.error();
    test.top1_threshold = *value;
  }
  if (node["failure_rate_threshold"]) {
    auto value = ParseNumber(ctx, node["failure_rate_threshold"], "test.failure_rate_threshold", 0, 1);
    if (!value) return value.error();
    test.failure_rate_threshold = *value;
  }
  if (node["max_new_tokens"]) {
    auto value = ParseInt(ctx, node["max_new_tokens"], "test.max_new_tokens", 1, 4096);
    if (!value) return value.error();
    test.max_new_tokens = *value;
  }
  if (node["top_k"]) {
    auto value = ParseInt(ctx, node["top_k"], "test.top_k", 1, 1000);
    if (!value) return value.error();
    test.top_k = *value;
  }
  return Status::Ok();
}

Status ParseTargets(const ErrorContext& ctx, const YAML::Node& node, SweepSpec* spec) {
  if (!node.IsMap()) return ctx.At(node, "targets", Quote(node) + " must be a mapping {ttft_ms, itl_ms}");
  GAUNTLET_RETURN_IF_ERROR(CheckKeys(ctx, node, "targets", {"ttft_ms", "itl_ms"}));
  for (auto [field, target] : {std::pair{"ttft_ms", &spec->targets.ttft_ms}, std::pair{"itl_ms", &spec->targets.itl_ms}}) {
    if (!node[field]) continue;
    auto value = ParseNumber(ctx, node[field], std::string("targets.") + field, 0, 1e7);
    if (!value) return value.error();
    *target = *value;
  }
  return Status::Ok();
}

Status ParseSchedule(const ErrorContext& ctx, const YAML::Node& node, SweepSpec* spec) {
  if (!node.IsMap()) {
    return ctx.At(node, "schedule", Quote(node) + " must be a mapping, e.g. {cron: \"0 2 * * *\", timezone: UTC}");
  }
  GAUNTLET_RETURN_IF_ERROR(
      CheckKeys(ctx, node, "schedule", {"cron", "timezone", "catch_up", "max_catch_up", "concurrency", "notify",
                                        "min_effect", "higher_is_better"}));
  ScheduleSpec& schedule = spec->schedule;
  schedule.present = true;
  if (!node["cron"]) return ctx.At(node, "schedule.cron", "missing; e.g. cron: \"0 2 * * *\" for 02:00 every day");
  GAUNTLET_ASSIGN_OR_RETURN(schedule.cron, ParseString(ctx, node["cron"], "schedule.cron"));
  if (node["timezone"]) {
    GAUNTLET_ASSIGN_OR_RETURN(schedule.timezone, ParseString(ctx, node["timezone"], "schedule.timezone"));
  }
  if (auto checked = nightly::CronSchedule::Create(schedule.cron, schedule.timezone); !checked) {
    const bool zone = checked.error().message().starts_with("timezone");
    return ctx.At(node[zone ? "timezone" : "cron"], zone ? "schedule.timezone" : "schedule.cron",
                  checked.error().message());
  }
  if (node["catch_up"]) {
    GAUNTLET_ASSIGN_OR_RETURN(schedule.catch_up, ParseString(ctx, node["catch_up"], "schedule.catch_up"));
    if (auto policy = nightly::ParseCatchUp(schedule.catch_up); !policy) {
      return ctx.At(node["catch_up"], "schedule.catch_up", policy.error().message());
    }
  }
  if (node["max_catch_up"]) {
    GAUNTLET_ASSIGN_OR_RETURN(schedule.max_catch_up,
                              ParseInt(ctx, node["max_catch_up"], "schedule.max_catch_up", 1, 1000));
  }
  if (node["concurrency"]) {
    GAUNTLET_ASSIGN_OR_RETURN(schedule.concurrency, ParseString(ctx, node["concurrency"], "schedule.concurrency"));
    if (auto policy = nightly::ParseConcurrency(schedule.concurrency); !policy) {
      return ctx.At(node["concurrency"], "schedule.concurrency", policy.error().message());
    }
  }
  if (const YAML::Node effects = node["min_effect"]) {
    if (!effects.IsMap()) {
      return ctx.At(effects, "schedule.min_effect", Quote(effects) + " must be a mapping {metric: fraction}, e.g. "
                                                                     "{default: 0.05, itl_ms: 0.03}");
    }
    for (const auto& entry : effects) {
      const std::string metric = entry.first.Scalar();
      GAUNTLET_ASSIGN_OR_RETURN(const double effect,
                                ParseNumber(ctx, entry.second, "schedule.min_effect." + metric, 0.001, 10));
      schedule.min_effect[metric] = effect;
    }
  }
  if (node["higher_is_better"]) {
    GAUNTLET_ASSIGN_OR_RETURN(schedule.higher_is_better,
                              ParseStringList(ctx, node["higher_is_better"], "schedule.higher_is_better"));
  }
  if (const YAML::Node notify = node["notify"]) {
    if (!notify.IsMap()) return ctx.At(notify, "schedule.notify", Quote(notify) + " must be a mapping {webhook: URL}");
    GAUNTLET_RETURN_IF_ERROR(CheckKeys(ctx, notify, "schedule.notify", {"webhook"}));
    if (notify["webhook"]) {
      GAUNTLET_ASSIGN_OR_RETURN(schedule.webhook, ParseString(ctx, notify["webhook"], "schedule.notify.webhook"));
      if (!nightly::IsWebhookUrl(schedule.webhook)) {
        return ctx.At(notify["webhook"], "schedule.notify.webhook",
                      "\"" + schedule.webhook + "\" is not an http(s) URL: write http://... or https://...");
      }
    }
  }
  return Status::Ok();
}

Status ParseResources(const ErrorContext& ctx, const YAML::Node& node, SweepSpec* spec) {
  if (!node.IsMap()) return ctx.At(node, "resources", Quote(node) + " must be a mapping {device_kind, tags}");
  GAUNTLET_RETURN_IF_ERROR(CheckKeys(ctx, node, "resources", {"device_kind", "tags"}));
  if (node["device_kind"]) {
    auto kind = ParseChoices(ctx, node["device_kind"], "resources.device_kind", {"cpu", "sim", "gpu", "aiu"});
    if (!kind) return kind.error();
    spec->device_kind = kind->front();
  }
  if (node["tags"]) {
    auto tags = ParseStringList(ctx, node["tags"], "resources.tags");
    if (!tags) return tags.error();
    for (size_t i = 0; i < tags->size(); ++i) {
      if (std::string problem = names::NameProblem((*tags)[i]); !problem.empty()) {
        return ctx.At(node["tags"], "resources.tags[" + std::to_string(i) + "]", "tag " + problem);
      }
    }
    spec->tags = *tags;
  }
  return Status::Ok();
}

Status ParseCache(const ErrorContext& ctx, const YAML::Node& node, SweepSpec* spec) {
  if (node.IsScalar() && (node.Scalar() == "true" || node.Scalar() == "false")) {
    spec->cache.clear();
    if (node.Scalar() == "true") spec->cache.assign(kStages.begin(), kStages.end());
    return Status::Ok();
  }
  auto stages = ParseChoices(ctx, node, "cache", kStages);
  if (!stages) return stages.error();
  spec->cache = *stages;
  return Status::Ok();
}

Status ParseKernels(const ErrorContext& ctx, const YAML::Node& node, const std::map<std::string, std::string>& files,
                    SweepSpec* spec) {
  if (!node.IsSequence() || node.size() == 0) return ctx.At(node, "kernels", Quote(node) + " must be a list of kernel suites");
  for (size_t i = 0; i < node.size(); ++i) {
    const YAML::Node& entry = node[i];
    std::string path = "kernels[" + std::to_string(i) + "]";
    if (!entry.IsMap()) return ctx.At(entry, path, Quote(entry) + " must be a mapping with suite");
    GAUNTLET_RETURN_IF_ERROR(CheckKeys(ctx, entry, path, {"name", "suite", "devices", "params", "backend", "timeout"}));
    JobTemplate job;
    job.kind = JobKind::kWorker;
    job.mark = {entry.Mark().line + 1, entry.Mark().column + 1};
    if (!entry["suite"]) return ctx.At(entry, path + ".suite", "missing; e.g. suite: moe or suite: gemm");
    auto suite = ParseChoices(ctx, entry["suite"], path + ".suite", {"moe", "gemm"});
    if (!suite) return suite.error();
    job.suite = "kernel." + suite->front();
    job.name = "kernel-" + suite->front();
    if (entry["name"]) {
      auto name = ParseString(ctx, entry["name"], path + ".name");
      if (!name) return name.error();
      job.name = *name;
    }
    job.device_kind = spec->device_kind;
    job.max_attempts = spec->max_attempts;
    job.retry = spec->retry;
    job.timeout_s = spec->timeout_s;
    job.priority = spec->priority;
    job.tags = spec->tags;
    if (entry["devices"]) {
      auto devices = ParseInt(ctx, entry["devices"], path + ".devices", 1, 1024);
      if (!devices) return devices.error();
      job.devices = *devices;
    }
    if (entry["backend"]) {
      auto backend = ParseChoices(ctx, entry["backend"], path + ".backend", {"cpu", "gpu"});
      if (!backend) return backend.error();
      job.backend = backend->front();
    }
    if (entry["params"]) {
      const YAML::Node& params = entry["params"];
      if (!params.IsMap()) return ctx.At(params, path + ".params", Quote(params) + " must be a mapping");
      for (const auto& param : params) {
        std::string key = param.first.Scalar();
        if (param.second.IsSequence()) {
          // A list sweeps the parameter: it becomes a matrix variable.
          std::vector<nlohmann::json> values;
          for (const auto& value : param.second) values.push_back(YamlToJson(value));
          if (values.empty()) return ctx.At(param.second, path + ".params." + key, "must not be an empty list");
          job.matrix.emplace_back(key, values);
          job.params[key] = "${" + key + "}";
        } else {
          job.params[key] = YamlToJson(param.second);
        }
      }
    }
    if (job.suite == "kernel.gemm") GAUNTLET_RETURN_IF_ERROR(CheckGemmKernel(ctx, entry, path, files, &job));
    if (job.suite == "kernel.moe") GAUNTLET_RETURN_IF_ERROR(CheckMoeKernel(ctx, entry, path, &job, spec));
    job.labels["stage"] = "kernel";
    spec->jobs.push_back(std::move(job));
  }
  return Status::Ok();
}

}  // namespace gauntlet::spec::internal
