#include "worker/suites/llm_runner.h"

#include <filesystem>
#include <fstream>

#include "lib/contract/runner_contract.h"
#include "lib/contract/worker_contract.h"
#include "worker/runner/run_command.h"
#include "worker/runner/stage_outputs.h"
#include "worker/suites/llm_io.h"

namespace gauntlet::worker {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string Mode(const json& params, const std::string& stage) {
  if (stage == "run") return params.value("test_type", "metrics");
  return stage;  // reference, compile, benchmark
}

std::string ParamText(const json& params, const char* name) {
  if (!params.contains(name)) return "";
  const json& value = params[name];
  return value.is_string() ? value.get<std::string>() : value.dump();
}

// The runner's result.json, read by the worker contract's own parser: a
// runner's verdict is optional (absent: pass), the rest is the same file.
void ReadRunnerResult(const std::string& path, SuiteResult* result) {
  std::ifstream in(path);
  if (!in) return;
  json parsed = json::parse(in, nullptr, false);
  if (parsed.is_object() && !parsed.contains("verdict")) parsed["verdict"] = "pass";
  auto read = contract::WorkerResultFromJson(parsed);
  if (!read) {
    result->pass = false;
    result->reason = read.error().message();
    return;
  }
  result->metrics = std::move(read->metrics);
  result->samples = std::move(read->samples);
  if (!read->details.is_null()) result->details = std::move(read->details);
  if (read->verdict == contract::Verdict::kFail) {
    result->pass = false;
    result->reason = "the runner's verdict: " + (read->reason.empty() ? "fail, no reason given" : read->reason);
  }
}

int VocabOf(const json& params) {
  const fs::path config = fs::path(params.value("model", "")) / "config.json";
  std::ifstream in(config);
  if (!in) return 0;
  const json parsed = json::parse(in, nullptr, false);
  if (!parsed.is_object() || !parsed.contains("vocab_size") || !parsed["vocab_size"].is_number_integer()) return 0;
  return parsed["vocab_size"].get<int>();
}

}  // namespace

SuiteResult RunOnRunner(const SuiteContext& ctx, const std::string& stage) {
  SuiteResult result;
  result.pass = true;
  // Rank 0 starts the runner; a runner with tp > 1 starts its own ranks.
  if (ctx.rank != 0) return result;
  const json& p = ctx.params;
  if (!p.contains("runner") || !p["runner"].is_object()) throw BadParams("params.runner: missing for backend runner");
  const json& runner = p["runner"];
  const std::string name = runner.value("name", "runner");
  const std::string out = fs::absolute(ctx.out_dir).string();
  const std::string in = ctx.inputs_dir.empty() ? "" : fs::absolute(ctx.inputs_dir).string();
  const int tp = p.value("tp", 1);

  json request = {{"version", contract::kRunnerContractVersion},
                  {"stage", stage},
                  {"mode", Mode(p, stage)},
                  {"model", p.value("model", "")},
                  {"dtype", p.value("dtype", "fp32")},
                  {"tp", tp},
                  {"attention", p.value("attention", "paged")},
                  {"context", p.value("context", 0)},
                  {"batch", p.value("batch", 1)},
                  {"prompt_len", p.value("prompt_len", 0)},
                  {"max_new_tokens", p.value("max_new_tokens", 8)},
                  {"program", p.value("program", -1)},
                  {"vocab_size", VocabOf(p)},
                  {"inputs", in},
                  {"out", out}};
  if (stage == "reference") {
    // The farm picks the prompts, so every stack is fed the same ones.
    auto tokenizer = Require(LoadTokenizer(ModelDir(p)));
    WriteJson(out + "/prompts.json", {{"prompts", PickPrompts(p, *tokenizer)}});
    request["prompts"] = out + "/prompts.json";
  } else if (stage == "run" || stage == "benchmark") {
    request["prompts"] = in + "/reference/prompts.json";
    if (!fs::exists(request["prompts"].get<std::string>())) {
      throw BadParams("missing input " + request["prompts"].get<std::string>() + "; does the job depend on the reference?");
    }
    if (request["mode"] == "metrics") request["golden_tokens"] = in + "/reference/tokens.json";
  }
  if (!in.empty() && fs::is_directory(in + "/compile")) request["compiled"] = in + "/compile";
  const std::string request_path = out + "/runner.json";
  WriteJson(request_path, request);

  std::map<std::string, std::string> values;
  for (const char* key : {"stage", "mode", "model", "dtype", "tp", "attention", "context", "batch", "prompt_len",
                          "max_new_tokens", "program"}) {
    values[key] = ParamText(request, key);
  }
  values["in"] = in;
  values["out"] = out;
  values["request"] = request_path;
  const char* devices = std::getenv("GAUNTLET_DEVICES");
  values["devices"] = devices ? devices : "";
  auto command = contract::ExpandRunnerCommand(runner.value("command", ""), values);
  if (!command) throw BadParams("params.runner.command: " + command.error().message());
  const std::string line = contract::LaunchLine(runner.value("launcher", "none"), tp, *command);

  auto exit = RunCommand(line, {{"GAUNTLET_RUNNER_REQUEST", request_path}}, out, out + "/runner.log");
  if (!exit) throw std::runtime_error(exit.error().message());
  if (exit->exit_code != 0) {
    // A runner that crashed may pass on another attempt, as a worker would.
    throw RunnerFailed("runner '" + name + "' " + exit->description +
                       (exit->tail.empty() ? "" : "; last output: " + exit->tail));
  }
  ReadRunnerResult(out + "/result.json", &result);
  if (result.pass && !result.metrics.contains("tokens_per_s") && result.metrics.contains("itl_ms") &&
      result.metrics["itl_ms"] > 0) {
    result.metrics["tokens_per_s"] = 1000.0 * p.value("batch", 1) / result.metrics["itl_ms"];
  }
  if (stage == "benchmark") JudgeBenchmarkTargets(p, &result);
  return result;
}

void HoldToStageContract(const SuiteContext& ctx, const std::string& stage, SuiteResult* result) {
  if (ctx.rank != 0 || !result->pass) return;
  const json& p = ctx.params;
  StageOutputs want;
  want.steps = p.value("max_new_tokens", 8);
  std::string prompts_path;
  if (stage == "reference") {
    prompts_path = ctx.out_dir + "/prompts.json";
    want.tokens = want.logits = true;
  } else if (stage == "run") {
    prompts_path = ctx.inputs_dir + "/reference/prompts.json";
    want.tokens = true;
    want.logits = p.value("test_type", "metrics") == "metrics";
    want.timings = true;
  } else if (stage == "benchmark") {
    want.timings = true;
  } else {
    return;  // compile and validate leave what they like.
  }
  if (!prompts_path.empty()) {
    std::ifstream in(prompts_path);
    const json prompts = json::parse(in, nullptr, false);
    if (!prompts.is_object() || !prompts.contains("prompts") || !prompts["prompts"].is_array()) {
      result->pass = false;
      result->reason = "prompts.json: missing or not {\"prompts\": [...]}";
      return;
    }
    want.batch = static_cast<int>(prompts["prompts"].size());
  }
  want.vocab = VocabOf(p);
  if (std::string problem = CheckStageOutputs(ctx.out_dir, want, result->metrics); !problem.empty()) {
    result->pass = false;
    const json& runner = p.contains("runner") ? p["runner"] : json::object();
    result->reason = (ctx.backend == "runner" ? "runner '" + runner.value("name", "runner") + "' broke the contract: "
                                              : "the " + ctx.backend + " backend broke the contract: ") +
                     problem;
  }
}

void JudgeBenchmarkTargets(const json& params, SuiteResult* result) {
  if (!result->pass) return;
  const double ttft_target = params.value("ttft_ms_target", 0.0), itl_target = params.value("itl_ms_target", 0.0);
  const double ttft = result->metrics.contains("ttft_ms") ? result->metrics["ttft_ms"] : 0;
  const double itl = result->metrics.contains("itl_ms") ? result->metrics["itl_ms"] : 0;
  if (ttft_target > 0 && ttft > ttft_target) {
    result->pass = false;
    result->reason = "TTFT " + std::to_string(ttft) + " ms over the target " + std::to_string(ttft_target);
  } else if (itl_target > 0 && itl > itl_target) {
    result->pass = false;
    result->reason = "ITL " + std::to_string(itl) + " ms over the target " + std::to_string(itl_target);
  }
}

}  // namespace gauntlet::worker
