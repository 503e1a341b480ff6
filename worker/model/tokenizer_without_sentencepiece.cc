// Built when libsentencepiece is not found (e.g. the GPU machine).
#include "worker/model/tokenizer.h"

namespace gauntlet::worker {

StatusOr<std::unique_ptr<Tokenizer>> SentencePieceTokenizer(const std::string& model_path) {
  return Err(Status::FailedPrecondition(model_path + ": this worker was built without SentencePiece; install "
                                        "libsentencepiece-dev and rebuild"));
}

}  // namespace gauntlet::worker
