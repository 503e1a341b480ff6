// The byte-level tokenizer of the tiny test models: token = byte + 3, with
// 0 = pad, 1 = begin, 2 = end. Models made by `gauntlet-worker make-model`
// use it (config.json says "gauntlet_tokenizer": "bytes"). SentencePiece
// models are not read yet.
#pragma once

#include <string>
#include <vector>

namespace gauntlet::worker {

constexpr int kByteTokenOffset = 3;

std::vector<int> EncodeBytes(const std::string& text);
std::string DecodeBytes(const std::vector<int>& tokens);

}  // namespace gauntlet::worker
