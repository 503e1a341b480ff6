#include "coordinator/spec/warnings.h"

#include <cmath>
#include <cstdio>

namespace gauntlet::spec {
namespace {

std::string Number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3g", value);
  return text;
}

// Cross-entropy is at least the reference's own entropy, and a flat top-k
// distribution (a random model's, or a model early in bring-up) has entropy
// ln(k): a threshold below that fails every step whatever the device does.
// The validate job says so when it happens; this says it before.
void CrossEntropyBelowFlatEntropy(const SweepSpec& spec, std::vector<std::string>* warnings) {
  const TestSpec& test = spec.test;
  if (spec.models.empty() || test.type != "metrics") return;
  const double flat = std::log(static_cast<double>(test.top_k));
  if (test.cross_entropy_threshold >= flat) return;
  warnings->push_back("test.cross_entropy_threshold: " + Number(test.cross_entropy_threshold) +
                      " is below ln(top_k) = ln " + std::to_string(test.top_k) + " = " + Number(flat) +
                      " nats, the entropy of a flat top-" + std::to_string(test.top_k) +
                      ": on a model whose next-token distribution is that flat (any random model) every step fails "
                      "whatever the device computes. To judge the device's own error, set test.kl_threshold "
                      "(KL(reference || device), e.g. 0.05)");
}

// pytest says "N deselected"; a nightly that silently stopped running half
// its tests after a marker edit should say so at every submit.
void SuiteDeselected(const SweepSpec& spec, std::vector<std::string>* warnings) {
  const SuiteSelection& suite = spec.suite;
  if (!suite.present || suite.deselected.empty()) return;
  constexpr size_t kNamed = 10;
  std::string names;
  for (size_t i = 0; i < suite.deselected.size() && i < kNamed; ++i) names += (i ? ", " : "") + suite.deselected[i];
  if (suite.deselected.size() > kNamed) names += ", ...";
  warnings->push_back("suite.markers: '" + suite.markers + "' selects " + std::to_string(suite.selected.size()) +
                      " of " + std::to_string(suite.selected.size() + suite.deselected.size()) + " tests; " +
                      std::to_string(suite.deselected.size()) + " deselected: " + names);
}

}  // namespace

std::vector<std::string> SpecWarnings(const SweepSpec& spec) {
  std::vector<std::string> warnings;
  CrossEntropyBelowFlatEntropy(spec, &warnings);
  SuiteDeselected(spec, &warnings);
  return warnings;
}

}  // namespace gauntlet::spec
