#include "worker/model/tokenizer.h"

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

namespace gauntlet::worker {
namespace {

class Bytes final : public Tokenizer {
 public:
  std::vector<int> Encode(const std::string& text) const override {
    std::vector<int> tokens;
    tokens.reserve(text.size());
    for (unsigned char byte : text) tokens.push_back(byte + kByteTokenOffset);
    return tokens;
  }
  std::string Decode(const std::vector<int>& tokens) const override {
    std::string text;
    for (int token : tokens) {
      if (token >= kByteTokenOffset && token < 256 + kByteTokenOffset) text += static_cast<char>(token - kByteTokenOffset);
    }
    return text;
  }
  int VocabSize() const override { return 256 + kByteTokenOffset; }
};

}  // namespace

std::unique_ptr<Tokenizer> ByteTokenizer() { return std::make_unique<Bytes>(); }

StatusOr<std::unique_ptr<Tokenizer>> LoadTokenizer(const std::string& model_dir) {
  namespace fs = std::filesystem;
  if (fs::exists(fs::path(model_dir) / "tokenizer.model")) {
    return SentencePieceTokenizer((fs::path(model_dir) / "tokenizer.model").string());
  }
  if (fs::exists(fs::path(model_dir) / "tokenizer.json")) {
    return HuggingFaceTokenizer((fs::path(model_dir) / "tokenizer.json").string());
  }
  std::ifstream config(fs::path(model_dir) / "config.json");
  auto json = nlohmann::json::parse(config, nullptr, false);
  if (json.is_object() && json.value("gauntlet_tokenizer", "") == "bytes") return ByteTokenizer();
  return Err(Status::NotFound(model_dir + ": no tokenizer.model (SentencePiece) or tokenizer.json (Hugging Face), "
                              "and config.json names no gauntlet_tokenizer; copy the model's tokenizer files into "
                              "the folder"));
}

}  // namespace gauntlet::worker
