// Prompt tokenization: our Hugging Face byte-level BPE (tokenizer.json) next
// to Google's SentencePiece on the same text, at three sizes. Equal bytes/s
// across sizes shows encoding stays linear in the prompt's length (a 32K-token
// prompt is ~130 KB).
//
//   build/bin/gauntlet_bench_tokenizer
#include <filesystem>
#include <fstream>

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>
#include <sentencepiece_trainer.h>

#include "worker/model/byte_level_bpe.h"
#include "worker/model/tokenizer.h"

namespace {

using gauntlet::worker::Tokenizer;

const std::string kLine =
    "the paged cache keeps sequence 12345 in fixed blocks of sixteen tokens; validation compares the device "
    "logits with the cpu reference, étape 7.\n";

std::string Text(size_t bytes) {
  std::string text;
  while (text.size() < bytes) text += kLine;
  return text;
}

std::string Folder() {
  static const std::string folder = [] {
    const auto path = std::filesystem::temp_directory_path() / "gauntlet-tokenizer-bench";
    std::filesystem::create_directories(path);
    return path.string();
  }();
  return folder;
}

// A GPT-2-style tokenizer.json: every byte symbol, plus merges spelling out
// each word of kLine letter by letter, as a trained vocabulary would hold them.
std::unique_ptr<Tokenizer> HuggingFace() {
  using nlohmann::json;
  namespace bpe = gauntlet::worker::bpe;
  json vocab = json::object(), merges = json::array();
  for (int b = 0; b < 256; ++b) vocab[bpe::BytesToSymbols(std::string(1, static_cast<char>(b)))] = b;
  std::string word;
  for (char c : kLine + " ") {
    if (std::isalpha(static_cast<unsigned char>(c))) {
      word += c;
      continue;
    }
    std::string built = bpe::BytesToSymbols(" ");
    for (char letter : word) {
      const std::string next = bpe::BytesToSymbols(std::string(1, letter));
      if (!vocab.contains(built + next)) {
        merges.push_back(built + " " + next);
        vocab[built + next] = static_cast<int>(vocab.size());
      }
      built += next;
    }
    word.clear();
  }
  const json file = {{"normalizer", nullptr},
                     {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
                     {"post_processor", nullptr},
                     {"added_tokens", json::array()},
                     {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", merges}}}};
  const std::string path = Folder() + "/tokenizer.json";
  std::ofstream(path) << file.dump();
  auto tokenizer = gauntlet::worker::HuggingFaceTokenizer(path);
  if (!tokenizer) throw std::runtime_error(tokenizer.error().ToString());
  return std::move(*tokenizer);
}

std::unique_ptr<Tokenizer> SentencePiece() {
  const std::string corpus = Folder() + "/corpus.txt";
  std::ofstream(corpus) << Text(64 << 10);
  const auto trained = sentencepiece::SentencePieceTrainer::Train(
      "--input=" + corpus + " --model_prefix=" + Folder() + "/spm --vocab_size=100 --model_type=bpe --minloglevel=2");
  if (!trained.ok()) throw std::runtime_error(trained.ToString());
  auto tokenizer = gauntlet::worker::SentencePieceTokenizer(Folder() + "/spm.model");
  if (!tokenizer) throw std::runtime_error(tokenizer.error().ToString());
  return std::move(*tokenizer);
}

void Encode(benchmark::State& state, const Tokenizer& tokenizer) {
  const std::string text = Text(static_cast<size_t>(state.range(0)));
  size_t tokens = 0;
  for (auto _ : state) {
    const auto ids = tokenizer.Encode(text);
    tokens = ids.size();
    benchmark::DoNotOptimize(ids.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["tokens"] = static_cast<double>(tokens);
}

void HuggingFaceBpe(benchmark::State& state) {
  static const auto tokenizer = HuggingFace();
  Encode(state, *tokenizer);
}
void SentencePieceBpe(benchmark::State& state) {
  static const auto tokenizer = SentencePiece();
  Encode(state, *tokenizer);
}

BENCHMARK(HuggingFaceBpe)->Arg(16 << 10)->Arg(128 << 10)->Arg(1 << 20)->Unit(benchmark::kMillisecond);
BENCHMARK(SentencePieceBpe)->Arg(16 << 10)->Arg(128 << 10)->Arg(1 << 20)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
