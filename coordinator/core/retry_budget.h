// A job's `retry:` rules (lib/contract/retry_policy.h) applied to one
// failure of one of its attempts.
#pragma once

#include <optional>

#include "coordinator/store/store.h"
#include "lib/contract/retry_policy.h"
#include "lib/jobs/state_machine.h"

namespace gauntlet::core {

// Whether the job runs again after this failure, and the attempts that
// allows (in place of max_attempts).
contract::RetryBudget RetryBudgetOf(const store::AttemptRow& attempt, v1::FailureClass failure_class,
                                    std::optional<int> exit_code);
// A job that a retry rule let fail says which rule.
void NoteRuleThatEnded(const contract::RetryBudget& budget, jobs::Decision* decision);

}  // namespace gauntlet::core
