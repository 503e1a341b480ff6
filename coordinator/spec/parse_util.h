// Helpers shared by the spec parser's files: error formatting with source
// positions, typed scalar readers and the unknown-field check.
#pragma once

#include <algorithm>
#include <charconv>
#include <regex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "common/status.h"
#include "coordinator/spec/spec.h"

namespace gauntlet::spec::internal {

// Formats errors as "<source>:<line>:<col>: <path>: <message>".
class ErrorContext {
 public:
  explicit ErrorContext(const std::string& source) : source_(source) {}

  Status At(const YAML::Node& node, const std::string& path, const std::string& message) const {
    std::string where = source_;
    if (node.IsDefined() && node.Mark().line >= 0) {
      where += ":" + std::to_string(node.Mark().line + 1) + ":" + std::to_string(node.Mark().column + 1);
    }
    return Status::InvalidArgument(where + ": " + path + ": " + message);
  }

 private:
  const std::string& source_;
};

inline std::string Quote(const YAML::Node& node) {
  if (node.IsScalar()) return "'" + node.Scalar() + "'";
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a mapping";
  return "nothing";
}

inline size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1] ? 1 : 0)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// Refuses keys outside `allowed`, suggesting the nearest allowed one.
inline Status CheckKeys(const ErrorContext& ctx, const YAML::Node& map, const std::string& path,
                 const std::vector<std::string>& allowed) {
  for (const auto& entry : map) {
    const std::string key = entry.first.Scalar();
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    std::string best;
    size_t best_distance = 3;
    for (const auto& candidate : allowed) {
      size_t distance = EditDistance(key, candidate);
      if (distance < best_distance) best = candidate, best_distance = distance;
    }
    std::string hint = best.empty() ? "allowed fields: " : "did you mean '" + best + "'? allowed fields: ";
    for (size_t i = 0; i < allowed.size(); ++i) hint += (i ? ", " : "") + allowed[i];
    return ctx.At(entry.first, path.empty() ? key : path + "." + key, "unknown field; " + hint);
  }
  return Status::Ok();
}

inline StatusOr<int> ParseInt(const ErrorContext& ctx, const YAML::Node& node, const std::string& path,
                       int min, int max) {
  std::string range = "an integer from " + std::to_string(min) + " to " + std::to_string(max);
  if (!node.IsScalar()) return Err(ctx.At(node, path, Quote(node) + " must be " + range));
  const std::string& text = node.Scalar();
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    return Err(ctx.At(node, path, Quote(node) + " must be " + range));
  }
  return value;
}

inline StatusOr<std::string> ParseString(const ErrorContext& ctx, const YAML::Node& node, const std::string& path) {
  if (!node.IsScalar()) return Err(ctx.At(node, path, Quote(node) + " must be a string"));
  return node.Scalar();
}

inline StatusOr<std::vector<std::string>> ParseStringList(const ErrorContext& ctx, const YAML::Node& node,
                                                   const std::string& path) {
  std::vector<std::string> out;
  if (node.IsScalar()) {
    out.push_back(node.Scalar());
    return out;
  }
  if (!node.IsSequence()) return Err(ctx.At(node, path, Quote(node) + " must be a string or a list of strings"));
  for (size_t i = 0; i < node.size(); ++i) {
    auto item = ParseString(ctx, node[i], path + "[" + std::to_string(i) + "]");
    if (!item) return Err(item.error());
    out.push_back(*item);
  }
  return out;
}

// `retry:` — a list of {class, exit_code, limit}: which failures run again
// and how often, the first matching rule deciding (lib/jobs/retry_policy.h).
inline StatusOr<std::vector<contract::RetryRule>> ParseRetryRules(const ErrorContext& ctx, const YAML::Node& node,
                                                              const std::string& path) {
  if (!node.IsSequence() || node.size() == 0) {
    return Err(ctx.At(node, path, Quote(node) + " must be a list such as [{class: infrastructure, limit: 3}, "
                                                "{exit_code: 75, limit: 2}]"));
  }
  std::vector<contract::RetryRule> rules;
  for (size_t i = 0; i < node.size(); ++i) {
    const YAML::Node& entry = node[i];
    const std::string at = path + "[" + std::to_string(i) + "]";
    if (!entry.IsMap()) return Err(ctx.At(entry, at, Quote(entry) + " must be a mapping {class, exit_code, limit}"));
    GAUNTLET_RETURN_IF_ERROR(CheckKeys(ctx, entry, at, {"class", "exit_code", "limit"}));
    contract::RetryRule rule;
    if (entry["class"]) {
      auto name = ParseString(ctx, entry["class"], at + ".class");
      if (!name) return Err(name.error());
      auto failure_class = contract::ParseFailureClass(*name);
      if (!failure_class) {
        return Err(ctx.At(entry["class"], at + ".class", "'" + *name + "' is not a failure class; use "
                                                          "infrastructure, verdict, configuration or command"));
      }
      rule.failure_class = *failure_class;
    }
    if (entry["exit_code"]) {
      auto code = ParseInt(ctx, entry["exit_code"], at + ".exit_code", 1, 255);
      if (!code) return Err(code.error());
      rule.exit_code = *code;
    }
    if (!entry["class"] && !entry["exit_code"]) {
      return Err(ctx.At(entry, at, "names no failure; give class, exit_code or both"));
    }
    if (!entry["limit"]) return Err(ctx.At(entry, at + ".limit", "missing; how many times to run again (0: never)"));
    auto limit = ParseInt(ctx, entry["limit"], at + ".limit", 0, 99);
    if (!limit) return Err(limit.error());
    rule.limit = *limit;
    rules.push_back(rule);
  }
  return rules;
}

inline const std::regex& NamePattern() {
  static const std::regex pattern("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}");
  return pattern;
}

inline const std::regex& VariablePattern() {
  static const std::regex pattern("\\$\\{([^}]*)\\}");
  return pattern;
}

// Every ${var} in `text` must name a matrix variable of the job.
inline Status CheckVariables(const ErrorContext& ctx, const YAML::Node& node, const std::string& path,
                      const std::string& text, const JobTemplate& job) {
  for (auto it = std::sregex_iterator(text.begin(), text.end(), VariablePattern());
       it != std::sregex_iterator(); ++it) {
    std::string variable = (*it)[1];
    bool known = std::any_of(job.matrix.begin(), job.matrix.end(),
                             [&](const auto& entry) { return entry.first == variable; });
    if (!known) {
      return ctx.At(node, path, "'${" + variable + "}' is not a matrix variable of job '" + job.name +
                                    "'; add it under matrix: or remove the reference");
    }
  }
  return Status::Ok();
}

inline Status CheckVariablesInJson(const ErrorContext& ctx, const YAML::Node& node, const std::string& path,
                            const nlohmann::json& value, const JobTemplate& job) {
  if (value.is_string()) return CheckVariables(ctx, node, path, value.get<std::string>(), job);
  if (value.is_structured()) {
    for (const auto& item : value) GAUNTLET_RETURN_IF_ERROR(CheckVariablesInJson(ctx, node, path, item, job));
  }
  return Status::Ok();
}


}  // namespace gauntlet::spec::internal
