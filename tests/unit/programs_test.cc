#include <gtest/gtest.h>

#include "lib/programs/criteria.h"
#include "lib/programs/prompts.h"
#include "lib/programs/selector.h"

namespace gauntlet::programs {
namespace {

constexpr const char* kCriteria = R"({"programs": [
  {"max_batch": 1, "max_tkv": 4096, "batch_granularity": 1, "tkv_granularity": 64},
  {"max_batch": 4, "max_tkv": 1024, "batch_granularity": 4, "tkv_granularity": 64},
  {"max_batch": 4, "max_tkv": 4096, "batch_granularity": 4, "tkv_granularity": 256}]})";

std::vector<ProgramCriteria> Criteria() { return *ParseCriteria(kCriteria, "c.json"); }

TEST(CriteriaTest, ParsesIdsInOrder) {
  auto criteria = Criteria();
  ASSERT_EQ(criteria.size(), 3u);
  EXPECT_EQ(criteria[2].id, 2);
  EXPECT_EQ(criteria[2].tkv_granularity, 256);
}

TEST(CriteriaTest, RefusesMalformedFilesNamingTheField) {
  EXPECT_NE(ParseCriteria("{", "c.json").error().message().find("c.json: not valid JSON"), std::string::npos);
  EXPECT_NE(ParseCriteria(R"({"programs": [{"max_batch": 1}]})", "c.json").error().message().find(
                "c.json: programs[0].max_tkv: must be a positive integer"),
            std::string::npos);
  EXPECT_NE(ParseCriteria(R"({"programs": []})", "c.json").error().message().find("programs is empty"),
            std::string::npos);
}

TEST(CriteriaTest, PaddingAndPossibility) {
  ProgramCriteria p{0, 4, 1024, 4, 64};
  EXPECT_EQ(p.Padding(3, 65), 4 * 128 - 3 * 65);
  EXPECT_TRUE(p.IsPossible(4, 1024, 524288));
  EXPECT_FALSE(p.IsPossible(5, 100, 524288));
  EXPECT_FALSE(p.IsPossible(4, 1025, 524288));
  EXPECT_FALSE(p.IsPossible(4, 1000, 3999)) << "batch × tkv over the limit";
}

TEST(ProgramMapTest, PicksTheProgramWithLeastPadding) {
  ProgramLimits limits;
  limits.max_batch = 4;
  limits.max_tkv = 4096;
  limits.max_new_tokens = 8;
  ProgramMap map = BuildProgramMap(Criteria(), limits);
  // Batch 1 always fits program 0 exactly (granularity 1), so it wins there.
  const ProgramGroup* single = nullptr;
  for (const auto& group : map) {
    if (group.programs.front() == 0) single = &group;
  }
  ASSERT_NE(single, nullptr);
  for (const auto& shape : single->shapes) EXPECT_EQ(shape.batch, 1);
  // Batch 4 at prompt 512 (context 513): program 1 pads to 4×576, program 2 to 4×768.
  bool found = false;
  for (const auto& group : map) {
    for (const auto& shape : group.shapes) {
      if (shape == PromptShape{4, 512}) {
        EXPECT_EQ(group.programs.front(), 1);
        found = true;
      }
    }
  }
  EXPECT_TRUE(found);
  // The first group seen is batch 1's, as in the script's insertion order.
  EXPECT_EQ(map.front().programs.front(), 0);
}

TEST(ProgramMapTest, PrioritisingLargeBatchesOrdersThemFirst) {
  ProgramLimits limits;
  limits.max_batch = 4;
  limits.max_tkv = 4096;
  limits.prioritize_large_batch_sizes = true;
  for (const auto& group : BuildProgramMap(Criteria(), limits)) {
    for (size_t i = 1; i < group.shapes.size(); ++i) EXPECT_GE(group.shapes[i - 1].batch, group.shapes[i].batch);
  }
}

struct SelectorCase {
  const char* text;
  bool ok;
  const char* error;  // Substring when !ok.
};

class SelectorParseTest : public testing::TestWithParam<SelectorCase> {};

TEST_P(SelectorParseTest, Grammar) {
  auto selector = ParseSelector(GetParam().text);
  EXPECT_EQ(selector.has_value(), GetParam().ok) << GetParam().text;
  if (!GetParam().ok && !selector) {
    EXPECT_NE(selector.error().message().find(GetParam().error), std::string::npos) << selector.error().message();
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, SelectorParseTest,
    testing::Values(SelectorCase{"0", true, ""}, SelectorCase{"*:0,<8192", true, ""},
                    SelectorCase{"?:0,<8192", true, ""}, SelectorCase{"0:4,16256", true, ""},
                    SelectorCase{"12:>=2,==1024", true, ""}, SelectorCase{"3:>1,<=100", true, ""},
                    SelectorCase{"x:1,2", false, "program id must be an int, '*'"},
                    SelectorCase{"0:4", false, "expected <program_id>:<batch_constraint>,<seq_len_constraint>"},
                    SelectorCase{"0:4,5,6", false, "expected <program_id>"},
                    SelectorCase{"0:4,<=x", false, "seq_len constraint must be an int or <op><int>"},
                    SelectorCase{"0:=>4,1", false, "batch constraint must be an int"},
                    SelectorCase{"0:-1,1", false, "batch constraint"}, SelectorCase{"", false, "program id"},
                    SelectorCase{"*:,", false, "batch constraint"}));

TEST(SelectorTest, ConstraintsDefaultToAtLeast) {
  auto selector = *ParseSelector("0:4,16256");
  EXPECT_TRUE(selector.batch.Holds(4));
  EXPECT_TRUE(selector.batch.Holds(5));
  EXPECT_FALSE(selector.batch.Holds(3));
  auto less = *ParseSelector("*:0,<8192");
  EXPECT_TRUE(less.prompt_len.Holds(8191));
  EXPECT_FALSE(less.prompt_len.Holds(8192));
}

TEST(SelectProgramsTest, StarAnyAndIdFollowTheScript) {
  ProgramLimits limits;
  limits.max_batch = 4;
  limits.max_tkv = 4096;
  auto criteria = Criteria();
  ProgramMap map = BuildProgramMap(criteria, limits);

  auto all = SelectPrograms(map, criteria, {*ParseSelector("*:0,<8192")});
  std::set<int> ids;
  for (const auto& p : all) ids.insert(p.program_id);
  EXPECT_EQ(ids, (std::set<int>{0, 1, 2})) << "one shape per prefill program";

  auto any = SelectPrograms(map, criteria, {*ParseSelector("?:2,>=1024")});
  ASSERT_EQ(any.size(), 1u);
  EXPECT_GE(any[0].shape.batch, 2);
  EXPECT_GE(any[0].shape.prompt_len, 1024);

  auto one = SelectPrograms(map, criteria, {*ParseSelector("2:4,==2048")});
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].program_id, 2);
  EXPECT_EQ(one[0].shape, (PromptShape{4, 2048}));

  EXPECT_TRUE(SelectPrograms(map, criteria, {*ParseSelector("1:0,>2000")}).empty()) << "program 1 stops at 1024";
  EXPECT_EQ(SelectPrograms(map, criteria, {}).size(), 3u) << "no selector: every program once";
}

TEST(PromptsTest, HomogeneousSizesCycleBelowTheProgramLength) {
  EXPECT_EQ(EnforcedPromptSizes({4, 2880}, false), std::vector<int>{2880});
  // Power of two below 2880 is 2048: candidates 2816, 2752, ... 2048.
  EXPECT_EQ(EnforcedPromptSizes({4, 2880}, true), (std::vector<int>{2880, 2816, 2752, 2688}));
  EXPECT_EQ(EnforcedPromptSizes({3, 2048}, true), (std::vector<int>{2048}))
      << "a power of two has no smaller candidates in its range; the rest are sampled freely";
}

TEST(PromptsTest, DatasetsInBothFormats) {
  auto sharegpt = ParseDataset(R"([{"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "yo"}]},
                                   {"conversations": [{"from": "human", "value": "lonely"}]}])",
                               "sharegpt", "s.json");
  ASSERT_TRUE(sharegpt.has_value());
  EXPECT_EQ(*sharegpt, std::vector<std::string>{"hi"}) << "single-turn conversations are skipped";
  auto rag = ParseDataset("first prompt\nsecond prompt\n", "rag_factoid", "r.jsonl");
  EXPECT_EQ(rag->size(), 2u);
  EXPECT_FALSE(ParseDataset("{}", "sharegpt", "s.json").has_value());
  std::vector<std::string> prompts = {std::string(100, 'a'), std::string(128, 'b'), std::string(300, 'c')};
  EXPECT_EQ(PromptsForSize(prompts, 128, false), (std::vector<size_t>{0, 1}));
  EXPECT_EQ(PromptsForSize(prompts, 128, true), (std::vector<size_t>{0, 1, 2}));
}

}  // namespace
}  // namespace gauntlet::programs
