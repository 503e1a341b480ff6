#include "worker/model/tokenizer.h"

namespace gauntlet::worker {

std::vector<int> EncodeBytes(const std::string& text) {
  std::vector<int> tokens;
  tokens.reserve(text.size());
  for (unsigned char byte : text) tokens.push_back(byte + kByteTokenOffset);
  return tokens;
}

std::string DecodeBytes(const std::vector<int>& tokens) {
  std::string text;
  for (int token : tokens) {
    if (token >= kByteTokenOffset && token < 256 + kByteTokenOffset) text += static_cast<char>(token - kByteTokenOffset);
  }
  return text;
}

}  // namespace gauntlet::worker
