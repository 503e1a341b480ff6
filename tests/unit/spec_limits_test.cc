// Every bound on what a spec may ask for: refused before the work starts,
// with the position, the limit and the flag that raises it.
#include <gtest/gtest.h>

#include <string>

#include "coordinator/expand/expand.h"
#include "coordinator/spec/check_suites.h"
#include "coordinator/spec/parser.h"
#include "lib/names/names.h"
#include "gauntlet/v1/types.pb.h"
#include "lib/rpc/paging.h"

namespace gauntlet::spec {
namespace {

std::string Refusal(const std::string& text, const Limits& limits = {},
                    const std::map<std::string, std::string>& files = {}) {
  auto spec = ParseSweepSpec(text, "s.yaml", files, limits);
  if (!spec) return spec.error().message();
  auto plan = expand::Expand(*spec, limits);
  if (!plan) return plan.error().message();
  return "";
}

// A billion laughs: each level nine aliases of the one before.
std::string AliasBomb(int levels) {
  std::string text = "name: lol\nl0: &l0 [x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i <= levels; ++i) {
    std::string prev = "*l" + std::to_string(i - 1);
    text += "l" + std::to_string(i) + ": &l" + std::to_string(i) + " [";
    for (int k = 0; k < 9; ++k) text += (k ? ", " : "") + prev;
    text += "]\n";
  }
  return text + "jobs: [{name: a, kind: exec, command: x}]\n";
}

TEST(SpecLimitsTest, AnAliasBombIsCountedAsItWouldExpandAndRefused) {
  std::string message = Refusal(AliasBomb(9));
  EXPECT_NE(message.find("s.yaml:"), std::string::npos) << message;
  EXPECT_NE(message.find("expands to more than 200000 YAML nodes"), std::string::npos) << message;
  EXPECT_NE(message.find("--max-yaml-nodes"), std::string::npos) << message;
  // Three levels (about 800 nodes) are fine: aliases themselves are allowed.
  EXPECT_NE(Refusal(AliasBomb(3)).find("unknown field"), std::string::npos) << "l0 is not a spec field";
}

TEST(SpecLimitsTest, AnAliasInsideItsOwnAnchorIsRefusedAsACycle) {
  // Found by the fuzzer: yaml-cpp builds a node that contains itself, and
  // every later walk over the tree ran forever.
  std::string message = Refusal("name: x\nc: &c [1, *c]\njobs: [{name: a, kind: exec, command: y}]\n");
  EXPECT_EQ(message.rfind("s.yaml:2:11: this alias refers to a node that contains it (a cycle)", 0), 0u) << message;
  message = Refusal("name: x\nm: &m {k: {j: *m}}\njobs: [{name: a, kind: exec, command: y}]\n");
  EXPECT_NE(message.find("(a cycle)"), std::string::npos) << message;
}

TEST(SpecLimitsTest, DeepNestingIsRefusedAtItsDepth) {
  std::string nested = "name: deep\njobs: [{name: a, kind: worker, suite: selftest, params: {p: ";
  for (int i = 0; i < 100; ++i) nested += "[";
  for (int i = 0; i < 100; ++i) nested += "]";
  nested += "}}]\n";
  std::string message = Refusal(nested);
  EXPECT_NE(message.find("levels deep, over the limit of 64"), std::string::npos) << message;
  EXPECT_NE(message.find("--max-yaml-depth"), std::string::npos) << message;
}

TEST(SpecLimitsTest, DuplicateKeysAreRefusedWhereTheSecondIs) {
  std::string message = Refusal("name: a\nname: b\njobs: [{name: x, kind: exec, command: y}]\n");
  EXPECT_EQ(message.rfind("s.yaml:2:1: 'name' is written twice in this mapping", 0), 0u) << message;
  message = Refusal("name: a\njobs:\n  - name: x\n    kind: exec\n    command: y\n    command: z\n");
  EXPECT_EQ(message.rfind("s.yaml:6:5: 'command' is written twice", 0), 0u) << message;
  // The same key in two different mappings is no duplicate.
  EXPECT_EQ(Refusal("name: a\njobs: [{name: x, kind: exec, command: y}, {name: z, kind: exec, command: y}]\n"), "");
}

TEST(SpecLimitsTest, ContentAfterTheSpecIsRefused) {
  std::string message = Refusal(R"({"name": "x", "jobs": [{"name": "a", "kind": "exec", "command": "y"}]} trailing)");
  EXPECT_NE(message.find("s.yaml:1:"), std::string::npos) << message;
  EXPECT_NE(message.find("content after the end of the spec"), std::string::npos) << message;
  message = Refusal("name: x\njobs: [{name: a, kind: exec, command: y}]\n---\nname: y\n");
  EXPECT_EQ(message.rfind("s.yaml:4:1: content after the end of the spec", 0), 0u) << message;
}

TEST(SpecLimitsTest, ControlCharactersAndBinaryAreRefusedAsText) {
  std::string with_nul = std::string("name: x\njobs: [{name: a, kind: exec, command: \"y") + '\0' + "\"}]\n";
  std::string message = Refusal(with_nul);
  EXPECT_EQ(message.rfind("s.yaml:2:", 0), 0u) << message;
  EXPECT_NE(message.find("control character 0x00 (NUL)"), std::string::npos) << message;
  message = Refusal(std::string("\x1b[31mname: x\n"));
  EXPECT_NE(message.find("control character 0x1B"), std::string::npos) << message;
  message = Refusal(std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_NE(message.find("not valid UTF-8 (is this a binary file?)"), std::string::npos) << message;
}

TEST(SpecLimitsTest, SpecSizeIsCheckedFirst) {
  Limits limits;
  limits.max_spec_bytes = 64;
  std::string message = Refusal("name: x\njobs: [{name: a, kind: exec, command: '" + std::string(100, 'y') + "'}]\n", limits);
  EXPECT_EQ(message.rfind("s.yaml: the spec is ", 0), 0u) << message;
  EXPECT_NE(message.find(" bytes, over the limit of 64"), std::string::npos) << message;
  EXPECT_NE(message.find("--max-spec-bytes"), std::string::npos) << message;
}

TEST(SpecLimitsTest, AHugeMatrixIsRefusedBeforeAnyJobIsMade) {
  // 10^8 combinations: refused by counting, not by running out of memory.
  std::string spec = "name: big\njobs:\n  - name: a\n    kind: exec\n    command: x\n    matrix:\n";
  for (int v = 0; v < 8; ++v) spec += "      v" + std::to_string(v) + ": [0,1,2,3,4,5,6,7,8,9]\n";
  std::string message = Refusal(spec);
  EXPECT_NE(message.find("s.yaml:3:5: job 'a': matrix: 100000000 combinations"), std::string::npos) << message;
  EXPECT_NE(message.find("over the limit of 250000 (raise it with gauntlet-coordinator --max-jobs-per-sweep)"),
            std::string::npos)
      << message;
  // 10^40 saturates rather than wrapping into a small count.
  std::string huge = "name: big\njobs:\n  - name: a\n    kind: exec\n    command: x\n    matrix:\n";
  for (int v = 0; v < 40; ++v) huge += "      v" + std::to_string(v) + ": [0,1,2,3,4,5,6,7,8,9]\n";
  message = Refusal(huge);
  EXPECT_NE(message.find("more than 10^19 combinations"), std::string::npos) << message;
}

TEST(SpecLimitsTest, AllToAllDependenciesAreBounded) {
  Limits limits;
  limits.max_dependency_edges = 1000;
  std::string spec = R"(name: edges
jobs:
  - {name: a, kind: exec, command: x, matrix: {i: [0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39]}}
  - {name: b, kind: exec, command: x, depends_on: a, matrix: {j: [0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39]}}
)";
  std::string message = Refusal(spec, limits);
  EXPECT_NE(message.find("s.yaml:4:5: job 'b': depends_on: 'a' brings the sweep's dependencies over the limit of 1000"), std::string::npos) << message;
  EXPECT_NE(message.find("--max-dependency-edges"), std::string::npos) << message;
}

constexpr const char* kCriteria = R"({"programs": [
  {"max_batch": 4, "max_tkv": 8192, "batch_granularity": 1, "tkv_granularity": 64}]})";

std::string ModelSpec(const std::string& context_lengths, const std::string& select, bool allow_empty = false) {
  return "name: llm\nmodels: [{variant: org/m}]\ncontext_lengths: " + context_lengths +
         "\nprograms: {criteria: c.json, select: " + select + (allow_empty ? ", allow_empty: true" : "") +
         "}\ndatasets: [{type: sharegpt, path: /d.json}]\n";
}

TEST(SpecLimitsTest, AWideProgramSearchIsRefusedBeforeItRuns) {
  std::string message =
      Refusal(ModelSpec("[{context: 1048576, max_batch: 4096, batch_tkv_limit: 4294967296}]", "['*']"), {},
              {{"c.json", kCriteria}});
  EXPECT_NE(message.find("program shape checks, over the limit of 4000000"), std::string::npos) << message;
  EXPECT_NE(message.find("--max-program-search"), std::string::npos) << message;
}

TEST(SpecLimitsTest, ASelectorMatchingNothingBesideOneThatMatchesIsRefused) {
  const std::map<std::string, std::string> files = {{"c.json", kCriteria}};
  std::string message = Refusal(ModelSpec("[4096]", "['0:0,<4096', '0:8,<4096']"), {}, files);
  EXPECT_NE(message.find("programs.select: [0:8,<4096] matches no program"), std::string::npos) << message;
  EXPECT_EQ(Refusal(ModelSpec("[4096]", "['0:0,<4096', '0:8,<4096']", /*allow_empty=*/true), {}, files), "");
  EXPECT_EQ(Refusal(ModelSpec("[4096]", "['0:0,<4096']"), {}, files), "");
}

TEST(SpecLimitsTest, ExecCommandEnvAndLabelsAreBounded) {
  Limits limits;
  limits.max_command_bytes = 16;
  limits.max_env_bytes = 16;
  limits.max_labels = 2;
  std::string message = Refusal("name: x\njobs: [{name: a, kind: exec, command: [echo, '0123456789abcdef']}]\n", limits);
  EXPECT_NE(message.find("jobs[0].command: is 20 bytes, over the limit of 16"), std::string::npos) << message;
  EXPECT_NE(message.find("--max-command-bytes"), std::string::npos) << message;
  message = Refusal("name: x\njobs: [{name: a, kind: exec, command: y, env: {A: '0123456789abcdef'}}]\n", limits);
  EXPECT_NE(message.find("jobs[0].env: holds 17 bytes, over the limit of 16"), std::string::npos) << message;
  message = Refusal("name: x\njobs: [{name: a, kind: exec, command: y, env: {'A B': v}}]\n", limits);
  EXPECT_NE(message.find("'A B' is not an environment variable name"), std::string::npos) << message;
  message = Refusal("name: x\njobs: [{name: a, kind: exec, command: y, labels: {a: 1, b: 2, c: 3}}]\n", limits);
  EXPECT_NE(message.find("jobs[0].labels: 3 labels, over the limit of 2"), std::string::npos) << message;
  message = Refusal("name: x\njobs: [{name: a, kind: exec, command: y, labels: {'my label': 1}}]\n");
  EXPECT_NE(message.find("label name 'my label' contains ' '"), std::string::npos) << message;
  message = Refusal("name: x\njobs: [{name: a, kind: exec, command: y, labels: {k: \"a\\nb\"}}]\n");
  EXPECT_NE(message.find("jobs[0].labels.k: the value contains a control character"), std::string::npos) << message;
  message = Refusal("name: x\nresources: {tags: ['gpu node']}\njobs: [{name: a, kind: exec, command: y}]\n");
  EXPECT_NE(message.find("resources.tags[0]: tag 'gpu node' contains ' '"), std::string::npos) << message;
}

TEST(SpecLimitsTest, UnknownSuitesAreRefusedAgainstWhatAgentsOffer) {
  auto spec = ParseSweepSpec("name: x\njobs:\n  - {name: a, kind: worker, suite: selftset}\n", "s.yaml");
  ASSERT_TRUE(spec.has_value());
  Status refused = CheckSuites(*spec, {"llm", "selftest"});
  EXPECT_EQ(refused.message(),
            "s.yaml:3:5: job 'a': suite 'selftset' is not built into any agent's worker (they offer: llm, "
            "selftest); check the name, or start an agent whose gauntlet-worker has it");
  EXPECT_TRUE(CheckSuites(*spec, {}).ok()) << "no agent has reported suites: nothing to check against";
  EXPECT_TRUE(CheckSuites(*spec, {"selftset"}).ok());
}

TEST(NamesTest, EveryAllowedCharacterAndEachRefusedOne) {
  const std::string all = "aZ09_.-bcdefghijklmnopqrstuvwxyABCDEFGHIJKLMNOPQRSTUVWXY1234567";
  EXPECT_EQ(all.size(), names::kMaxNameLength);
  EXPECT_TRUE(names::IsValidName(all));
  EXPECT_FALSE(names::IsValidName(all + "z")) << "64 bytes";
  EXPECT_FALSE(names::IsValidName(""));
  EXPECT_FALSE(names::IsValidName("-lead"));
  EXPECT_FALSE(names::IsValidName(".hidden"));
  for (char bad : std::string(" /\\'\"`;:,*?<>|&$#%@!=+()[]{}~^\t\n")) {
    EXPECT_FALSE(names::IsValidName(std::string("node") + bad + "1")) << "'" << bad << "'";
  }
  EXPECT_FALSE(names::IsValidName("nöde"));
  EXPECT_EQ(names::NameProblem("evil node"),
            "'evil node' contains ' '; use 1 to 63 letters, digits, '_', '.' and '-', starting with a letter or digit");
}

TEST(PagingTest, APageEndsAtItsRowLimitOrItsByteBudget) {
  std::vector<gauntlet::v1::Job> rows;
  for (int i = 1; i <= 5; ++i) {
    gauntlet::v1::Job job;
    job.set_id(i * 10);
    job.set_reason(std::string(1000, 'x'));
    rows.push_back(job);
  }
  google::protobuf::RepeatedPtrField<gauntlet::v1::Job> out;
  std::string next;
  paging::Fill(rows, 3, &out, &next);
  EXPECT_EQ(out.size(), 3);
  EXPECT_EQ(next, "30");
  out.Clear();
  paging::Fill(rows, 10, &out, &next, /*max_bytes=*/2500);
  EXPECT_EQ(out.size(), 2) << "the byte budget ends the page first";
  EXPECT_EQ(next, "20");
  out.Clear();
  paging::Fill(rows, 5, &out, &next);
  EXPECT_EQ(out.size(), 5);
  EXPECT_EQ(next, "") << "the last page has no next token";
  EXPECT_FALSE(paging::ParseToken("abc").has_value());
  EXPECT_FALSE(paging::ParseToken("-1").has_value());
  EXPECT_EQ(*paging::ParseToken(""), 0);
}

}  // namespace
}  // namespace gauntlet::spec
