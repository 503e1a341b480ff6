#include "coordinator/expand/model_stages.h"

#include <unordered_map>

#include "common/sha256.h"
#include "lib/programs/criteria.h"
#include "lib/programs/selector.h"

namespace gauntlet::expand {
namespace {

using nlohmann::json;

// "ibm-granite/granite-3.3-8b-instruct" → "granite-3.3-8b-instruct".
std::string ShortName(const std::string& variant) {
  std::string trimmed = variant;
  while (!trimmed.empty() && trimmed.back() == '/') trimmed.pop_back();
  size_t slash = trimmed.rfind('/');
  return slash == std::string::npos ? trimmed : trimmed.substr(slash + 1);
}

std::string DatasetName(const spec::DatasetSpec& dataset) {
  std::string stem = ShortName(dataset.path);
  size_t dot = stem.find('.');
  return dataset.type + ":" + (dot == std::string::npos ? stem : stem.substr(0, dot));
}

// A stage a runner takes runs the llm suite with backend "runner": the worker
// starts the runner's command and holds its output to the same contract as
// the built-in backends' (docs/runner-contract.md).
struct StageBackend {
  std::string backend;
  json env;
  json results = json::array();  // The runner's `results:` files.
};

StageBackend ForStage(const spec::RunnerSpec& runner, const std::string& stage, const std::string& builtin,
                      const json& env, json* params) {
  if (!runner.Takes(stage)) return {builtin, env};
  (*params)["runner"] = {{"name", runner.name}, {"command", runner.command}, {"launcher", runner.launcher}};
  json merged = env;
  for (const auto& [key, value] : runner.env) merged[key] = value;
  return {"runner", std::move(merged), runner.results};
}

// Builds jobs and merges identical ones: a job whose content key is already
// in the plan is not added again, and its index is returned instead.
class StageBuilder {
 public:
  StageBuilder(const spec::SweepSpec& spec, SweepPlan* plan) : spec_(spec), plan_(plan) {}

  size_t Add(const std::string& stage, std::map<std::string, std::string> labels, json params, int devices,
             const std::string& device_kind, const std::string& backend, json env, std::vector<size_t> depends_on,
             const json& results = json::array()) {
    PlannedJob job;
    job.kind = spec::JobKind::kWorker;
    job.stage = stage;
    job.template_name = stage;
    labels["stage"] = stage;
    job.labels = std::move(labels);
    params["stage"] = stage;
    json spec = {{"suite", "llm"}, {"params", std::move(params)}, {"backend", backend}, {"env", std::move(env)}};
    if (!results.empty()) spec["results"] = results;
    job.spec_json = spec.dump();
    job.devices = devices;
    job.device_kind = device_kind;
    job.priority = spec_.priority;
    job.max_attempts = spec_.max_attempts;
    job.retry = spec_.retry;
    job.timeout_s = spec_.timeout_s;
    job.tags = spec_.tags;
    job.cacheable = std::find(spec_.cache.begin(), spec_.cache.end(), stage) != spec_.cache.end();
    job.depends_on = std::move(depends_on);
    job.content_key = ContentKey(job);
    auto [it, inserted] = by_key_.try_emplace(job.content_key, plan_->jobs.size());
    if (!inserted) return it->second;
    job.name = Name(stage, job.labels);
    plan_->jobs.push_back(std::move(job));
    return it->second;
  }

 private:
  static std::string Name(const std::string& stage, const std::map<std::string, std::string>& labels) {
    static const char* kOrder[] = {"model", "dtype", "tp", "attention", "context", "program", "shape", "dataset"};
    std::string name = stage + "[";
    bool first = true;
    for (const char* key : kOrder) {
      auto found = labels.find(key);
      if (found == labels.end()) continue;
      name += (first ? "" : ",") + std::string(key) + "=" + found->second;
      first = false;
    }
    return name + "]";
  }

  const spec::SweepSpec& spec_;
  SweepPlan* plan_;
  std::unordered_map<std::string, size_t> by_key_;
};

}  // namespace

Status ExpandModelStages(const spec::SweepSpec& spec, const spec::Limits& spec_limits, SweepPlan* plan) {
  if (spec.models.empty()) return Status::Ok();
  auto criteria = programs::ParseCriteria(spec.programs.criteria_json, spec.programs.criteria_source);
  if (!criteria) return criteria.error();
  std::vector<programs::Selector> selectors;
  for (const auto& text : spec.programs.select) {
    auto selector = programs::ParseSelector(text);
    if (!selector) return selector.error();
    selectors.push_back(*selector);
  }
  const std::string criteria_sha = Sha256Hex(spec.programs.criteria_json);
  const spec::TestSpec& test = spec.test;
  StageBuilder builder(spec, plan);
  // Device stages run the GPU kernels on GPU nodes; the reference and the
  // comparison always run on the CPU.
  const std::string device_backend = spec.device_kind == "gpu" ? "gpu" : "";

  for (const auto& context : spec.context_lengths) {
    programs::ProgramLimits limits;
    limits.max_batch = context.max_batch;
    limits.max_tkv = context.max_context;
    limits.batch_tkv_limit = context.batch_tkv_limit;
    limits.max_new_tokens = test.max_new_tokens;
    limits.prioritize_large_batch_sizes = spec.programs.prioritize_large_batch_sizes;
    const std::string select_where = spec.source + ":" + std::to_string(spec.programs.select_mark.line) + ":" +
                                     std::to_string(spec.programs.select_mark.column) + ": ";
    if (int64_t cost = programs::ProgramSearchCost(*criteria, limits); cost > spec_limits.max_program_search) {
      return Status::InvalidArgument(
          select_where + "context_lengths: context " + std::to_string(context.max_context) + " with max_batch " +
          std::to_string(context.max_batch) + " means " + std::to_string(cost) + " program shape checks, " +
          spec::OverLimit(spec_limits.max_program_search, "--max-program-search") +
          "; lower max_batch or the context length");
    }
    std::vector<std::string> unmatched;
    std::vector<programs::SelectedProgram> selected =
        programs::SelectPrograms(programs::BuildProgramMap(*criteria, limits), *criteria, selectors, &unmatched);
    // Each selector must match on its own: a dead one beside a live one is a
    // typo the user would never see in the job list.
    if (!spec.programs.allow_empty && (selected.empty() || !unmatched.empty())) {
      std::string select;
      if (selected.empty()) {
        for (const auto& text : spec.programs.select) select += (select.empty() ? "" : ", ") + text;
      } else {
        for (const auto& text : unmatched) select += (select.empty() ? "" : ", ") + text;
      }
      return Status::InvalidArgument(
          select_where + "programs.select: [" + (select.empty() ? std::string("all programs") : select) +
          "] matches no program of " + spec.programs.criteria_source + " at context " +
          std::to_string(context.max_context) + " with max_batch " + std::to_string(context.max_batch) +
          "; loosen the selector, raise max_batch, or set programs.allow_empty: true (check with 'gauntlet programs')");
    }
    if (selected.empty()) continue;
    // An upper bound on this context's jobs, checked before any is made.
    const int64_t runs = static_cast<int64_t>(selected.size() * spec.datasets.size());
    int64_t per_model = runs;
    for (const auto& model : spec.models) {
      per_model = std::max<int64_t>(per_model, runs + static_cast<int64_t>(model.dtypes.size() * model.tp.size() *
                                                                           model.attention.size()) * (1 + 3 * runs));
    }
    const int64_t planned = static_cast<int64_t>(plan->jobs.size()) + per_model * static_cast<int64_t>(spec.models.size());
    if (planned > spec_limits.max_jobs_per_sweep) {
      return Status::InvalidArgument(spec.source + ": models: the model matrix makes up to " + std::to_string(planned) +
                                     " jobs, " + spec::OverLimit(spec_limits.max_jobs_per_sweep, "--max-jobs-per-sweep") +
                                     "; split the sweep or narrow the matrix");
    }
    const json env = {{"VLLM_DT_MAX_BATCH_SIZE", std::to_string(context.max_batch)},
                      {"VLLM_DT_MAX_CONTEXT_LEN", std::to_string(context.max_context)},
                      {"VLLM_DT_MAX_BATCH_TKV_LIMIT", std::to_string(context.batch_tkv_limit)}};

    for (const auto& model : spec.models) {
      // A runner's rows sit beside the built-in backend's, never in them.
      const std::string short_name =
          ShortName(model.variant) + (model.runner.present() ? "@" + model.runner.name : "");
      auto add = [&](const std::string& stage, std::map<std::string, std::string> labels, json params, int devices,
                     const std::string& device_kind, const std::string& builtin, const json& stage_env,
                     std::vector<size_t> depends_on) {
        StageBackend backend = ForStage(model.runner, stage, builtin, stage_env, &params);
        if (backend.backend == "runner") labels["runner"] = model.runner.name;
        return builder.Add(stage, std::move(labels), std::move(params), devices, device_kind, backend.backend,
                           std::move(backend.env), std::move(depends_on), backend.results);
      };
      // References depend on the model, the prompts and the decode length only,
      // so every dtype, TP size, attention type and context shares them.
      std::map<std::pair<size_t, size_t>, size_t> reference_of;  // (program, dataset) → job
      for (size_t p = 0; p < selected.size(); ++p) {
        for (size_t d = 0; d < spec.datasets.size(); ++d) {
          const auto& program = selected[p];
          const auto& dataset = spec.datasets[d];
          std::string shape = std::to_string(program.shape.batch) + "x" + std::to_string(program.shape.prompt_len);
          json params = {{"model", model.variant},
                         {"batch", program.shape.batch},
                         {"prompt_len", program.shape.prompt_len},
                         {"dataset", {{"type", dataset.type}, {"path", dataset.path}}},
                         {"homogeneous", spec.programs.enforce_homogeneous_prompt_programs},
                         {"max_new_tokens", test.max_new_tokens}};
          reference_of[{p, d}] = add("reference",
                                             {{"model", short_name}, {"shape", shape}, {"dataset", DatasetName(dataset)}},
                                             params, 1, "", "cpu", json::object(), {});
        }
      }
      for (const auto& dtype : model.dtypes) {
        for (int tp : model.tp) {
          for (const auto& attention : model.attention) {
            std::map<std::string, std::string> base = {{"model", short_name},
                                                       {"dtype", dtype},
                                                       {"tp", std::to_string(tp)},
                                                       {"attention", attention},
                                                       {"context", std::to_string(context.max_context)}};
            json compile_params = {{"model", model.variant},  {"dtype", dtype},
                                   {"tp", tp},                {"attention", attention},
                                   {"context", context.max_context}, {"max_batch", context.max_batch},
                                   {"batch_tkv_limit", context.batch_tkv_limit}, {"criteria_sha256", criteria_sha}};
            size_t compile = add("compile", base, compile_params, tp, spec.device_kind, device_backend, env, {});
            for (size_t p = 0; p < selected.size(); ++p) {
              const auto& program = selected[p];
              for (size_t d = 0; d < spec.datasets.size(); ++d) {
                const auto& dataset = spec.datasets[d];
                auto labels = base;
                labels["program"] = std::to_string(program.program_id);
                labels["shape"] = std::to_string(program.shape.batch) + "x" + std::to_string(program.shape.prompt_len);
                labels["dataset"] = DatasetName(dataset);
                json run_params = compile_params;
                run_params["program"] = program.program_id;
                run_params["batch"] = program.shape.batch;
                run_params["prompt_len"] = program.shape.prompt_len;
                run_params["dataset"] = {{"type", dataset.type}, {"path", dataset.path}};
                run_params["homogeneous"] = spec.programs.enforce_homogeneous_prompt_programs;
                run_params["max_new_tokens"] = test.max_new_tokens;
                run_params["test_type"] = test.type;
                // The run reads the reference's prompts, and in metrics mode feeds
                // its tokens back at every step (golden-token decoding).
                size_t run = add("run", labels, run_params, tp, spec.device_kind, device_backend, env,
                                         {compile, reference_of.at({p, d})});

                json validate_params = {{"test_type", test.type},
                                        {"cross_entropy_threshold", test.cross_entropy_threshold},
                                        {"failure_rate_threshold", test.failure_rate_threshold},
                                        {"top_k", test.top_k},
                                        {"run", run_params}};
                // Which stack made the run and the reference is part of what is
                // judged; only when a runner did, so other sweeps keep their keys.
                for (const char* judged : {"run", "reference"}) {
                  if (model.runner.Takes(judged)) validate_params[std::string(judged) + "_runner"] = model.runner.name;
                }
                // Only when set, so sweeps without it keep their content keys.
                if (test.mean_diff_threshold > 0) validate_params["mean_diff_threshold"] = test.mean_diff_threshold;
                if (test.kl_threshold > 0) validate_params["kl_threshold"] = test.kl_threshold;
                if (test.top1_threshold > 0) validate_params["top1_threshold"] = test.top1_threshold;
                builder.Add("validate", labels, validate_params, 1, "", "cpu", json::object(),
                                              {run, reference_of.at({p, d})});
                json bench_params = run_params;
                bench_params["ttft_ms_target"] = spec.targets.ttft_ms;
                bench_params["itl_ms_target"] = spec.targets.itl_ms;
                // Benchmarks time the reference's prompts after the run, not after
                // validate: as in the seed, the numerics and performance tables are
                // independent, so a numerics FAIL still gets its TTFT and ITL.
                add("benchmark", labels, bench_params, tp, spec.device_kind, device_backend, env,
                            {compile, run, reference_of.at({p, d})});
              }
            }
          }
        }
      }
    }
  }
  return Status::Ok();
}

}  // namespace gauntlet::expand
