// kernel.moe: seed 004's fused-MoE benchmark as a worker suite. Every method
// is checked against the per-token fp32 reference before it is timed; modes
// run (one method, one token count), benchmark (the seed's table: a row per
// input_token, a column per method) and autotune (each config checked, then
// timed; the winners written as a vLLM-layout best-config file that
// `usebest` reads back). docs/moe.md.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <filesystem>
#include <fstream>
#include <random>

#include <spdlog/spdlog.h>

#include "lib/moe/moe_params.h"
#include "worker/model/dtype.h"
#include "worker/model/fp8_e4m3.h"
#include "worker/suites/llm_io.h"
#include "worker/suites/moe/gpu_moe.h"
#include "worker/suites/moe/moe_layer.h"
#include "worker/suites/moe/tuned_configs.h"
#include "worker/suites/suite.h"

namespace gauntlet::worker {
namespace {

namespace fs = std::filesystem;
using gauntlet::moe::MoeParams;
using moe::MoeShape;
using moe::MoeWeights;
using moe::Routing;
using nlohmann::json;

// The largest difference over the largest value of the reference. A cpu
// method on the same bf16 weights differs only in summation order (~1e-6);
// fp8 e4m3 weights and activations keep 3 mantissa bits (~4 % an element),
// which averages down over the sums.
constexpr double kBf16Bound = 1e-4;
constexpr double kFp8Bound = 0.1;
// A GPU method rounds the activation to bf16 between its GEMMs, as a bf16
// engine does: ~4e-3 of an element.
constexpr double kGpuBf16Bound = 2e-2;

constexpr int kCpuBlockCandidates[] = {1, 2, 4, 8, 16, 32, 64, 128, 256};
// The fused kernels keep a block's rows in registers: 1 to 32.
constexpr int kFusedBlockCandidates[] = {1, 2, 4, 8, 16, 32};

int FusedBlock(const json& config) {
  int block = config.value("BLOCK_SIZE_M", 16);
  for (int candidate : kFusedBlockCandidates) {
    if (candidate >= block) return candidate;
  }
  return 32;  // vLLM's default of 64 for large batches is more than the kernels take.
}

float RoundBf16(float value) { return BF16ToF32(F32ToBF16(value)); }

// fp8 e4m3 with a scale: the value the dequantized weight holds.
void QuantizeFp8(float* values, size_t count, size_t row, bool per_row) {
  const size_t rows = per_row ? count / row : 1, width = per_row ? row : count;
  for (size_t r = 0; r < rows; ++r) {
    float* begin = values + r * width;
    float largest = 0;
    for (size_t i = 0; i < width; ++i) largest = std::max(largest, std::fabs(begin[i]));
    const float scale = largest > 0 ? largest / kF8E4M3Max : 1.0f;
    for (size_t i = 0; i < width; ++i) begin[i] = F8E4M3ToF32(F32ToF8E4M3(begin[i] / scale)) * scale;
  }
}

struct Layer {
  MoeShape shape;
  std::vector<float> x, x_method;       // [tokens, hidden]; the method's copy in the method's dtype
  Routing routing;
  MoeWeights weights, weights_method;   // bf16 values; the method's copy
};

Layer MakeLayer(const MoeParams& p, int tokens) {
  Layer layer;
  layer.shape = {tokens, p.inter, p.hidden, p.experts, p.topk};
  std::mt19937 random(static_cast<uint32_t>(p.seed));
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  const float weight_scale = 1.0f / std::sqrt(static_cast<float>(p.hidden));
  const size_t n = static_cast<size_t>(p.inter), k = static_cast<size_t>(p.hidden), e = static_cast<size_t>(p.experts);
  // Weights first, so a token count changes only the inputs.
  layer.weights.w1.resize(e * 2 * n * k);
  layer.weights.w2.resize(e * k * n);
  for (auto& w : layer.weights.w1) w = RoundBf16(uniform(random) * weight_scale);
  for (auto& w : layer.weights.w2) w = RoundBf16(uniform(random) * weight_scale);
  layer.x.resize(static_cast<size_t>(tokens) * k);
  for (auto& v : layer.x) v = RoundBf16(uniform(random));
  std::vector<float> logits(static_cast<size_t>(tokens) * e);
  for (auto& v : logits) v = 2.0f * uniform(random);
  layer.routing = moe::Route(logits, tokens, p.experts, p.topk);
  layer.weights_method = layer.weights;
  layer.x_method = layer.x;
  if (p.dtype == "float8_e4m3fn") {
    const bool per_channel = p.scale == "per_channel";
    for (size_t expert = 0; expert < e; ++expert) {
      QuantizeFp8(layer.weights_method.w1.data() + expert * 2 * n * k, 2 * n * k, k, per_channel);
      QuantizeFp8(layer.weights_method.w2.data() + expert * k * n, k * n, n, per_channel);
    }
    QuantizeFp8(layer.x_method.data(), layer.x_method.size(), k, /*per_row=*/true);  // Dynamic, per token.
  }
  if (p.fault == "expert") {
    // One expert's down projection off by a constant: what a wrong expert
    // offset or a stale weight buffer looks like.
    const size_t bad = static_cast<size_t>(layer.routing.experts[0]);
    for (size_t i = 0; i < k * n; ++i) layer.weights_method.w2[bad * k * n + i] += 0.5f * weight_scale;
  }
  return layer;
}

std::vector<float> RunMethod(const std::string& method, const Layer& layer, const json& config) {
  if (method == "reference") {
    return moe::ReferenceMoe(layer.x_method, layer.weights_method, layer.routing, layer.shape);
  }
  return moe::CpuMoe(layer.x_method, layer.weights_method, layer.routing, layer.shape,
                     config.value("BLOCK_SIZE_M", 16));
}

double RelativeError(const std::vector<float>& got, const std::vector<float>& want) {
  double worst = 0, scale = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    worst = std::max(worst, std::fabs(static_cast<double>(got[i]) - want[i]));
    scale = std::max(scale, std::fabs(static_cast<double>(want[i])));
  }
  return scale > 0 ? worst / scale : worst;
}

struct Timing {
  double median_ms = 0, spread_ms = 0;
};

// `run` returns its own milliseconds (a device's events, or the wall clock).
Timing TimeMs(const std::function<double()>& run, int repeats) {
  (void)run();  // Warm: pages touched, threads started, kernels loaded.
  std::vector<double> ms;
  for (int i = 0; i < repeats; ++i) ms.push_back(run());
  std::sort(ms.begin(), ms.end());
  return {ms[ms.size() / 2], ms.back() - ms.front()};
}

Timing Time(const std::function<void()>& run, int repeats) {
  return TimeMs([&] {
    const auto started = std::chrono::steady_clock::now();
    run();
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  }, repeats);
}

// The GPU methods' state: the layer on the device, uploaded once per layer
// (each token count's layer is a new one: `row` says which).
class GpuMethods {
 public:
  explicit GpuMethods(const SuiteContext& ctx) : ctx_(ctx) {}
  std::vector<float> Output(const std::string& method, const Layer& layer, size_t row, const json& config) {
    (void)Run(method, layer, row, config);
    return gpu_->Result();
  }
  Timing Timed(const std::string& method, const Layer& layer, size_t row, const json& config, int repeats) {
    return TimeMs([&] { return Run(method, layer, row, config); }, repeats);
  }

 private:
  double Run(const std::string& method, const Layer& layer, size_t row, const json& config) {
    if (!gpu_) gpu_ = moe::OpenGpuMoe(ctx_.rank, ctx_.device);
    if (loaded_row_ != static_cast<std::ptrdiff_t>(row)) {
      gpu_->Load(layer.x_method, layer.weights_method, layer.routing, layer.shape);
      loaded_row_ = static_cast<std::ptrdiff_t>(row);
    }
    return method == "naive" ? gpu_->RunNaiveMs() : gpu_->RunFusedMs(FusedBlock(config));
  }
  const SuiteContext& ctx_;
  std::unique_ptr<moe::GpuMoe> gpu_;
  std::ptrdiff_t loaded_row_ = -1;
};

std::string DeviceName() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) != 0) continue;
    std::string name = line.substr(line.find(':') + 1);
    name.erase(0, name.find_first_not_of(' '));
    return name.empty() ? "cpu" : name;
  }
  return "cpu";
}

// usebest: suite-given folder first, then the job's inputs (an autotune job
// it depends on); vLLM's message and fallback when neither has the file.
json BestConfig(const MoeParams& p, const SuiteContext& ctx, const std::string& file_name, int tokens,
                json* details) {
  std::vector<std::string> looked;
  std::vector<fs::path> candidates;
  if (!p.config_dir.empty()) candidates.push_back(fs::path(p.config_dir) / file_name);
  std::error_code ec;
  if (!ctx.inputs_dir.empty() && fs::is_directory(ctx.inputs_dir, ec)) {
    for (auto it = fs::recursive_directory_iterator(ctx.inputs_dir, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      if (it->path().filename() == file_name) candidates.push_back(it->path());
    }
    if (candidates.empty() || candidates.back().filename() != file_name) {
      candidates.push_back(fs::path(ctx.inputs_dir) / file_name);
    }
  }
  for (const auto& path : candidates) {
    looked.push_back(path.string());
    std::ifstream in(path);
    if (!in) continue;
    const json file = json::parse(in, nullptr, false);
    int key = 0;
    if (auto config = moe::NearestConfig(file, tokens, &key)) {
      spdlog::info("Using configuration from {} for MoE layer (tuned for {} tokens, nearest to {}).", path.string(), key,
                   tokens);
      (*details)["config_file"] = path.string();
      (*details)["config_tokens"] = key;
      return *config;
    }
  }
  std::string paths;
  for (const auto& path : looked) paths += (paths.empty() ? "" : ", ") + path;
  spdlog::warn("Using default MoE config. Performance might be sub-optimal! Config file not found at {}",
               paths.empty() ? file_name : paths);
  (*details)["config_file"] = nullptr;
  (*details)["config_looked_at"] = looked;
  return moe::DefaultConfig(tokens, p.experts);
}

std::string Fixed(double value, int digits) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", digits, value);
  return text;
}

// `text` right-aligned in `width` columns, as pandas prints the seed's table.
std::string Right(const std::string& text, size_t width) {
  return std::string(text.size() < width ? width - text.size() : 1, ' ') + text;
}

}  // namespace

SuiteResult RunMoe(const SuiteContext& ctx) {
  if (ctx.size != 1) throw BadParams("the moe suite runs on one device; the job has " + std::to_string(ctx.size));
  const MoeParams p = Require(gauntlet::moe::ReadMoeParams(ctx.params, ctx.backend == "gpu"));
  const bool fp8 = p.dtype == "float8_e4m3fn";
  const double bound = fp8 ? kFp8Bound : kBf16Bound;
  const std::string device = ctx.backend == "gpu" ? moe::GpuName(ctx.rank, ctx.device) : DeviceName();
  const std::string file_name = moe::ConfigFileName(p.experts, p.inter, device, fp8);
  SuiteResult result;
  result.pass = true;
  result.details = {{"device_name", device}, {"config_file_name", file_name}, {"bound", bound}};
  auto fail = [&](const std::string& why) {
    if (result.pass) result.reason = why;
    result.pass = false;
  };

  if (p.mode == "autotune") {
    const std::string& method = p.methods.front();
    if (method != "cpu" && method != "fused") {
      throw BadParams("params.method: autotune tunes the cpu and fused methods' configs; '" + method + "' has none");
    }
    const bool on_gpu = method == "fused";
    const double method_bound = on_gpu && !fp8 ? kGpuBf16Bound : bound;
    GpuMethods gpu(ctx);
    std::vector<int> candidates = on_gpu ? std::vector<int>(std::begin(kFusedBlockCandidates), std::end(kFusedBlockCandidates))
                                         : std::vector<int>(std::begin(kCpuBlockCandidates), std::end(kCpuBlockCandidates));
    json tuned = json::object();
    for (size_t r = 0; r < p.tokens.size(); ++r) {
      const int tokens = p.tokens[r];
      const Layer layer = MakeLayer(p, tokens);
      const auto reference = moe::ReferenceMoe(layer.x, layer.weights, layer.routing, layer.shape);
      auto output = [&](const json& config) {
        return on_gpu ? gpu.Output(method, layer, r, config) : RunMethod(method, layer, config);
      };
      auto timed = [&](const json& config) {
        return on_gpu ? gpu.Timed(method, layer, r, config, p.repeats)
                      : Time([&] { (void)RunMethod(method, layer, config); }, p.repeats);
      };
      const json fallback = moe::DefaultConfig(tokens, p.experts);
      const Timing default_time = timed(fallback);
      json best;
      Timing best_time{INFINITY, 0};
      for (int block_m : candidates) {
        const json config = {{"BLOCK_SIZE_M", block_m}};
        const double error = RelativeError(output(config), reference);
        if (!(error <= method_bound)) {
          spdlog::warn("moe: BLOCK_SIZE_M {} at {} tokens is off the reference by {:.3g}; not timed", block_m, tokens,
                       error);
          continue;
        }
        const Timing timing = timed(config);
        spdlog::info("moe: {} tokens, BLOCK_SIZE_M {}: {:.4f} ms", tokens, block_m, timing.median_ms);
        if (timing.median_ms < best_time.median_ms) best = config, best_time = timing;
      }
      if (best.is_null()) {
        fail("autotune at " + std::to_string(tokens) + " tokens: no config matched the reference within " +
             Fixed(method_bound, 6));
        continue;
      }
      best["time_ms"] = best_time.median_ms;
      best["spread_ms"] = best_time.spread_ms;
      best["repeats"] = p.repeats;
      best["default_time_ms"] = default_time.median_ms;
      best["runner"] = {{"device", device}, {"compiler", __VERSION__}, {"gauntlet", GAUNTLET_VERSION}};
      tuned[std::to_string(tokens)] = best;
      const std::string row = "t" + std::to_string(tokens);
      result.metrics[row + ".best_time_ms"] = best_time.median_ms;
      result.metrics[row + ".default_time_ms"] = default_time.median_ms;
      result.metrics[row + ".speedup_over_default"] = default_time.median_ms / best_time.median_ms;
    }
    WriteJson(ctx.out_dir + "/" + file_name, tuned);
    result.details["tuned"] = tuned;
    spdlog::info("moe: best configs written to {}", ctx.out_dir + "/" + file_name);
    return result;
  }

  // run and benchmark: each (tokens, method) checked, then timed.
  std::string table = "moe-" + std::string(p.mode == "run" ? "test" : "benchmark") + ":\n   input_token";
  for (const auto& method : p.methods) table += Right(method, 11);
  table += "\n";
  json rows = json::array();
  GpuMethods gpu(ctx);
  for (size_t r = 0; r < p.tokens.size(); ++r) {
    const int tokens = p.tokens[r];
    const Layer layer = MakeLayer(p, tokens);
    const auto reference = moe::ReferenceMoe(layer.x, layer.weights, layer.routing, layer.shape);
    std::string line = std::to_string(r) + Right(Fixed(tokens, 1), 14 - std::to_string(r).size());
    for (const auto& method : p.methods) {
      json details = json::object();
      const json config = p.usebest ? BestConfig(p, ctx, file_name, tokens, &details) : moe::DefaultConfig(tokens, p.experts);
      const bool on_gpu = gauntlet::moe::IsGpuMethod(method);
      const double method_bound = on_gpu && !fp8 ? kGpuBf16Bound : bound;
      const double error = RelativeError(on_gpu ? gpu.Output(method, layer, r, config) : RunMethod(method, layer, config), reference);
      const std::string key = p.mode == "run" ? "" : method + ".t" + std::to_string(tokens) + ".";
      result.metrics[key + "relative_error"] = error;
      if (!(error <= method_bound)) {
        fail(method + " at " + std::to_string(tokens) + " tokens is off the reference by " + Fixed(error, 6) +
             " (relative; the bound for " + p.dtype + " is " + Fixed(method_bound, 6) + ")");
        line += Right("FAIL", 11);
        continue;
      }
      const Timing timing = on_gpu ? gpu.Timed(method, layer, r, config, p.repeats)
                                   : Time([&] { (void)RunMethod(method, layer, config); }, p.repeats);
      result.metrics[key + "time_ms"] = timing.median_ms;
      result.metrics[key + "spread_ms"] = timing.spread_ms;
      const double bytes = moe::TouchedWeightBytes(layer.routing, layer.shape, fp8 ? 1.0 : 2.0);
      result.metrics[key + "weight_gbps"] = bytes / (timing.median_ms * 1e6);
      result.metrics[key + "tflops"] = moe::MoeFlops(layer.shape) / (timing.median_ms * 1e9);
      line += Right(Fixed(timing.median_ms, 6), 11);
      rows.push_back({{"input_token", tokens}, {"method", method}, {"time_ms", timing.median_ms},
                      {"spread_ms", timing.spread_ms}, {"relative_error", error}, {"config", config},
                      {"config_source", details}});
    }
    table += line + "\n";
  }
  std::printf("%s", table.c_str());
  std::ofstream(ctx.out_dir + "/moe_" + p.mode + ".txt") << table;
  result.details["rows"] = rows;
  return result;
}

}  // namespace gauntlet::worker
