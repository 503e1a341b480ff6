#include "coordinator/spec/parser.h"

#include <gtest/gtest.h>

namespace gauntlet::spec {
namespace {

TEST(SpecParserTest, ParsesJobsMatrixAndDefaults) {
  auto spec = ParseSweepSpec(R"(
name: nightly
priority: 5
defaults: {max_attempts: 3, timeout: 90s, devices: 2}
jobs:
  - name: build
    kind: exec
    command: make all
  - name: run
    kind: worker
    suite: selftest
    depends_on: build
    devices: 4
    matrix: {n: [1, 2], mode: [ok]}
    params: {n: "${n}", label: "n=${n}"}
)", "s.yaml");
  ASSERT_TRUE(spec.has_value()) << spec.error().ToString();
  EXPECT_EQ(spec->name, "nightly");
  ASSERT_EQ(spec->jobs.size(), 2u);
  const auto& build = spec->jobs[0];
  EXPECT_EQ(build.kind, JobKind::kExec);
  EXPECT_EQ(build.command, (std::vector<std::string>{"sh", "-c", "make all"}));
  EXPECT_EQ(build.max_attempts, 3);
  EXPECT_DOUBLE_EQ(build.timeout_s, 90);
  EXPECT_EQ(build.devices, 2);
  EXPECT_EQ(build.priority, 5);
  const auto& run = spec->jobs[1];
  EXPECT_EQ(run.devices, 4);
  EXPECT_EQ(run.depends_on, std::vector<std::string>{"build"});
  ASSERT_EQ(run.matrix.size(), 2u);
  EXPECT_EQ(run.matrix[0].first, "n");
  EXPECT_EQ(run.matrix[0].second[1], 2);
}

TEST(SpecParserTest, KeepsTheHealthCheckJobForLater) {
  auto spec = ParseSweepSpec("name: x\nhealth_check: {kind: exec, command: 'nvidia-smi -q'}\n"
                             "jobs: [{name: a, kind: exec, command: x}]",
                             "s.yaml");
  ASSERT_TRUE(spec.has_value()) << spec.error().ToString();
  EXPECT_NE(spec->health_check_yaml.find("nvidia-smi -q"), std::string::npos) << spec->health_check_yaml;
  EXPECT_NE(spec->health_check_yaml.find("name: health-check"), std::string::npos) << spec->health_check_yaml;
  auto plain = ParseSweepSpec("name: x\njobs: [{name: a, kind: exec, command: x}]", "s.yaml");
  EXPECT_EQ(plain->health_check_yaml, "") << "no health_check: the worker's selftest";
}

TEST(SpecParserTest, AcceptsJson) {
  auto spec = ParseSweepSpec(R"({"name": "j", "jobs": [{"name": "a", "kind": "exec", "command": ["true"]}]})", "s.json");
  ASSERT_TRUE(spec.has_value()) << spec.error().ToString();
  EXPECT_EQ(spec->jobs[0].command, std::vector<std::string>{"true"});
}

struct BadSpec {
  const char* name;
  const char* text;
  const char* expected;  // Substring of the error.
};

void PrintTo(const BadSpec& spec, std::ostream* out) { *out << spec.name; }

class SpecParserErrorTest : public testing::TestWithParam<BadSpec> {};

TEST_P(SpecParserErrorTest, RefusesWithFieldAndFix) {
  auto spec = ParseSweepSpec(GetParam().text, "bad.yaml");
  ASSERT_FALSE(spec.has_value());
  EXPECT_EQ(spec.error().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(spec.error().message().find(GetParam().expected), std::string::npos) << spec.error().message();
  EXPECT_EQ(spec.error().message().rfind("bad.yaml", 0), 0u) << "errors start with the source";
}

INSTANTIATE_TEST_SUITE_P(
    Table, SpecParserErrorTest,
    testing::Values(
        BadSpec{"malformed", "name: x\njobs: [", "not valid YAML or JSON"},
        BadSpec{"not_a_map", "- a\n- b\n", "must be a mapping"},
        BadSpec{"missing_name", "jobs: [{name: a, kind: exec, command: x}]", "name: missing"},
        BadSpec{"unknown_top_field", "name: x\njob: []", "job: unknown field; did you mean 'jobs'?"},
        BadSpec{"unknown_job_field", "name: x\njobs: [{name: a, kind: exec, command: x, devises: 2}]",
                "bad.yaml:2:42: jobs[0].devises: unknown field; did you mean 'devices'?"},
        BadSpec{"bad_kind", "name: x\njobs: [{name: a, kind: shell, command: x}]", "'shell' is not a job kind"},
        BadSpec{"bad_devices", "name: x\njobs: [{name: a, kind: exec, command: x, devices: two}]",
                "jobs[0].devices: 'two' must be an integer from 1 to 1024"},
        BadSpec{"zero_devices", "name: x\njobs: [{name: a, kind: exec, command: x, devices: 0}]",
                "jobs[0].devices: '0' must be an integer from 1 to 1024"},
        BadSpec{"bad_timeout", "name: x\njobs: [{name: a, kind: exec, command: x, timeout: soon}]",
                "jobs[0].timeout: 'soon' must be a duration"},
        BadSpec{"duplicate_name", "name: x\njobs: [{name: a, kind: exec, command: x}, {name: a, kind: exec, command: y}]",
                "'a' is used by an earlier job"},
        BadSpec{"unknown_dependency", "name: x\njobs: [{name: a, kind: exec, command: x, depends_on: b}]",
                "jobs[0].depends_on: 'b' is not the name of a job"},
        BadSpec{"self_dependency", "name: x\njobs: [{name: a, kind: exec, command: x, depends_on: a}]",
                "depends on itself"},
        BadSpec{"cycle",
                "name: x\njobs:\n- {name: a, kind: exec, command: x, depends_on: c}\n"
                "- {name: b, kind: exec, command: x, depends_on: a}\n- {name: c, kind: exec, command: x, depends_on: b}",
                "cycle a -> c -> b -> a; remove one of these dependencies"},
        BadSpec{"worker_without_suite", "name: x\njobs: [{name: a, kind: worker}]", "jobs[0].suite: missing"},
        BadSpec{"exec_field_on_worker", "name: x\njobs: [{name: a, kind: worker, suite: s, command: x}]",
                "jobs[0].command: applies to kind exec only"},
        BadSpec{"unknown_variable", "name: x\njobs: [{name: a, kind: exec, command: 'echo ${size}'}]",
                "'${size}' is not a matrix variable of job 'a'"},
        BadSpec{"empty_matrix", "name: x\njobs: [{name: a, kind: exec, command: x, matrix: {n: []}}]",
                "jobs[0].matrix.n: a list must be a non-empty list of values"},
        BadSpec{"bad_name", "name: x\njobs: [{name: 'a b', kind: exec, command: x}]", "must start with a letter"},
        BadSpec{"empty_jobs", "name: x\njobs: []", "jobs: a list must be a non-empty list of jobs"},
        BadSpec{"retry_bad_class", "name: x\nretry: [{class: weather, limit: 2}]\njobs: [{name: a, kind: exec, command: x}]",
                "retry[0].class: 'weather' is not a failure class; use infrastructure, verdict, configuration or command"},
        BadSpec{"retry_no_limit", "name: x\njobs: [{name: a, kind: exec, command: x, retry: [{exit_code: 75}]}]",
                "jobs[0].retry[0].limit: missing; how many times to run again (0: never)"},
        BadSpec{"retry_matches_nothing", "name: x\ndefaults: {retry: [{limit: 2}]}\njobs: [{name: a, kind: exec, command: x}]",
                "defaults.retry[0]: names no failure; give class, exit_code or both"},
        BadSpec{"retry_not_a_list", "name: x\njobs: [{name: a, kind: exec, command: x, retry: 3}]",
                "jobs[0].retry: '3' must be a list"},
        BadSpec{"unknown_variable_in_label",
                "name: x\njobs: [{name: a, kind: exec, command: x, matrix: {n: [1]}, labels: {context: '${ctx}'}}]",
                "jobs[0].labels.context: '${ctx}' is not a matrix variable of job 'a'"},
        BadSpec{"devices_unknown_variable",
                "name: x\njobs: [{name: a, kind: exec, command: x, devices: '${tp}'}]",
                "jobs[0].devices: '${tp}' is not a matrix variable of job 'a'; add it under matrix: or write the value"},
        BadSpec{"devices_bad_matrix_value",
                "name: x\njobs: [{name: a, kind: exec, command: x, matrix: {tp: [1, two]}, devices: '${tp}'}]",
                "jobs[0].devices: '${tp}' takes the matrix value 'two', which is not an integer from 1 to 1024; fix that "
                "value under matrix.tp"},
        BadSpec{"devices_partial_variable",
                "name: x\njobs: [{name: a, kind: exec, command: x, matrix: {tp: [1]}, devices: '${tp}0'}]",
                "must be an integer from 1 to 1024, or exactly one matrix variable such as ${tp}"},
        BadSpec{"timeout_bad_matrix_value",
                "name: x\njobs: [{name: a, kind: exec, command: x, matrix: {t: [5m, soon]}, timeout: '${t}'}]",
                "jobs[0].timeout: '${t}' takes the matrix value 'soon', which is not a duration"},
        BadSpec{"device_kind_unknown_variable",
                "name: x\njobs: [{name: a, kind: exec, command: x, device_kind: '${kind}'}]",
                "jobs[0].device_kind: '${kind}' is not a matrix variable of job 'a'"},
        BadSpec{"target_not_a_number",
                "name: x\njobs: [{name: a, kind: exec, command: x, targets: {itl_ms: fast}}]",
                "jobs[0].targets.itl_ms: 'fast' must be a number, {max: N} or {min: N}"},
        BadSpec{"target_both_bounds",
                "name: x\njobs: [{name: a, kind: exec, command: x, targets: {tokens_per_s: {min: 1, max: 2}}}]",
                "jobs[0].targets.tokens_per_s: give one of max or min"},
        BadSpec{"target_unknown_variable",
                "name: x\njobs: [{name: a, kind: exec, command: x, targets: {itl_ms: '${limit}'}}]",
                "jobs[0].targets.itl_ms: '${limit}' is not a matrix variable of job 'a'"},
        BadSpec{"runner_unknown_placeholder",
                "name: x\nmodels: [{variant: m, runner: {name: vllm, command: 'serve {modle}'}}]\n"
                "context_lengths: [4096]\nprograms: {criteria: {programs: []}, select: ['*']}\ndatasets: [{path: d}]",
                "models[0].runner.command: '{modle}' is not a runner placeholder; use one of {stage}, {mode}, {model}"},
        BadSpec{"runner_validate_stage",
                "name: x\nmodels: [{variant: m, runner: {name: vllm, command: x, stages: [run, validate]}}]\n"
                "context_lengths: [4096]\nprograms: {criteria: {programs: []}, select: ['*']}\ndatasets: [{path: d}]",
                "models[0].runner.stages: 'validate' is not a stage a runner can take; use reference, compile, run or "
                "benchmark (validate is always the farm's)"},
        BadSpec{"runner_bad_launcher",
                "name: x\nrunner: {name: vllm, command: x, launcher: srun}\nmodels: [m]\n"
                "context_lengths: [4096]\nprograms: {criteria: {programs: []}, select: ['*']}\ndatasets: [{path: d}]",
                "runner.launcher: 'srun' is not a launcher; use none, mpirun or torchrun"},
        BadSpec{"runner_results_variable",
                "name: x\nrunner: {name: vllm, command: x, results: [{format: junit, path: '${n}.xml'}]}\nmodels: [m]\n"
                "context_lengths: [4096]\nprograms: {criteria: {programs: []}, select: ['*']}\ndatasets: [{path: d}]",
                "runner.results[0].path: '${n}' is not a matrix variable of job 'runner vllm'"},
        BadSpec{"results_unknown_format",
                "name: x\nexec: [{name: a, command: x, results: [{format: tap, path: r.tap}]}]",
                "exec[0].results[0].format: 'tap' is not a results format; use junit, google-benchmark, vllm-bench, "
                "pytest-benchmark"},
        BadSpec{"results_no_path", "name: x\nexec: [{name: a, command: x, results: [{format: junit}]}]",
                "exec[0].results[0].path: missing; the file the tool writes, relative to $GAUNTLET_OUT"},
        BadSpec{"runner_without_models", "name: x\nrunner: {name: vllm, command: x}\njobs: [{name: a, kind: exec, command: x}]",
                "runner: applies to the model matrix; add models: or remove it"},
        BadSpec{"model_twice_same_runner",
                "name: x\nrunner: {name: vllm, command: x}\nmodels: [m, m]\n"
                "context_lengths: [4096]\nprograms: {criteria: {programs: []}, select: ['*']}\ndatasets: [{path: d}]",
                "models[1].variant: 'm' is listed twice with runner 'vllm'; merge the entries, or give one a different runner"},
        BadSpec{"health_check_not_a_job", "name: x\nhealth_check: selftest\njobs: [{name: a, kind: exec, command: x}]",
                "health_check: 'selftest' must be a job mapping"},
        BadSpec{"health_check_matrix",
                "name: x\nhealth_check: {kind: exec, command: x, matrix: {n: [1]}}\njobs: [{name: a, kind: exec, command: x}]",
                "health_check.matrix: does not apply: a health check runs alone on the one device it checks"},
        BadSpec{"health_check_devices",
                "name: x\nhealth_check: {kind: worker, suite: selftest, devices: 2}\njobs: [{name: a, kind: exec, command: x}]",
                "health_check.devices: does not apply"},
        BadSpec{"health_check_bad_field",
                "name: x\nhealth_check: {kind: worker, suite: selftest, comand: x}\njobs: [{name: a, kind: exec, command: x}]",
                "health_check.comand: unknown field"}),
    [](const testing::TestParamInfo<BadSpec>& info) { return info.param.name; });

TEST(DurationTest, ParsesUnits) {
  EXPECT_DOUBLE_EQ(*ParseDuration("90"), 90);
  EXPECT_DOUBLE_EQ(*ParseDuration("90s"), 90);
  EXPECT_DOUBLE_EQ(*ParseDuration("5m"), 300);
  EXPECT_DOUBLE_EQ(*ParseDuration("1h30m"), 5400);
  EXPECT_DOUBLE_EQ(*ParseDuration("0.5s"), 0.5);
  EXPECT_FALSE(ParseDuration("").has_value());
  EXPECT_FALSE(ParseDuration("5 minutes").has_value());
  EXPECT_FALSE(ParseDuration("-3s").has_value());
}

}  // namespace
}  // namespace gauntlet::spec

namespace gauntlet::spec {
namespace {

TEST(SpecParserTest, RefusesInvalidUtf8WithItsPosition) {
  auto spec = ParseSweepSpec("name: x\njobs: [{name: a, kind: exec, command: \"ok \xd7\"}]\n", "u.yaml");
  ASSERT_FALSE(spec.has_value());
  EXPECT_EQ(spec.error().message().rfind("u.yaml:2:", 0), 0u) << spec.error().message();
  EXPECT_NE(spec.error().message().find("not valid UTF-8 (is this a binary file?); save the spec as UTF-8 text"), std::string::npos);
  // Escapes must not smuggle in what the raw text may not contain.
  auto escaped = ParseSweepSpec("name: x\njobs: [{name: a, kind: exec, command: \"\\uD800\"}]\n", "e.yaml");
  ASSERT_FALSE(escaped.has_value());
  EXPECT_EQ(escaped.error().message().rfind("e.yaml:2:", 0), 0u) << escaped.error().message();
}

}  // namespace
}  // namespace gauntlet::spec

namespace gauntlet::spec {
namespace {

TEST(SpecParserTest, ExecListHoldsFreeFormCommands) {
  auto spec = ParseSweepSpec("name: x\nexec:\n  - {name: a, command: 'echo hi'}\n  - {name: b, command: [true], depends_on: a}\n",
                             "x.yaml");
  ASSERT_TRUE(spec.has_value()) << spec.error().ToString();
  ASSERT_EQ(spec->jobs.size(), 2u);
  EXPECT_EQ(spec->jobs[1].kind, JobKind::kExec);
  auto worker = ParseSweepSpec("name: x\nexec: [{name: a, kind: worker, suite: s}]\n", "x.yaml");
  ASSERT_FALSE(worker.has_value());
  EXPECT_NE(worker.error().message().find("exec[0].kind: entries of exec: are exec jobs"), std::string::npos);
}

}  // namespace
}  // namespace gauntlet::spec
