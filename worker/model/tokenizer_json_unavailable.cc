// Built when PCRE2 is not found (e.g. the GPU machine).
#include "worker/model/tokenizer.h"

namespace gauntlet::worker {

StatusOr<std::unique_ptr<Tokenizer>> HuggingFaceTokenizer(const std::string& tokenizer_json) {
  return Err(Status::FailedPrecondition(tokenizer_json + ": this worker was built without PCRE2, which Hugging Face "
                                        "tokenizers' patterns need; install libpcre2-dev and rebuild"));
}

}  // namespace gauntlet::worker
