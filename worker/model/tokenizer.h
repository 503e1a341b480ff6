// Tokenizers a model folder can name, looked for in this order:
//   tokenizer.model                  SentencePiece, through Debian's libsentencepiece
//                                    (compiled in when the library is found)
//   tokenizer.json                   Hugging Face byte-level BPE (GPT-2, Llama 3,
//                                    Granite, StarCoder), regexes through PCRE2
//   "gauntlet_tokenizer": "bytes"    in config.json: the byte-level tokenizer of
//                                    models made by `gauntlet-worker make-model`
//                                    (token = byte + 3; 0 pad, 1 begin, 2 end)
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
// A status saying so when this worker was built without SentencePiece.
StatusOr<std::unique_ptr<Tokenizer>> SentencePieceTokenizer(const std::string& model_path);
// The same without PCRE2. Encode applies the file's post-processor template
// (a BOS token, say), as Hugging Face's encode does by default.
StatusOr<std::unique_ptr<Tokenizer>> HuggingFaceTokenizer(const std::string& tokenizer_json);

}  // namespace gauntlet::worker
