#include "lib/moe/moe_params.h"

#include <charconv>
#include <set>
#include <sstream>

namespace gauntlet::moe {
namespace {

const std::set<std::string> kParams = {"input_token", "inter_dim", "hidden_size", "experts", "topk", "dtype",
                                       "scale", "method", "mode", "usebest", "config_dir", "seed", "repeats",
                                       "fault"};
const std::set<std::string> kMethods = {"reference", "cpu", "naive", "fused"};

Status Bad(const std::string& name, const nlohmann::json& value, const std::string& fix) {
  return Status::InvalidArgument("params." + name + ": " + (value.is_string() ? "'" + value.get<std::string>() + "'"
                                                                              : value.dump()) + " " + fix);
}

StatusOr<int> Int(const nlohmann::json& params, const char* name, int fallback, int min, int max) {
  auto found = params.find(name);
  if (found == params.end()) return fallback;
  if (!found->is_number_integer() || found->get<int64_t>() < min || found->get<int64_t>() > max) {
    return Err(Bad(name, *found, "must be an integer from " + std::to_string(min) + " to " + std::to_string(max)));
  }
  return found->get<int>();
}

StatusOr<std::string> Choice(const nlohmann::json& params, const char* name, const std::string& fallback,
                             const std::set<std::string>& allowed) {
  auto found = params.find(name);
  if (found == params.end()) return fallback;
  std::string list;
  for (const auto& item : allowed) list += (list.empty() ? "" : ", ") + item;
  if (!found->is_string() || !allowed.contains(found->get<std::string>())) {
    return Err(Bad(name, *found, "is not one of " + list));
  }
  return found->get<std::string>();
}

std::vector<std::string> Split(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream stream(text);
  for (std::string item; std::getline(stream, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

}  // namespace

bool IsGpuMethod(const std::string& method) { return method == "naive" || method == "fused"; }


StatusOr<MoeParams> ReadMoeParams(const nlohmann::json& params, bool gpu) {
  if (!params.is_object()) return Err(Status::InvalidArgument("params must be a mapping"));
  for (const auto& [key, value] : params.items()) {
    if (!kParams.contains(key)) {
      std::string list;
      for (const auto& name : kParams) list += (list.empty() ? "" : ", ") + name;
      return Err(Status::InvalidArgument("params." + key + ": unknown parameter of suite moe; allowed: " + list));
    }
  }
  MoeParams out;
  GAUNTLET_ASSIGN_OR_RETURN(out.mode, Choice(params, "mode", "run", {"run", "benchmark", "autotune"}));
  GAUNTLET_ASSIGN_OR_RETURN(out.inter, Int(params, "inter_dim", 96, 1, 1 << 20));
  GAUNTLET_ASSIGN_OR_RETURN(out.hidden, Int(params, "hidden_size", 2048, 1, 1 << 20));
  GAUNTLET_ASSIGN_OR_RETURN(out.experts, Int(params, "experts", 128, 1, 4096));
  GAUNTLET_ASSIGN_OR_RETURN(out.topk, Int(params, "topk", 8, 1, 4096));
  if (out.topk > out.experts) {
    return Err(Status::InvalidArgument("params.topk: " + std::to_string(out.topk) + " is more than experts (" +
                                       std::to_string(out.experts) + "); a token picks at most every expert once"));
  }
  GAUNTLET_ASSIGN_OR_RETURN(out.dtype, Choice(params, "dtype", "bfloat16", {"bfloat16", "float8_e4m3fn"}));
  GAUNTLET_ASSIGN_OR_RETURN(out.scale, Choice(params, "scale", "per_tensor", {"per_tensor", "per_channel"}));
  GAUNTLET_ASSIGN_OR_RETURN(out.seed, Int(params, "seed", 0, 0, 1 << 30));
  GAUNTLET_ASSIGN_OR_RETURN(out.repeats, Int(params, "repeats", 10, 1, 100000));
  GAUNTLET_ASSIGN_OR_RETURN(out.fault, Choice(params, "fault", "", {"", "expert"}));
  if (auto usebest = params.find("usebest"); usebest != params.end()) {
    if (!usebest->is_boolean()) return Err(Bad("usebest", *usebest, "must be true or false"));
    out.usebest = usebest->get<bool>();
  }
  if (auto dir = params.find("config_dir"); dir != params.end()) {
    if (!dir->is_string()) return Err(Bad("config_dir", *dir, "must be a folder"));
    out.config_dir = dir->get<std::string>();
  }
  // input_token: a count, or a comma-separated list (the benchmark's rows).
  if (auto tokens = params.find("input_token"); tokens != params.end()) {
    if (tokens->is_number_integer()) {
      out.tokens.push_back(tokens->get<int>());
    } else if (tokens->is_string()) {
      for (const auto& item : Split(tokens->get<std::string>())) {
        int value = 0;
        auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
        if (ec != std::errc() || end != item.data() + item.size()) {
          return Err(Bad("input_token", *tokens, "must be a token count or a list such as \"1,1024,2048\""));
        }
        out.tokens.push_back(value);
      }
    }
    if (out.tokens.empty()) return Err(Bad("input_token", *tokens, "must be a token count or a list such as \"1,1024\""));
    for (int count : out.tokens) {
      if (count < 1 || count > (1 << 20)) return Err(Bad("input_token", *tokens, "must count 1 to 1048576 tokens"));
    }
  } else {
    out.tokens = out.mode == "run" ? std::vector<int>{1} : SeedTokenCounts();
  }
  // method: one, or for a benchmark a comma-separated list of columns.
  if (auto method = params.find("method"); method != params.end()) {
    if (!method->is_string()) return Err(Bad("method", *method, "must be a method name"));
    out.methods = Split(method->get<std::string>());
  } else {
    out.methods = out.mode == "benchmark" && gpu ? std::vector<std::string>{"naive", "fused"}
                                                 : std::vector<std::string>{gpu ? "fused" : "cpu"};
  }
  for (const auto& method : out.methods) {
    if (!kMethods.contains(method)) {
      return Err(Status::InvalidArgument("params.method: '" + method +
                                         "' is not a method; use reference, cpu or (backend gpu) naive or fused (aiter's and "
                                         "vLLM's kernels run on a team's own stack: docs/runner-contract.md)"));
    }
    if (IsGpuMethod(method) && !gpu) {
      return Err(Status::InvalidArgument("params.method: '" + method +
                                         "' runs on the GPU; give the kernel entry backend: gpu, or use cpu"));
    }
  }
  if (out.mode != "benchmark" && out.methods.size() != 1) {
    return Err(Status::InvalidArgument("params.method: mode " + out.mode + " takes one method; a list is for benchmark"));
  }
  return out;
}

}  // namespace gauntlet::moe
