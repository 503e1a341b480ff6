// The pure parts of Hugging Face byte-level BPE tokenizers (GPT-2, Llama 3,
// Granite, StarCoder): GPT-2's byte ↔ printable-character table, how a
// pre-tokenizer's matches cut text into pieces, and BPE merging by rank.
// tokenizer_json.cc reads tokenizer.json and strings these together.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace gauntlet::worker::bpe {

// Each byte as GPT-2's printable stand-in character (UTF-8), so that every
// byte string is a string of vocabulary symbols: ' ' is "Ġ", '\n' is "Ċ".
std::string BytesToSymbols(std::string_view bytes);
// The inverse, token by token as Hugging Face decodes: a token with any
// character outside the table stays as its own UTF-8.
std::string SymbolsToBytes(std::string_view symbols);

// The UTF-8 characters of `text`, each as its own string.
std::vector<std::string> Characters(std::string_view text);

using Range = std::pair<size_t, size_t>;  // [begin, end) in bytes.

// What a pre-tokenizer keeps of a piece once its pattern has matched, as
// Hugging Face's SplitDelimiterBehavior.
enum class SplitBehavior { kIsolated, kRemoved, kMergedWithPrevious, kMergedWithNext, kContiguous };

// The ranges a piece of `length` bytes splits into, given the pattern's
// matches (sorted, disjoint, non-empty). With `invert`, the text between
// matches acts as the delimiter.
std::vector<Range> SplitByMatches(size_t length, const std::vector<Range>& matches, SplitBehavior behavior,
                                  bool invert);

// BPE merges: adjacent symbols are joined, lowest rank (earliest merge) first,
// until no adjacent pair has a rank.
class Merger {
 public:
  explicit Merger(const std::vector<std::pair<std::string, std::string>>& merges);
  std::vector<std::string> Merge(std::vector<std::string> symbols) const;

 private:
  std::unordered_map<std::string, int> ranks_;  // left + '\xff' + right: no UTF-8 has that byte.
};

}  // namespace gauntlet::worker::bpe
