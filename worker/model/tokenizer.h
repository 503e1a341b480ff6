// Tokenizers a model folder can name:
//   tokenizer.model                  SentencePiece, through Debian's libsentencepiece
//                                    (compiled in when the library is found)
//   "gauntlet_tokenizer": "bytes"    in config.json: the byte-level tokenizer of
//                                    models made by `gauntlet-worker make-model`
//                                    (token = byte + 3; 0 pad, 1 begin, 2 end)
// Hugging Face tokenizer.json (BPE) is not read yet.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace gauntlet::worker {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  virtual std::vector<int> Encode(const std::string& text) const = 0;
  virtual std::string Decode(const std::vector<int>& tokens) const = 0;
  virtual int VocabSize() const = 0;
};

// Picks the tokenizer `model_dir` names; fails naming what the folder lacks.
StatusOr<std::unique_ptr<Tokenizer>> LoadTokenizer(const std::string& model_dir);

constexpr int kByteTokenOffset = 3;
std::unique_ptr<Tokenizer> ByteTokenizer();
// Nullptr and a status when this worker was built without SentencePiece.
StatusOr<std::unique_ptr<Tokenizer>> SentencePieceTokenizer(const std::string& model_path);

}  // namespace gauntlet::worker
