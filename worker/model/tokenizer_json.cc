// Hugging Face tokenizer.json, byte-level BPE: the tokenizers of GPT-2,
// Llama 3, Granite and StarCoder. Regex pre-tokenizers go through PCRE2
// (Unicode classes such as \p{L}); merging and the byte table are in
// byte_level_bpe.cc.
//
// Read: model BPE (vocab, merges as "a b" or [a, b], ignore_merges,
// unk_token); pre_tokenizer ByteLevel, Split, Digits and Sequences of them;
// added_tokens; post_processor TemplateProcessing (the single-sequence
// template: a BOS token, say), ByteLevel or Sequence. Anything else is
// refused by name rather than tokenized differently from the reference.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <functional>
#include <memory>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "worker/model/byte_level_bpe.h"
#include "worker/model/tokenizer.h"

namespace gauntlet::worker {
namespace {

using nlohmann::json;
using Pieces = std::vector<std::string>;

// GPT-2's pre-tokenization pattern, which ByteLevel applies when use_regex.
constexpr const char* kGpt2Pattern = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

class Pattern {
 public:
  static StatusOr<std::shared_ptr<Pattern>> Compile(const std::string& pattern, bool literal, const std::string& field) {
    int error = 0;
    PCRE2_SIZE offset = 0;
    const uint32_t options = PCRE2_UTF | PCRE2_UCP | (literal ? PCRE2_LITERAL : 0);
    pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), options, &error,
                                     &offset, nullptr);
    if (!code) {
      PCRE2_UCHAR message[256];
      pcre2_get_error_message(error, message, sizeof message);
      return Err(Status::InvalidArgument("tokenizer.json: " + field + " '" + pattern + "' does not compile (" +
                                         reinterpret_cast<const char*>(message) + " at offset " +
                                         std::to_string(offset) + ")"));
    }
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // Optional speed-up; matching works without it.
    return std::make_shared<Pattern>(code);
  }
  explicit Pattern(pcre2_code* code) : code_(code, pcre2_code_free) {}

  // Every non-empty match in `text`, left to right.
  std::vector<bpe::Range> Matches(const std::string& text) const {
    std::unique_ptr<pcre2_match_data, decltype(&pcre2_match_data_free)> data(
        pcre2_match_data_create_from_pattern(code_.get(), nullptr), pcre2_match_data_free);
    std::vector<bpe::Range> matches;
    size_t at = 0;
    // PCRE2 checks the whole subject's UTF-8 on every call unless told not
    // to: once is enough (quadratic otherwise: 49 s for 1 MB of text).
    uint32_t options = 0;
    while (at < text.size()) {
      const int found = pcre2_match(code_.get(), reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), at, options,
                                    data.get(), nullptr);
      if (found < 0) break;  // No more matches, or invalid UTF-8: the rest stays one piece.
      options = PCRE2_NO_UTF_CHECK;
      const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(data.get());
      if (ovector[1] > ovector[0]) {
        matches.emplace_back(ovector[0], ovector[1]);
        at = ovector[1];
      } else {
        at = ovector[0] + 1;  // An empty match: move past it (a UTF-8 tail byte is skipped by the next match).
        while (at < text.size() && (static_cast<unsigned char>(text[at]) & 0xC0) == 0x80) ++at;
      }
    }
    return matches;
  }

 private:
  std::unique_ptr<pcre2_code, decltype(&pcre2_code_free)> code_;
};

// One pre-tokenizer: every piece in, its pieces out.
using PreTokenizer = std::function<Pieces(const Pieces&)>;

PreTokenizer SplitWith(std::shared_ptr<Pattern> pattern, bpe::SplitBehavior behavior, bool invert) {
  return [pattern = std::move(pattern), behavior, invert](const Pieces& pieces) {
    Pieces out;
    for (const std::string& piece : pieces) {
      for (const auto& [begin, end] : bpe::SplitByMatches(piece.size(), pattern->Matches(piece), behavior, invert)) {
        out.push_back(piece.substr(begin, end - begin));
      }
    }
    return out;
  };
}

StatusOr<bpe::SplitBehavior> Behavior(const std::string& name) {
  static const std::unordered_map<std::string, bpe::SplitBehavior> behaviors = {
      {"Isolated", bpe::SplitBehavior::kIsolated},
      {"Removed", bpe::SplitBehavior::kRemoved},
      {"MergedWithPrevious", bpe::SplitBehavior::kMergedWithPrevious},
      {"MergedWithNext", bpe::SplitBehavior::kMergedWithNext},
      {"Contiguous", bpe::SplitBehavior::kContiguous}};
  const auto found = behaviors.find(name);
  if (found == behaviors.end()) {
    return Err(Status::InvalidArgument("tokenizer.json: pre_tokenizer Split behavior '" + name +
                                       "' is not one of Isolated, Removed, MergedWithPrevious, MergedWithNext, "
                                       "Contiguous"));
  }
  return found->second;
}

Status Unsupported(const std::string& field, const std::string& value) {
  return Status::InvalidArgument("tokenizer.json: " + field + " '" + value +
                                 "' is not supported; Gauntlet reads byte-level BPE tokenizer.json files (GPT-2, "
                                 "Llama 3, Granite, StarCoder) and SentencePiece tokenizer.model; give the model "
                                 "folder one of those");
}

// Appends the steps of `spec` to `steps`; sets `byte_level` when a ByteLevel
// step maps bytes to symbols.
Status ParsePreTokenizer(const json& spec, std::vector<PreTokenizer>& steps, bool& byte_level) {
  const std::string type = spec.value("type", "");
  if (type == "Sequence") {
    for (const json& step : spec.at("pretokenizers")) GAUNTLET_RETURN_IF_ERROR(ParsePreTokenizer(step, steps, byte_level));
    return Status::Ok();
  }
  if (type == "ByteLevel") {
    byte_level = true;
    if (spec.value("add_prefix_space", true)) {
      steps.push_back([](const Pieces& pieces) {
        Pieces out = pieces;
        for (std::string& piece : out) {
          if (piece.empty() || piece.front() != ' ') piece.insert(piece.begin(), ' ');
        }
        return out;
      });
    }
    if (spec.value("use_regex", true)) {
      GAUNTLET_ASSIGN_OR_RETURN(auto pattern, Pattern::Compile(kGpt2Pattern, false, "ByteLevel pattern"));
      steps.push_back(SplitWith(std::move(pattern), bpe::SplitBehavior::kIsolated, false));
    }
    return Status::Ok();
  }
  if (type == "Split") {
    const json& pattern = spec.at("pattern");
    const bool literal = pattern.contains("String");
    const std::string text = literal ? pattern.at("String").get<std::string>() : pattern.at("Regex").get<std::string>();
    GAUNTLET_ASSIGN_OR_RETURN(auto compiled, Pattern::Compile(text, literal, "pre_tokenizer Split pattern"));
    GAUNTLET_ASSIGN_OR_RETURN(auto behavior, Behavior(spec.value("behavior", "Isolated")));
    steps.push_back(SplitWith(std::move(compiled), behavior, spec.value("invert", false)));
    return Status::Ok();
  }
  if (type == "Digits") {
    // Numeric characters, one by one or in runs.
    const bool individual = spec.value("individual_digits", false);
    GAUNTLET_ASSIGN_OR_RETURN(auto pattern, Pattern::Compile(individual ? R"(\p{N})" : R"(\p{N}+)", false, "Digits"));
    steps.push_back(SplitWith(std::move(pattern), bpe::SplitBehavior::kIsolated, false));
    return Status::Ok();
  }
  return Unsupported("pre_tokenizer type", type);
}

// The single-sequence template's tokens before and after the text.
Status ParsePostProcessor(const json& spec, std::vector<int>& prefix, std::vector<int>& suffix) {
  if (spec.is_null()) return Status::Ok();
  const std::string type = spec.value("type", "");
  if (type == "ByteLevel") return Status::Ok();  // Offsets only.
  if (type == "Sequence") {
    for (const json& step : spec.at("processors")) GAUNTLET_RETURN_IF_ERROR(ParsePostProcessor(step, prefix, suffix));
    return Status::Ok();
  }
  if (type != "TemplateProcessing") return Unsupported("post_processor type", type);
  bool after_text = false;
  for (const json& item : spec.at("single")) {
    if (item.contains("Sequence")) {
      after_text = true;
      continue;
    }
    const std::string name = item.at("SpecialToken").at("id").get<std::string>();
    const json& special = spec.at("special_tokens").at(name);
    for (const json& id : special.at("ids")) (after_text ? suffix : prefix).push_back(id.get<int>());
  }
  return Status::Ok();
}

struct AddedToken {
  std::string content;
  int id = 0;
  bool lstrip = false, rstrip = false;
};

class ByteLevelBpe final : public Tokenizer {
 public:
  ByteLevelBpe(std::unordered_map<std::string, int> vocab, bpe::Merger merger, std::vector<PreTokenizer> steps,
               std::vector<AddedToken> added, std::vector<int> prefix, std::vector<int> suffix, bool ignore_merges,
               int unk)
      : vocab_(std::move(vocab)),
        merger_(std::move(merger)),
        steps_(std::move(steps)),
        added_(std::move(added)),
        prefix_(std::move(prefix)),
        suffix_(std::move(suffix)),
        ignore_merges_(ignore_merges),
        unk_(unk) {
    for (const auto& [token, id] : vocab_) token_of_[id] = token;
    for (const AddedToken& token : added_) token_of_[token.id] = token.content;
    for (const auto& [id, token] : token_of_) vocab_size_ = std::max(vocab_size_, id + 1);
  }

  std::vector<int> Encode(const std::string& text) const override {
    std::vector<int> ids = prefix_;
    // Added tokens are found in the raw text first, leftmost and longest;
    // the text between them is tokenized as usual. Each token's next
    // occurrence is remembered, so the text is searched once per token.
    std::vector<size_t> next_at(added_.size());
    for (size_t t = 0; t < added_.size(); ++t) next_at[t] = text.find(added_[t].content);
    size_t at = 0;
    while (true) {
      const AddedToken* best = nullptr;
      size_t best_at = std::string::npos;
      for (size_t t = 0; t < added_.size(); ++t) {
        if (next_at[t] != std::string::npos && next_at[t] < at) next_at[t] = text.find(added_[t].content, at);
        if (next_at[t] != std::string::npos &&
            (next_at[t] < best_at || (next_at[t] == best_at && added_[t].content.size() > best->content.size()))) {
          best_at = next_at[t];
          best = &added_[t];
        }
      }
      size_t text_end = best ? best_at : text.size();
      if (best && best->lstrip) {
        while (text_end > at && std::isspace(static_cast<unsigned char>(text[text_end - 1]))) --text_end;
      }
      EncodeText(text.substr(at, text_end - at), ids);
      if (!best) break;
      ids.push_back(best->id);
      at = best_at + best->content.size();
      if (best->rstrip) {
        while (at < text.size() && std::isspace(static_cast<unsigned char>(text[at]))) ++at;
      }
    }
    ids.insert(ids.end(), suffix_.begin(), suffix_.end());
    return ids;
  }

  std::string Decode(const std::vector<int>& tokens) const override {
    std::string text;
    for (int id : tokens) {
      const auto found = token_of_.find(id);
      if (found != token_of_.end()) text += bpe::SymbolsToBytes(found->second);
    }
    return text;
  }

  int VocabSize() const override { return vocab_size_; }

 private:
  void EncodeText(const std::string& text, std::vector<int>& ids) const {
    if (text.empty()) return;
    Pieces pieces = {text};
    for (const PreTokenizer& step : steps_) pieces = step(pieces);
    for (const std::string& piece : pieces) {
      const std::string symbols = bpe::BytesToSymbols(piece);
      if (const auto whole = vocab_.find(symbols); ignore_merges_ && whole != vocab_.end()) {
        ids.push_back(whole->second);
        continue;
      }
      for (const std::string& token : merger_.Merge(bpe::Characters(symbols))) {
        const auto found = vocab_.find(token);
        // Every byte symbol is in a byte-level vocabulary; a token that is
        // not becomes unk, or is dropped when there is none, as HF does.
        if (found != vocab_.end()) {
          ids.push_back(found->second);
        } else if (unk_ >= 0) {
          ids.push_back(unk_);
        }
      }
    }
  }

  std::unordered_map<std::string, int> vocab_;
  bpe::Merger merger_;
  std::vector<PreTokenizer> steps_;
  std::vector<AddedToken> added_;
  std::vector<int> prefix_, suffix_;
  bool ignore_merges_;
  int unk_;
  std::unordered_map<int, std::string> token_of_;
  int vocab_size_ = 0;
};

StatusOr<std::unique_ptr<Tokenizer>> Parse(const json& file) {
  const json& model = file.at("model");
  const std::string model_type = model.value("type", "");
  if (model_type != "BPE") return Err(Unsupported("model type", model_type));
  for (const char* field : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    if (model.contains(field) && !model[field].is_null() && !model[field].get<std::string>().empty()) {
      return Err(Unsupported(std::string("model ") + field, model[field].get<std::string>()));
    }
  }
  if (model.value("byte_fallback", false)) return Err(Unsupported("model byte_fallback", "true"));
  const json& normalizer = file.value("normalizer", json());
  if (!normalizer.is_null()) return Err(Unsupported("normalizer type", normalizer.value("type", "")));

  std::unordered_map<std::string, int> vocab;
  for (const auto& [token, id] : model.at("vocab").items()) vocab.emplace(token, id.get<int>());
  std::vector<std::pair<std::string, std::string>> merges;
  for (const json& merge : model.at("merges")) {
    if (merge.is_array()) {
      merges.emplace_back(merge.at(0).get<std::string>(), merge.at(1).get<std::string>());
      continue;
    }
    const std::string pair = merge.get<std::string>();
    const size_t space = pair.find(' ');
    if (space == std::string::npos) {
      return Err(Status::InvalidArgument("tokenizer.json: merge '" + pair + "' is not two tokens split by a space"));
    }
    merges.emplace_back(pair.substr(0, space), pair.substr(space + 1));
  }
  int unk = -1;
  if (model.contains("unk_token") && model["unk_token"].is_string()) {
    const auto found = vocab.find(model["unk_token"].get<std::string>());
    if (found != vocab.end()) unk = found->second;
  }

  std::vector<PreTokenizer> steps;
  bool byte_level = false;
  if (file.contains("pre_tokenizer") && !file["pre_tokenizer"].is_null()) {
    GAUNTLET_RETURN_IF_ERROR(ParsePreTokenizer(file["pre_tokenizer"], steps, byte_level));
  }
  if (!byte_level) return Err(Unsupported("pre_tokenizer", "without ByteLevel"));

  std::vector<AddedToken> added;
  for (const json& token : file.value("added_tokens", json::array())) {
    if (token.value("single_word", false)) return Err(Unsupported("added token single_word", token.at("content").get<std::string>()));
    const std::string content = token.at("content").get<std::string>();
    if (content.empty()) return Err(Status::InvalidArgument("tokenizer.json: an added token has empty content"));
    added.push_back({content, token.at("id").get<int>(), token.value("lstrip", false), token.value("rstrip", false)});
  }
  std::vector<int> prefix, suffix;
  GAUNTLET_RETURN_IF_ERROR(ParsePostProcessor(file.value("post_processor", json()), prefix, suffix));
  return std::unique_ptr<Tokenizer>(std::make_unique<ByteLevelBpe>(
      std::move(vocab), bpe::Merger(merges), std::move(steps), std::move(added), std::move(prefix), std::move(suffix),
      model.value("ignore_merges", false), unk));
}

}  // namespace

StatusOr<std::unique_ptr<Tokenizer>> HuggingFaceTokenizer(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Err(Status::NotFound(path + ": cannot be read"));
  const json file = json::parse(in, nullptr, false);
  if (file.is_discarded() || !file.is_object()) {
    return Err(Status::InvalidArgument(path + ": not a JSON object; is it a Hugging Face tokenizer.json?"));
  }
  try {
    auto tokenizer = Parse(file);
    if (!tokenizer) return Err(Status::InvalidArgument(path + ": " + tokenizer.error().message()));
    return tokenizer;
  } catch (const json::exception& e) {
    // A field missing or of the wrong type: nlohmann names it.
    return Err(Status::InvalidArgument(path + ": malformed tokenizer.json (" + e.what() + ")"));
  }
}

}  // namespace gauntlet::worker
