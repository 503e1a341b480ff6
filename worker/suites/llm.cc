// The LLM stages of a sweep; compile, run and benchmark run on the job's
// backend (the CPU reference model, or the GPU one), the others on the CPU:
//   reference  fp32 greedy generation; writes prompts, tokens and logits
//   compile    loads the model in its dtype and TP shard; writes the program
//   run        the device run: the reference's prompts, golden tokens in
//              metrics mode; writes tokens, logits, TTFT and ITL
//   validate   compares run and reference (tokens or metrics)
//   benchmark  timed free-running generation; TTFT, ITL, tokens/s vs targets
// Logits are [batch, steps, vocab] float32 .npy files.
#include <chrono>
#include <filesystem>
#include <fstream>

#include <spdlog/spdlog.h>

#include "lib/contract/stages.h"
#include "lib/programs/prompts.h"
#include "worker/metrics/npy.h"
#include "worker/metrics/validation.h"
#include "worker/model/gpu_model.h"
#include "worker/model/llama.h"
#include "worker/model/tokenizer.h"
#include "worker/suites/llm_io.h"
#include "worker/suites/llm_runner.h"
#include "worker/suites/suite.h"

namespace gauntlet::worker {
namespace {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;
using nlohmann::json;

double Ms(SteadyClock::time_point since) { return std::chrono::duration<double, std::milli>(SteadyClock::now() - since).count(); }

DType ParamDType(const json& params) {
  DType dtype = DType::kF32;
  std::string name = params.value("dtype", "fp32");
  if (!ParseSpecDType(name, &dtype)) throw BadParams("params.dtype: '" + name + "' must be fp32, fp16, bf16 or fp8");
  return dtype;
}

// The KV pool. A device run reserves the program's whole context for every
// sequence, as a compiled program does; the CPU keeps its cache in host
// memory and takes only what the prompts need.
KvCacheConfig CacheFor(const SuiteContext& ctx, int batch, int needed_tokens, DType dtype) {
  const int context = ctx.params.value("context", 0);
  if (context > 0 && needed_tokens > context) {
    throw BadParams("params.context: " + std::to_string(context) + " tokens cannot hold a prompt and its " +
                    "max_new_tokens (" + std::to_string(needed_tokens) + " tokens); raise the context or shorten " +
                    "the prompts");
  }
  KvCacheConfig cache;
  cache.block_size = 16;
  const int tokens = ctx.backend == "gpu" && context > 0 ? context : needed_tokens;
  cache.num_blocks = batch * ((tokens + cache.block_size - 1) / cache.block_size + 1);
  cache.dtype = dtype;
  return cache;
}

std::unique_ptr<Model> MakeModel(const SuiteContext& ctx, const ModelWeights& weights, DType dtype,
                                 const KvCacheConfig& cache) {
  if (ctx.backend != "gpu") return std::make_unique<LlamaModel>(weights, ctx.comm, cache);
  return Require(MakeGpuModel(weights, dtype, ctx.comm, cache, {ctx.rank, ctx.device}));
}

struct Generation {
  std::vector<std::vector<int>> tokens;  // Per sequence, max_new_tokens each.
  std::vector<float> logits;             // [batch, steps, vocab]
  double ttft_ms = 0;                    // Prefill of the batch to its first tokens.
  double itl_ms = 0;                     // Mean decode step.
  std::vector<double> step_ms;           // Each decode step: the ITL's samples.
};

// Greedy generation; with `golden`, the reference's tokens are fed back
// instead. Without `keep_logits` (benchmarks) the device picks the tokens and
// the logits never leave it, as in serving.
Generation Generate(Model& model, const std::vector<std::vector<int>>& prompts, int steps,
                    const std::vector<std::vector<int>>* golden, bool keep_logits = true) {
  const int vocab = model.vocab(), batch = static_cast<int>(prompts.size());
  Generation out;
  out.tokens.resize(static_cast<size_t>(batch));
  if (keep_logits) out.logits.resize(static_cast<size_t>(batch) * steps * vocab);
  std::vector<int> seqs;
  auto start = SteadyClock::now();
  for (int b = 0; b < batch; ++b) {
    seqs.push_back(model.NewSequence());
    auto logits = Require(model.Prefill(seqs.back(), prompts[static_cast<size_t>(b)]));
    if (keep_logits) std::copy(logits.begin(), logits.end(), &out.logits[static_cast<size_t>(b) * steps * vocab]);
    out.tokens[static_cast<size_t>(b)].push_back(Argmax(logits.data(), vocab));
  }
  out.ttft_ms = Ms(start);
  double decode_ms = 0;
  for (int step = 1; step < steps; ++step) {
    std::vector<int> feed;
    for (int b = 0; b < batch; ++b) {
      feed.push_back(golden ? (*golden)[static_cast<size_t>(b)][static_cast<size_t>(step - 1)]
                            : out.tokens[static_cast<size_t>(b)].back());
    }
    auto step_start = SteadyClock::now();
    if (!keep_logits) {
      auto next = Require(model.DecodeGreedy(seqs, feed));
      out.step_ms.push_back(Ms(step_start));
      decode_ms += out.step_ms.back();
      for (int b = 0; b < batch; ++b) out.tokens[static_cast<size_t>(b)].push_back(next[static_cast<size_t>(b)]);
      continue;
    }
    auto logits = Require(model.Decode(seqs, feed));
    decode_ms += Ms(step_start);
    for (int b = 0; b < batch; ++b) {
      const float* row = &logits[static_cast<size_t>(b) * vocab];
      std::copy(row, row + vocab, &out.logits[(static_cast<size_t>(b) * steps + step) * vocab]);
      out.tokens[static_cast<size_t>(b)].push_back(Argmax(row, vocab));
    }
  }
  out.itl_ms = steps > 1 ? decode_ms / (steps - 1) : 0;
  return out;
}

SuiteResult Reference(const SuiteContext& ctx) {
  const json& p = ctx.params;
  auto weights = Require(LoadWeights(ModelDir(p), ctx.rank, ctx.size, DType::kF32));
  auto tokenizer = Require(LoadTokenizer(ModelDir(p)));
  auto prompts = PickPrompts(p, *tokenizer);
  const int steps = p.value("max_new_tokens", 8);
  size_t longest = 0;
  for (const auto& prompt : prompts) longest = std::max(longest, prompt.size());
  LlamaModel model(weights, ctx.comm,
                   CacheFor(ctx, static_cast<int>(prompts.size()), static_cast<int>(longest) + steps, DType::kF32));
  Generation generation = Generate(model, prompts, steps, nullptr);
  SuiteResult result;
  result.pass = true;
  if (ctx.rank == 0) {
    WriteJson(ctx.out_dir + "/prompts.json", {{"prompts", prompts}});
    WriteJson(ctx.out_dir + "/tokens.json", {{"tokens", generation.tokens}});
    auto status = WriteNpy(ctx.out_dir + "/logits.npy",
                           {static_cast<int64_t>(prompts.size()), steps, model.vocab()}, generation.logits);
    if (!status.ok()) throw BadParams(status.message());
  }
  result.metrics["sequences"] = static_cast<double>(prompts.size());
  result.metrics["steps"] = steps;
  result.details = {{"text", tokenizer->Decode(generation.tokens.front())}};
  return result;
}

SuiteResult Compile(const SuiteContext& ctx) {
  const json& p = ctx.params;
  auto start = SteadyClock::now();
  const DType dtype = ParamDType(p);
  auto weights = Require(LoadWeights(ModelDir(p), ctx.rank, ctx.size, dtype));
  // On a device, compiling places the weights there: a model too large for
  // the card fails here, before its runs are scheduled.
  std::unique_ptr<Model> placed;
  if (ctx.backend == "gpu") placed = MakeModel(ctx, weights, dtype, CacheFor(ctx, 1, 1, dtype));
  SuiteResult result;
  result.pass = true;
  result.metrics["load_ms"] = Ms(start);
  if (ctx.rank == 0) WriteJson(ctx.out_dir + "/program.json", p);
  return result;
}

SuiteResult Run(const SuiteContext& ctx, bool benchmark) {
  const json& p = ctx.params;
  const DType dtype = ParamDType(p);
  const DType kv = p.value("attention", "paged") == "paged_fp8" ? DType::kF8E4M3 : dtype;
  auto weights = Require(LoadWeights(ModelDir(p), ctx.rank, ctx.size, dtype));
  const json reference_prompts = ReadJson(ctx.inputs_dir + "/reference/prompts.json");
  auto prompts = TokensFrom(reference_prompts.at("prompts"));
  const int steps = p.value("max_new_tokens", 8);
  std::vector<std::vector<int>> golden;
  const bool metrics_mode = !benchmark && p.value("test_type", "metrics") == "metrics";
  if (metrics_mode) golden = TokensFrom(ReadJson(ctx.inputs_dir + "/reference/tokens.json").at("tokens"));
  size_t longest = 0;
  for (const auto& prompt : prompts) longest = std::max(longest, prompt.size());
  auto model = MakeModel(ctx, weights, dtype,
                         CacheFor(ctx, static_cast<int>(prompts.size()), static_cast<int>(longest) + steps, kv));
  Generation generation = Generate(*model, prompts, steps, metrics_mode ? &golden : nullptr, !benchmark);
  SuiteResult result;
  result.pass = true;
  result.metrics["ttft_ms"] = generation.ttft_ms;
  result.metrics["itl_ms"] = generation.itl_ms;
  result.metrics["tokens_per_s"] =
      generation.itl_ms > 0 ? 1000.0 * static_cast<double>(prompts.size()) / generation.itl_ms : 0;
  if (benchmark) {
    result.samples["itl_ms"] = generation.step_ms;
    JudgeBenchmarkTargets(p, &result);
    return result;
  }
  if (ctx.rank == 0) {
    WriteJson(ctx.out_dir + "/tokens.json", {{"tokens", generation.tokens}});
    auto status = WriteNpy(ctx.out_dir + "/logits.npy",
                           {static_cast<int64_t>(prompts.size()), steps, model->vocab()}, generation.logits);
    if (!status.ok()) throw BadParams(status.message());
  }
  return result;
}

// What the validate page shows, as the seed's script prints it: each step's
// metrics, and the reference's and the device's tokens (and text, when the
// model's tokenizer is on this node) side by side.
json ValidationDetails(const SuiteContext& ctx, const Verdict& verdict, int steps_per_sequence) {
  json steps = json::array();
  for (size_t r = 0; r < verdict.per_step.size(); ++r) {
    const StepMetrics& step = verdict.per_step[r];
    steps.push_back({{"sequence", static_cast<int>(r) / steps_per_sequence},
                     {"step", static_cast<int>(r) % steps_per_sequence},
                     {"cross_entropy", step.cross_entropy},
                     {"reference_entropy", step.reference_entropy},
                     {"kl", step.kl},
                     {"mean_abs_diff", step.mean_abs_diff},
                     {"top1_agrees", step.top1_agrees},
                     {"failed", step.failed}});
  }
  json details = {{"steps", steps}};
  const auto reference = TokensFrom(ReadJson(ctx.inputs_dir + "/reference/tokens.json").at("tokens"));
  const auto device = TokensFrom(ReadJson(ctx.inputs_dir + "/run/tokens.json").at("tokens"));
  const json& run = ctx.params.contains("run") ? ctx.params["run"] : json::object();
  std::unique_ptr<Tokenizer> tokenizer;
  if (run.contains("model") && run["model"].is_string() && fs::is_directory(run["model"].get<std::string>())) {
    if (auto loaded = LoadTokenizer(run["model"].get<std::string>())) tokenizer = std::move(*loaded);
  }
  json sequences = json::array();
  constexpr size_t kShownSequences = 8;  // Enough to read; the logits hold the rest.
  for (size_t s = 0; s < std::min({reference.size(), device.size(), kShownSequences}); ++s) {
    json sequence = {{"reference_tokens", reference[s]}, {"device_tokens", device[s]}};
    if (tokenizer) {
      sequence["reference_text"] = tokenizer->Decode(reference[s]);
      sequence["device_text"] = tokenizer->Decode(device[s]);
    }
    sequences.push_back(std::move(sequence));
  }
  details["sequences"] = std::move(sequences);
  return details;
}

SuiteResult Validate(const SuiteContext& ctx) {
  const json& p = ctx.params;
  SuiteResult result;
  Verdict verdict;
  if (p.value("test_type", "metrics") == "tokens") {
    verdict = ValidateTokens(TokensFrom(ReadJson(ctx.inputs_dir + "/reference/tokens.json").at("tokens")),
                             TokensFrom(ReadJson(ctx.inputs_dir + "/run/tokens.json").at("tokens")));
  } else {
    std::vector<int64_t> reference_shape, run_shape;
    auto reference = Require(ReadNpy(ctx.inputs_dir + "/reference/logits.npy", &reference_shape));
    auto run = Require(ReadNpy(ctx.inputs_dir + "/run/logits.npy", &run_shape));
    if (reference_shape != run_shape || reference_shape.size() != 3) {
      throw BadParams("reference and run logits differ in shape");
    }
    MetricThresholds thresholds;
    thresholds.top_k = p.value("top_k", 20);
    thresholds.cross_entropy = p.value("cross_entropy_threshold", 2.5);
    thresholds.kl = p.value("kl_threshold", 0.0);
    thresholds.mean_abs_diff = p.value("mean_diff_threshold", 0.0);
    thresholds.top1_agreement = p.value("top1_threshold", 0.0);
    thresholds.failure_rate = p.value("failure_rate_threshold", 0.1);
    verdict = ValidateMetrics(reference, run, static_cast<int>(reference_shape[2]), thresholds);
    for (auto [name, value] : {std::pair{"max_cross_entropy", verdict.max_cross_entropy},
                               {"mean_cross_entropy", verdict.mean_cross_entropy},
                               {"mean_reference_entropy", verdict.mean_reference_entropy},
                               {"min_reference_entropy", verdict.min_reference_entropy},
                               {"max_kl", verdict.max_kl},
                               {"mean_kl", verdict.mean_kl},
                               {"max_mean_diff", verdict.max_mean_abs_diff},
                               {"top1_agreement", verdict.top1_agreement}}) {
      result.metrics[name] = value;
    }
    result.metrics["unreachable_steps"] = verdict.unreachable_steps;
    result.details = ValidationDetails(ctx, verdict, static_cast<int>(reference_shape[1]));
  }
  result.pass = verdict.pass;
  result.reason = verdict.reason;
  result.metrics["failure_rate"] = verdict.failure_rate;
  result.metrics["failed_steps"] = verdict.failed_steps;
  result.metrics["steps"] = verdict.steps;
  return result;
}

}  // namespace

SuiteResult RunLlm(const SuiteContext& ctx) {
  const std::string stage = ctx.params.value("stage", "");
  if (!contract::IsLlmStage(stage)) throw BadParams("params.stage: '" + stage + "' must be " + contract::StageList());
  SuiteResult result;
  if (ctx.backend == "runner") {
    if (stage == "validate") throw BadParams("params.stage: validate is the farm's own; it cannot run on a runner");
    result = RunOnRunner(ctx, stage);
  } else if (stage == "reference") {
    result = Reference(ctx);
  } else if (stage == "compile") {
    result = Compile(ctx);
  } else if (stage == "run") {
    result = Run(ctx, /*benchmark=*/false);
  } else if (stage == "validate") {
    result = Validate(ctx);
  } else {
    result = Run(ctx, /*benchmark=*/true);
  }
  HoldToStageContract(ctx, stage, &result);
  return result;
}

}  // namespace gauntlet::worker
