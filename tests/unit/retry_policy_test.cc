// A spec's retry rules over the default: only what can heal is retried.
#include "lib/contract/retry_policy.h"

#include <gtest/gtest.h>

namespace gauntlet::contract {
namespace {

TEST(RetryPolicyTest, WithoutRulesOnlyWhatCanHealIsRetriedWithinMaxAttempts) {
  for (FailureClass heals : {FailureClass::kInfrastructure, FailureClass::kCommand, FailureClass::kNone}) {
    const RetryBudget budget = BudgetFor({}, heals, 1, 3);
    EXPECT_TRUE(budget.retryable);
    EXPECT_EQ(budget.max_attempts, 3);
    EXPECT_EQ(budget.note, "");
  }
  for (FailureClass final_class : {FailureClass::kVerdict, FailureClass::kConfiguration}) {
    EXPECT_FALSE(BudgetFor({}, final_class, 2, 3).retryable);
  }
}

TEST(RetryPolicyTest, TheFirstMatchingRuleDecides) {
  const std::vector<RetryRule> rules = {{FailureClass::kNone, 75, 2},
                                        {FailureClass::kCommand, std::nullopt, 0},
                                        {FailureClass::kVerdict, std::nullopt, 1},
                                        {FailureClass::kInfrastructure, 9, 5}};
  const RetryBudget tempfail = BudgetFor(rules, FailureClass::kCommand, 75, 1);
  EXPECT_TRUE(tempfail.retryable) << "exit 75 beats the command rule below it";
  EXPECT_EQ(tempfail.max_attempts, 3);
  EXPECT_EQ(tempfail.note, "retry rule {exit_code: 75, limit: 2}");
  const RetryBudget other = BudgetFor(rules, FailureClass::kCommand, 1, 5);
  EXPECT_FALSE(other.retryable) << "limit 0: never, whatever max_attempts says";
  EXPECT_EQ(other.max_attempts, 1);
  EXPECT_EQ(other.note, "retry rule {class: command, limit: 0}");
  const RetryBudget flaky_numerics = BudgetFor(rules, FailureClass::kVerdict, 1, 1);
  EXPECT_TRUE(flaky_numerics.retryable) << "a rule may retry a verdict";
  EXPECT_EQ(flaky_numerics.max_attempts, 2);
  // Both class and exit code must match; a lost attempt has no exit code.
  EXPECT_EQ(BudgetFor(rules, FailureClass::kInfrastructure, 9, 1).max_attempts, 6);
  const RetryBudget lost = BudgetFor(rules, FailureClass::kInfrastructure, std::nullopt, 2);
  EXPECT_TRUE(lost.retryable);
  EXPECT_EQ(lost.max_attempts, 2) << "no rule matched: the default";
}

TEST(RetryPolicyTest, RulesSurviveTheStoreAndNamesParse) {
  const std::vector<RetryRule> rules = {{FailureClass::kInfrastructure, std::nullopt, 3},
                                        {FailureClass::kNone, 75, 2},
                                        {FailureClass::kCommand, 4, 0}};
  auto decoded = DecodeRetryRules(EncodeRetryRules(rules));
  ASSERT_TRUE(decoded.has_value()) << decoded.error().ToString();
  EXPECT_EQ(*decoded, rules);
  EXPECT_EQ(EncodeRetryRules({}), "");
  EXPECT_TRUE(DecodeRetryRules("")->empty());
  EXPECT_FALSE(DecodeRetryRules("{\"limit\": 1}").has_value());
  EXPECT_FALSE(DecodeRetryRules("[{\"class\": \"weather\", \"limit\": 1}]").has_value());
  EXPECT_EQ(ParseFailureClass("verdict"), FailureClass::kVerdict);
  EXPECT_EQ(ParseFailureClass("cancelled"), std::nullopt) << "not a failure a rule can retry";
  EXPECT_EQ(ParseFailureClass("Verdict"), std::nullopt);
}

}  // namespace
}  // namespace gauntlet::contract
