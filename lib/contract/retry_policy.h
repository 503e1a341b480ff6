// Which failures run again, and how often: a spec's `retry:` rules over the
// default (only what can heal is retried, within max_attempts), as
// Buildkite's automatic retry rules are. Pure; no protobuf, so the spec
// parser (and its fuzzer) take it alone.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "lib/contract/worker_contract.h"

namespace gauntlet::contract {

// Matches a failed attempt by its class, its exit code, or both; `limit` is
// how many times the job may run again for such a failure (0: never).
struct RetryRule {
  FailureClass failure_class = FailureClass::kNone;  // kNone: any class.
  std::optional<int> exit_code;
  int limit = 0;
  bool operator==(const RetryRule&) const = default;
};

struct RetryBudget {
  bool retryable = false;
  int max_attempts = 1;  // The attempts this failure allows, this one included.
  std::string note;      // With a rule: which one decided, for the job's reason.
};

// The first rule that matches decides; without one, infrastructure and exec
// command failures are retried within `max_attempts`, verdicts and
// configuration errors are not (kNone, an older agent's unclassified
// failure, is retried). A lost attempt has class infrastructure and no exit
// code.
RetryBudget BudgetFor(const std::vector<RetryRule>& rules, FailureClass failure_class,
                      std::optional<int> exit_code, int max_attempts);

// "infrastructure", "verdict", "configuration", "command" (FailureClassName's
// names of the classes a failure can have); nullopt otherwise.
std::optional<FailureClass> ParseFailureClass(const std::string& name);

// As stored with a job: "" for no rules.
std::string EncodeRetryRules(const std::vector<RetryRule>& rules);
StatusOr<std::vector<RetryRule>> DecodeRetryRules(const std::string& text);

}  // namespace gauntlet::contract
