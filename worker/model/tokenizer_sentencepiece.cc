// SentencePiece through Debian's libsentencepiece.
#include <sentencepiece_processor.h>

#include "worker/model/tokenizer.h"

namespace gauntlet::worker {
namespace {

class SentencePiece final : public Tokenizer {
 public:
  explicit SentencePiece(std::unique_ptr<sentencepiece::SentencePieceProcessor> processor)
      : processor_(std::move(processor)) {}
  std::vector<int> Encode(const std::string& text) const override {
    std::vector<int> ids;
    (void)processor_->Encode(text, &ids);
    return ids;
  }
  std::string Decode(const std::vector<int>& tokens) const override {
    std::string text;
    (void)processor_->Decode(tokens, &text);
    return text;
  }
  int VocabSize() const override { return processor_->GetPieceSize(); }

 private:
  std::unique_ptr<sentencepiece::SentencePieceProcessor> processor_;
};

}  // namespace

StatusOr<std::unique_ptr<Tokenizer>> SentencePieceTokenizer(const std::string& model_path) {
  auto processor = std::make_unique<sentencepiece::SentencePieceProcessor>();
  const auto status = processor->Load(model_path);
  if (!status.ok()) return Err(Status::InvalidArgument(model_path + ": " + status.ToString()));
  return std::unique_ptr<Tokenizer>(std::make_unique<SentencePiece>(std::move(processor)));
}

}  // namespace gauntlet::worker
