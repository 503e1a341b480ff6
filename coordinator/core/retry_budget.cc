#include "coordinator/core/retry_budget.h"

#include <spdlog/spdlog.h>

namespace gauntlet::core {
namespace {

contract::FailureClass FromWire(v1::FailureClass failure_class) {
  switch (failure_class) {
    case v1::FAILURE_CLASS_VERDICT: return contract::FailureClass::kVerdict;
    case v1::FAILURE_CLASS_CONFIGURATION: return contract::FailureClass::kConfiguration;
    case v1::FAILURE_CLASS_INFRASTRUCTURE: return contract::FailureClass::kInfrastructure;
    case v1::FAILURE_CLASS_COMMAND: return contract::FailureClass::kCommand;
    default: return contract::FailureClass::kNone;  // An older agent: unclassified.
  }
}

}  // namespace

contract::RetryBudget RetryBudgetOf(const store::AttemptRow& attempt, v1::FailureClass failure_class,
                                    std::optional<int> exit_code) {
  auto rules = contract::DecodeRetryRules(attempt.retry_json);
  if (!rules) {
    // We wrote them at submit; unreadable means a bug, and the default is the safe reading.
    spdlog::error("job {}: {}; retrying by the default rules", attempt.job_id, rules.error().ToString());
    rules.emplace();
  }
  return contract::BudgetFor(*rules, FromWire(failure_class), exit_code, attempt.max_attempts);
}

void NoteRuleThatEnded(const contract::RetryBudget& budget, jobs::Decision* decision) {
  if (decision->job == v1::JOB_STATE_FAILED && !budget.note.empty()) decision->reason += "; by " + budget.note;
}

}  // namespace gauntlet::core
