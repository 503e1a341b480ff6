#include "worker/model/byte_level_bpe.h"

#include <algorithm>
#include <array>
#include <limits>

namespace gauntlet::worker::bpe {
namespace {

void AppendUtf8(char32_t code_point, std::string& out) {
  if (code_point < 0x80) {
    out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    out += static_cast<char>(0xC0 | (code_point >> 6));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else if (code_point < 0x10000) {
    out += static_cast<char>(0xE0 | (code_point >> 12));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code_point >> 18));
    out += static_cast<char>(0x80 | ((code_point >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  }
}

// Bytes of one UTF-8 character from its lead byte; a stray continuation or
// invalid byte counts as one, so malformed input still advances.
size_t CharacterLength(unsigned char lead) {
  if (lead >= 0xF0 && lead < 0xF8) return 4;
  if (lead >= 0xE0) return lead < 0xF0 ? 3 : 1;
  if (lead >= 0xC0) return 2;
  return 1;
}

// GPT-2's table: printable Latin-1 bytes stand for themselves; the other 68
// (controls, space, DEL, NBSP, soft hyphen) take code points 256, 257, ...
// in byte order.
struct ByteTable {
  std::array<char32_t, 256> symbol{};
  std::unordered_map<char32_t, unsigned char> byte_of;
  ByteTable() {
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      symbol[b] = printable ? static_cast<char32_t>(b) : next++;
      byte_of[symbol[b]] = static_cast<unsigned char>(b);
    }
  }
};

const ByteTable& Table() {
  static const ByteTable table;
  return table;
}

char32_t DecodeUtf8(std::string_view character) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(character[i]); };
  switch (character.size()) {
    case 1: return byte(0);
    case 2: return ((byte(0) & 0x1F) << 6) | (byte(1) & 0x3F);
    case 3: return ((byte(0) & 0x0F) << 12) | ((byte(1) & 0x3F) << 6) | (byte(2) & 0x3F);
    default: return ((byte(0) & 0x07) << 18) | ((byte(1) & 0x3F) << 12) | ((byte(2) & 0x3F) << 6) | (byte(3) & 0x3F);
  }
}

}  // namespace

std::string BytesToSymbols(std::string_view bytes) {
  std::string symbols;
  symbols.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) AppendUtf8(Table().symbol[b], symbols);
  return symbols;
}

std::string SymbolsToBytes(std::string_view symbols) {
  std::string bytes;
  for (const std::string& character : Characters(symbols)) {
    const auto found = Table().byte_of.find(DecodeUtf8(character));
    if (found == Table().byte_of.end()) return std::string(symbols);
    bytes += static_cast<char>(found->second);
  }
  return bytes;
}

std::vector<std::string> Characters(std::string_view text) {
  std::vector<std::string> characters;
  for (size_t i = 0; i < text.size();) {
    const size_t length = std::min(CharacterLength(static_cast<unsigned char>(text[i])), text.size() - i);
    characters.emplace_back(text.substr(i, length));
    i += length;
  }
  return characters;
}

std::vector<Range> SplitByMatches(size_t length, const std::vector<Range>& matches, SplitBehavior behavior,
                                  bool invert) {
  // The whole piece as alternating runs: text between matches, and matches.
  struct Run {
    Range range;
    bool delimiter;
  };
  std::vector<Run> runs;
  size_t at = 0;
  for (const Range& match : matches) {
    if (match.first > at) runs.push_back({{at, match.first}, invert});
    runs.push_back({match, !invert});
    at = match.second;
  }
  if (at < length) runs.push_back({{at, length}, invert});

  std::vector<Range> pieces;
  bool previous_delimiter = false;
  switch (behavior) {
    case SplitBehavior::kIsolated:
      for (const Run& run : runs) pieces.push_back(run.range);
      break;
    case SplitBehavior::kRemoved:
      for (const Run& run : runs) {
        if (!run.delimiter) pieces.push_back(run.range);
      }
      break;
    case SplitBehavior::kContiguous:
      for (size_t i = 0; i < runs.size(); ++i) {
        if (i > 0 && runs[i].delimiter == previous_delimiter) {
          pieces.back().second = runs[i].range.second;
        } else {
          pieces.push_back(runs[i].range);
        }
        previous_delimiter = runs[i].delimiter;
      }
      break;
    case SplitBehavior::kMergedWithPrevious:
      // A delimiter joins the text before it, unless that was a delimiter too.
      for (const Run& run : runs) {
        if (run.delimiter && !previous_delimiter && !pieces.empty()) {
          pieces.back().second = run.range.second;
        } else {
          pieces.push_back(run.range);
        }
        previous_delimiter = run.delimiter;
      }
      break;
    case SplitBehavior::kMergedWithNext:
      // The mirror image: walk backwards, a delimiter joins the text after it.
      for (auto run = runs.rbegin(); run != runs.rend(); ++run) {
        if (run->delimiter && !previous_delimiter && !pieces.empty()) {
          pieces.back().first = run->range.first;
        } else {
          pieces.push_back(run->range);
        }
        previous_delimiter = run->delimiter;
      }
      std::reverse(pieces.begin(), pieces.end());
      break;
  }
  return pieces;
}

Merger::Merger(const std::vector<std::pair<std::string, std::string>>& merges) {
  ranks_.reserve(merges.size());
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    // The first listing of a pair wins, as in the reference implementation.
    ranks_.emplace(merges[rank].first + '\xff' + merges[rank].second, static_cast<int>(rank));
  }
}

std::vector<std::string> Merger::Merge(std::vector<std::string> symbols) const {
  while (symbols.size() > 1) {
    int best_rank = std::numeric_limits<int>::max();
    std::string best_left, best_right;
    for (size_t i = 0; i + 1 < symbols.size(); ++i) {
      const auto found = ranks_.find(symbols[i] + '\xff' + symbols[i + 1]);
      if (found != ranks_.end() && found->second < best_rank) {
        best_rank = found->second;
        best_left = symbols[i];
        best_right = symbols[i + 1];
      }
    }
    if (best_rank == std::numeric_limits<int>::max()) break;
    // Every occurrence of the best pair, left to right.
    std::vector<std::string> merged;
    merged.reserve(symbols.size());
    for (size_t i = 0; i < symbols.size(); ++i) {
      if (i + 1 < symbols.size() && symbols[i] == best_left && symbols[i + 1] == best_right) {
        merged.push_back(symbols[i] + symbols[i + 1]);
        ++i;
      } else {
        merged.push_back(std::move(symbols[i]));
      }
    }
    symbols = std::move(merged);
  }
  return symbols;
}

}  // namespace gauntlet::worker::bpe
