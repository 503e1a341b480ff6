// Hugging Face byte-level BPE (tokenizer.json): the pure pieces, and whole
// tokenizers built from small hand-written files. Expected splits are the
// ones Hugging Face documents for its own pre-tokenizers.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "worker/model/byte_level_bpe.h"
#include "worker/model/tokenizer.h"

namespace gauntlet::worker {
namespace {

using nlohmann::json;

std::vector<std::string> Cut(const std::string& text, const std::vector<bpe::Range>& ranges) {
  std::vector<std::string> pieces;
  for (const auto& [begin, end] : ranges) pieces.push_back(text.substr(begin, end - begin));
  return pieces;
}

TEST(ByteLevelBpeTest, EveryByteHasAPrintableSymbolAndComesBack) {
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  const std::string symbols = bpe::BytesToSymbols(all);
  EXPECT_EQ(bpe::Characters(symbols).size(), 256u);
  EXPECT_EQ(bpe::SymbolsToBytes(symbols), all);
  EXPECT_EQ(bpe::BytesToSymbols(" "), "Ġ");
  EXPECT_EQ(bpe::BytesToSymbols("\n"), "Ċ");
  EXPECT_EQ(bpe::BytesToSymbols("A"), "A");
  EXPECT_EQ(bpe::SymbolsToBytes("<|x|>"), "<|x|>");
}

TEST(ByteLevelBpeTest, SplitBehaviorsMatchHuggingFaces) {
  const std::string text = "the-final--countdown";
  const std::vector<bpe::Range> dashes = {{3, 4}, {9, 10}, {10, 11}};
  using B = bpe::SplitBehavior;
  using V = std::vector<std::string>;
  EXPECT_EQ(Cut(text, bpe::SplitByMatches(text.size(), dashes, B::kRemoved, false)), (V{"the", "final", "countdown"}));
  EXPECT_EQ(Cut(text, bpe::SplitByMatches(text.size(), dashes, B::kIsolated, false)),
            (V{"the", "-", "final", "-", "-", "countdown"}));
  EXPECT_EQ(Cut(text, bpe::SplitByMatches(text.size(), dashes, B::kMergedWithPrevious, false)),
            (V{"the-", "final-", "-", "countdown"}));
  EXPECT_EQ(Cut(text, bpe::SplitByMatches(text.size(), dashes, B::kMergedWithNext, false)),
            (V{"the", "-final", "-", "-countdown"}));
  EXPECT_EQ(Cut(text, bpe::SplitByMatches(text.size(), dashes, B::kContiguous, false)),
            (V{"the", "-", "final", "--", "countdown"}));
  // Inverted, the words are the delimiters and Removed keeps the dashes.
  EXPECT_EQ(Cut(text, bpe::SplitByMatches(text.size(), dashes, B::kRemoved, true)), (V{"-", "-", "-"}));
}

TEST(ByteLevelBpeTest, MergesGoLowestRankFirst) {
  const bpe::Merger merger({{"b", "c"}, {"a", "b"}, {"a", "bc"}});
  using V = std::vector<std::string>;
  // (b, c) outranks (a, b), so "abc" becomes a + bc, then abc.
  EXPECT_EQ(merger.Merge({"a", "b", "c"}), (V{"abc"}));
  EXPECT_EQ(merger.Merge({"a", "b", "a", "b"}), (V{"ab", "ab"}));
  EXPECT_EQ(merger.Merge({"c", "a"}), (V{"c", "a"}));
}

// A tokenizer.json whose vocabulary holds every byte symbol (ids 0-255) and
// `extra` tokens after them; `Id` finds any token's id.
class TokenizerJsonTest : public ::testing::Test {
 protected:
  json File(const std::vector<std::string>& extra, const json& merges, const json& pre_tokenizer) {
    json vocab = json::object();
    for (int b = 0; b < 256; ++b) vocab[bpe::BytesToSymbols(std::string(1, static_cast<char>(b)))] = b;
    for (const std::string& token : extra) vocab[token] = static_cast<int>(vocab.size());
    vocab_ = vocab;
    return {{"version", "1.0"},
            {"normalizer", nullptr},
            {"pre_tokenizer", pre_tokenizer},
            {"post_processor", nullptr},
            {"added_tokens", json::array()},
            {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", merges}, {"ignore_merges", true}}}};
  }
  static json ByteLevel(bool use_regex = true) {
    return {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", use_regex}};
  }
  // CTest runs each test in its own process, several at once: paths carry
  // the test's name so no two write the same file.
  static std::string Scratch() {
    return ::testing::TempDir() + "/tokenizer_json_" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }
  int Id(const std::string& token) const { return vocab_.at(token).get<int>(); }
  std::vector<int> Ids(const std::vector<std::string>& tokens) const {
    std::vector<int> ids;
    for (const auto& token : tokens) ids.push_back(Id(token));
    return ids;
  }
  std::unique_ptr<Tokenizer> Load(const json& file) {
    const std::string dir = Scratch() + "_" + std::to_string(++loads_);
    std::filesystem::create_directories(dir);
    std::ofstream(dir + "/tokenizer.json") << file.dump();
    auto tokenizer = LoadTokenizer(dir);
    EXPECT_TRUE(tokenizer.has_value()) << tokenizer.error().ToString();
    return tokenizer ? std::move(*tokenizer) : nullptr;
  }
  std::string LoadError(const json& file) {
    const std::string path = Scratch() + "_bad_" + std::to_string(++loads_) + ".json";
    std::ofstream(path) << file.dump();
    auto tokenizer = HuggingFaceTokenizer(path);
    EXPECT_FALSE(tokenizer.has_value());
    return tokenizer ? "" : tokenizer.error().message();
  }

  json vocab_;
  int loads_ = 0;
};

TEST_F(TokenizerJsonTest, ByteLevelSplitsAsGpt2) {
  // With ignore_merges, a piece that is a whole vocabulary token is one id:
  // the ids show exactly where the pre-tokenizer cut.
  const auto tokenizer = Load(File({"Hello", "Ġmy", "Ġfriend", "Ġhow", "Ġis", "Ġyour", "Ġday", "Ġgoing", "Ġthere",
                                    "ĠĠĠĠĠĠ", "Ġdear"},
                                   json::array(), ByteLevel()));
  ASSERT_NE(tokenizer, nullptr);
  EXPECT_EQ(tokenizer->Encode("Hello my friend, how is your day going?"),
            Ids({"Hello", "Ġmy", "Ġfriend", ",", "Ġhow", "Ġis", "Ġyour", "Ġday", "Ġgoing", "?"}));
  // Runs of spaces keep their last one for the next word.
  EXPECT_EQ(tokenizer->Encode("Hello there       dear"), Ids({"Hello", "Ġthere", "ĠĠĠĠĠĠ", "Ġdear"}));
  EXPECT_EQ(tokenizer->Encode("Hello there\nHello there"), Ids({"Hello", "Ġthere", "Ċ", "Hello", "Ġthere"}));
  EXPECT_EQ(tokenizer->VocabSize(), 256 + 11);
}

TEST_F(TokenizerJsonTest, Llama3StyleSplitThenByteLevel) {
  const json pre = {
      {"type", "Sequence"},
      {"pretokenizers",
       {{{"type", "Split"},
         {"pattern",
          {{"Regex",
            R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"}}},
         {"behavior", "Isolated"},
         {"invert", false}},
        ByteLevel(false)}}};
  const auto tokenizer = Load(File({"'m", "123", "45", "Ġok"}, json::array(), pre));
  ASSERT_NE(tokenizer, nullptr);
  // Numbers go in groups of at most three digits.
  EXPECT_EQ(tokenizer->Encode("I'm 12345 ok"), Ids({"I", "'m", "Ġ", "123", "45", "Ġok"}));
}

TEST_F(TokenizerJsonTest, MergesBuildTokensAndDigitsStayApart) {
  json file = File({"ab", "bc", "abc", "12"}, json::array({"b c", "a b", json::array({"a", "bc"}), "1 2"}),
                   {{"type", "Sequence"},
                    {"pretokenizers", {{{"type", "Digits"}, {"individual_digits", true}}, ByteLevel()}}});
  file["model"]["ignore_merges"] = false;
  const auto tokenizer = Load(file);
  ASSERT_NE(tokenizer, nullptr);
  EXPECT_EQ(tokenizer->Encode("abc"), Ids({"abc"}));
  // "1 2" is a merge, but Digits isolated each digit before BPE saw them.
  EXPECT_EQ(tokenizer->Encode("ab 12"), Ids({"ab", "Ġ", "1", "2"}));
}

TEST_F(TokenizerJsonTest, AddedTokensAndTheTemplatesBos) {
  json file = File({}, json::array(), ByteLevel());
  file["added_tokens"] = {{{"id", 300}, {"content", "<|begin_of_text|>"}, {"special", true}},
                          {{"id", 301}, {"content", "<|begin|>"}, {"special", true}}};
  // Llama 3's form: offsets trimmed, then the template puts BOS first.
  file["post_processor"] = json::parse(R"({"type": "Sequence", "processors": [
      {"type": "ByteLevel", "trim_offsets": false},
      {"type": "TemplateProcessing",
       "single": [{"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
       "special_tokens": {"<|begin_of_text|>": {"id": "<|begin_of_text|>", "ids": [300]}}}]})");
  const auto tokenizer = Load(file);
  ASSERT_NE(tokenizer, nullptr);
  // The longest added token wins where two start at the same place.
  const std::vector<int> ids = tokenizer->Encode("hi<|begin_of_text|>yo");
  EXPECT_EQ(ids, (std::vector<int>{300, Id("h"), Id("i"), 300, Id("y"), Id("o")}));
  EXPECT_EQ(tokenizer->Decode(ids), "<|begin_of_text|>hi<|begin_of_text|>yo");
  EXPECT_EQ(tokenizer->VocabSize(), 302);
}

TEST_F(TokenizerJsonTest, AnyTextComesBackByteForByte) {
  const auto tokenizer = Load(File({}, json::array(), ByteLevel()));
  ASSERT_NE(tokenizer, nullptr);
  for (const std::string text : {"héllo wörld\n\t 中文 🙂  end", "", "   ", "a\r\n\r\nb", "x\xff\xfey"}) {
    EXPECT_EQ(tokenizer->Decode(tokenizer->Encode(text)), text) << text;
  }
}

TEST_F(TokenizerJsonTest, UnsupportedFilesAreRefusedByName) {
  json word_piece = File({}, json::array(), ByteLevel());
  word_piece["model"]["type"] = "WordPiece";
  EXPECT_NE(LoadError(word_piece).find("model type 'WordPiece' is not supported"), std::string::npos);
  EXPECT_NE(LoadError(word_piece).find("SentencePiece tokenizer.model"), std::string::npos) << "the fix";

  json normalized = File({}, json::array(), ByteLevel());
  normalized["normalizer"] = {{"type", "NFC"}};
  EXPECT_NE(LoadError(normalized).find("normalizer type 'NFC'"), std::string::npos);

  json metaspace = File({}, json::array(), {{"type", "Metaspace"}});
  EXPECT_NE(LoadError(metaspace).find("pre_tokenizer type 'Metaspace'"), std::string::npos);

  json bad_regex = File({}, json::array(), {{"type", "Split"}, {"pattern", {{"Regex", "(unclosed"}}}});
  EXPECT_NE(LoadError(bad_regex).find("does not compile"), std::string::npos);

  json no_model = File({}, json::array(), ByteLevel());
  no_model.erase("model");
  EXPECT_NE(LoadError(no_model).find("malformed tokenizer.json"), std::string::npos);
}

}  // namespace
}  // namespace gauntlet::worker
