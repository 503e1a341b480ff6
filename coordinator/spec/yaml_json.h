// Converts YAML nodes to JSON values, keeping the types a user means: a plain
// scalar that reads as a number or boolean becomes one; a quoted one stays a string.
#pragma once

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

namespace gauntlet::spec {

nlohmann::json YamlToJson(const YAML::Node& node);

}  // namespace gauntlet::spec
