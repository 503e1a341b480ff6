// The best-config files autotune writes and `usebest` reads, in vLLM's
// layout (fused_moe/configs/): one file per (E, N, device[, dtype]), keys the
// token counts as strings, values the kernel's config fields. Pure.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace gauntlet::worker::moe {

// "E=128,N=96,device_name=NVIDIA_H200.json", with ",dtype=fp8_w8a8" for fp8;
// spaces in the device name become '_', as vLLM's get_config_file_name.
std::string ConfigFileName(int experts, int inter, const std::string& device_name, bool fp8);

// The entry of the token count nearest `tokens` (vLLM's get_moe_configs: the
// least |key − tokens|; a tie goes to the smaller key). Nullopt for a file
// with no integer keys.
std::optional<nlohmann::json> NearestConfig(const nlohmann::json& file, int tokens, int* chosen_key = nullptr);

// vLLM's get_default_config for unquantized weights, which a missing file falls back to.
nlohmann::json DefaultConfig(int tokens, int experts);

}  // namespace gauntlet::worker::moe
