#include "lib/contract/retry_policy.h"

#include <nlohmann/json.hpp>

namespace gauntlet::contract {
namespace {

using nlohmann::json;

constexpr FailureClass kFailures[] = {FailureClass::kInfrastructure, FailureClass::kVerdict,
                                     FailureClass::kConfiguration, FailureClass::kCommand};

bool Matches(const RetryRule& rule, FailureClass failure_class, std::optional<int> exit_code) {
  if (rule.failure_class != FailureClass::kNone && rule.failure_class != failure_class) return false;
  if (rule.exit_code && rule.exit_code != exit_code) return false;
  return true;
}

std::string Describe(const RetryRule& rule) {
  std::string text = "retry rule {";
  if (rule.failure_class != FailureClass::kNone) text += "class: " + std::string(FailureClassName(rule.failure_class));
  if (rule.exit_code) {
    text += (text.back() == '{' ? "" : ", ") + std::string("exit_code: ") + std::to_string(*rule.exit_code);
  }
  return text + ", limit: " + std::to_string(rule.limit) + "}";
}

}  // namespace

RetryBudget BudgetFor(const std::vector<RetryRule>& rules, FailureClass failure_class,
                      std::optional<int> exit_code, int max_attempts) {
  for (const RetryRule& rule : rules) {
    if (!Matches(rule, failure_class, exit_code)) continue;
    return {rule.limit > 0, 1 + rule.limit, Describe(rule)};
  }
  const bool heals = failure_class == FailureClass::kNone || IsRetryable(failure_class);
  return {heals, max_attempts, ""};
}

std::optional<FailureClass> ParseFailureClass(const std::string& name) {
  for (FailureClass failure : kFailures) {
    if (name == FailureClassName(failure)) return failure;
  }
  return std::nullopt;
}

std::string EncodeRetryRules(const std::vector<RetryRule>& rules) {
  if (rules.empty()) return "";
  json out = json::array();
  for (const RetryRule& rule : rules) {
    json entry = {{"limit", rule.limit}};
    if (rule.failure_class != FailureClass::kNone) entry["class"] = std::string(FailureClassName(rule.failure_class));
    if (rule.exit_code) entry["exit_code"] = *rule.exit_code;
    out.push_back(std::move(entry));
  }
  return out.dump();
}

StatusOr<std::vector<RetryRule>> DecodeRetryRules(const std::string& text) {
  std::vector<RetryRule> rules;
  if (text.empty()) return rules;
  const json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_array()) return Err(Status::Internal("stored retry rules are not a JSON array: " + text));
  for (const json& entry : parsed) {
    RetryRule rule;
    if (!entry.is_object() || !entry.contains("limit") || !entry["limit"].is_number_integer()) {
      return Err(Status::Internal("stored retry rule without a limit: " + entry.dump()));
    }
    rule.limit = entry["limit"].get<int>();
    if (entry.contains("class")) {
      auto failure_class = ParseFailureClass(entry["class"].is_string() ? entry["class"].get<std::string>() : "");
      if (!failure_class) return Err(Status::Internal("stored retry rule with an unknown class: " + entry.dump()));
      rule.failure_class = *failure_class;
    }
    if (entry.contains("exit_code") && entry["exit_code"].is_number_integer()) rule.exit_code = entry["exit_code"].get<int>();
    rules.push_back(rule);
  }
  return rules;
}

}  // namespace gauntlet::contract
