// gauntlet-worker: one MPI rank per device. Runs a built-in suite from
// job.json and has rank 0 write result.json into the output folder.
//
// Exit codes (lib/contract/worker_contract.h): 0 the suite passed, 1 its
// verdict is fail, 2 the job file or parameters are wrong, 3 the node failed
// the job (disk, device, an internal error). A crash exits however the crash
// does; the agent records it as an infrastructure failure.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <CLI/CLI.hpp>
#include <mpi.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "common/logging.h"
#include "lib/contract/worker_contract.h"
#include "worker/kernels/cpu_isa.h"
#include "worker/model/tokenizer.h"
#include "worker/model/weights.h"
#include "worker/suites/suite.h"

namespace {

using gauntlet::worker::SuiteContext;
using gauntlet::worker::SuiteResult;

using gauntlet::contract::WorkerExit;

// The device of this rank: the rank-th entry of the visible list.
int DeviceForRank(int rank) {
  for (const char* name : {"GAUNTLET_DEVICES", "CUDA_VISIBLE_DEVICES", "HIP_VISIBLE_DEVICES"}) {
    const char* value = std::getenv(name);
    if (value && *value) return gauntlet::contract::DeviceForRank(value, rank);
  }
  return rank;
}

int Finish(WorkerExit code) {
  MPI_Finalize();
  return static_cast<int>(code);
}

// gauntlet-worker make-model: a small deterministic random model in the
// Hugging Face layout, for tests and the demo.
int MakeModel(int argc, char** argv) {
  CLI::App app{"gauntlet-worker make-model: write a small random llama-style model"};
  gauntlet::worker::ModelConfig config;
  config.layers = 4, config.hidden = 256, config.heads = 8, config.kv_heads = 2, config.vocab = 512;
  config.intermediate = 0;
  std::string out, dtype_name = "fp32";
  uint64_t seed = 1;
  app.add_option("--out", out, "Folder to write config.json and model.safetensors into")->required();
  app.add_option("--layers", config.layers, "Decoder layers")->check(CLI::Range(1, 256));
  app.add_option("--hidden", config.hidden, "Hidden size")->check(CLI::Range(8, 65536));
  app.add_option("--heads", config.heads, "Attention heads")->check(CLI::Range(1, 1024));
  app.add_option("--kv-heads", config.kv_heads, "Key/value heads (grouped-query attention)")->check(CLI::Range(1, 1024));
  app.add_option("--intermediate", config.intermediate, "MLP size (default: 8/3 of hidden, a multiple of 64)");
  app.add_option("--vocab", config.vocab, "Vocabulary size (at least 259 for the byte tokenizer)")->check(CLI::Range(259, 1 << 20));
  app.add_option("--max-positions", config.max_positions, "Longest context");
  app.add_option("--seed", seed, "Random seed");
  app.add_option("--dtype", dtype_name, "Stored dtype: fp32, fp16 or bf16")->check(CLI::IsMember({"fp32", "fp16", "bf16"}));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (config.intermediate == 0) config.intermediate = (config.hidden * 8 / 3 + 63) / 64 * 64;
  if (config.hidden % config.heads != 0 || config.heads % config.kv_heads != 0 || config.head_dim() % 2 != 0) {
    spdlog::error("--hidden must be a multiple of --heads with an even head size, and --heads a multiple of --kv-heads");
    return 2;
  }
  gauntlet::worker::DType dtype;
  gauntlet::worker::ParseSpecDType(dtype_name, &dtype);
  auto status = gauntlet::worker::WriteRandomModel(out, config, seed, dtype);
  if (!status.ok()) {
    spdlog::error("{}", status.ToString());
    return 1;
  }
  spdlog::info("wrote a {}-layer model (hidden {}, {}/{} heads, vocab {}) to {}", config.layers, config.hidden,
               config.heads, config.kv_heads, config.vocab, out);
  return 0;
}

// gauntlet-worker tokenize: what a model folder's tokenizer makes of some
// texts, exactly as the llm suite encodes prompts (template tokens included),
// and the text those ids decode back to. Prints
// [{"text": ..., "ids": [...], "decoded": ...}, ...] as JSON.
int Tokenize(int argc, char** argv) {
  CLI::App app{"gauntlet-worker tokenize: encode texts with a model folder's tokenizer"};
  std::string model_dir, texts_path;
  std::vector<std::string> texts;
  app.add_option("--model", model_dir, "Model folder (tokenizer.model, tokenizer.json or config.json)")->required();
  app.add_option("--text", texts, "A text to encode (repeatable)");
  app.add_option("--texts", texts_path, "A JSON file holding an array of texts to encode");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (!texts_path.empty()) {
    std::ifstream in(texts_path);
    if (!in) {
      spdlog::error("--texts {}: cannot be read; give a JSON file holding an array of texts", texts_path);
      return 2;
    }
    const auto file = nlohmann::json::parse(in, nullptr, false);
    if (!file.is_array() || !std::ranges::all_of(file, [](const auto& text) { return text.is_string(); })) {
      spdlog::error("--texts {}: not a JSON array of strings; write it as [\"first text\", \"second\"]", texts_path);
      return 2;
    }
    for (const auto& text : file) texts.push_back(text.get<std::string>());
  }
  auto tokenizer = gauntlet::worker::LoadTokenizer(model_dir);
  if (!tokenizer) {
    spdlog::error("--model {}: {}", model_dir, tokenizer.error().ToString());
    return 2;
  }
  nlohmann::json encoded = nlohmann::json::array();
  for (const auto& text : texts) {
    const std::vector<int> ids = (*tokenizer)->Encode(text);
    encoded.push_back({{"text", text}, {"ids", ids}, {"decoded", (*tokenizer)->Decode(ids)}});
  }
  std::cout << encoded.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "make-model") {
    gauntlet::SetupLogging("worker", "info");
    return MakeModel(argc - 1, argv + 1);
  }
  if (argc > 1 && std::string(argv[1]) == "tokenize") {
    gauntlet::SetupLogging("worker", "info");
    return Tokenize(argc - 1, argv + 1);
  }
  // The agent asks at start-up, and reports the list, so that submit can
  // refuse a suite no worker has instead of failing each job as it runs.
  if (argc > 1 && std::string(argv[1]) == "suites") {
    for (const auto& [name, fn] : gauntlet::worker::Suites()) std::cout << name << "\n";
    return 0;
  }
  MPI_Init(&argc, &argv);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);

  CLI::App app{"gauntlet-worker: runs a Gauntlet suite on every MPI rank"};
  std::string job_path, out_dir, log_level = "info";
  app.add_option("--job", job_path, "job.json written by the agent")->required();
  app.add_option("--out", out_dir, "Folder for result.json and artifacts")->required();
  app.add_option("--log-level", log_level, "trace, debug, info, warn or error");
  app.footer("Sub-commands (gauntlet-worker NAME --help for each):\n"
             "  make-model  write a small random llama-style model (Hugging Face layout)\n"
             "  tokenize    encode texts as the llm suite encodes prompts\n"
             "  suites      list the suites built into this worker");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (rank == 0) app.exit(e);
    return Finish(e.get_exit_code() == 0 ? WorkerExit::kPass : WorkerExit::kBadParams);  // --help is no error.
  }
  gauntlet::SetupLogging("worker." + std::to_string(rank), log_level);

  std::ifstream in(job_path);
  if (!in) {
    spdlog::error("--job {}: cannot be read", job_path);
    return Finish(WorkerExit::kInfrastructure);
  }
  auto job = gauntlet::contract::WorkerJobFromJson(nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false));
  if (!job) {
    spdlog::error("--job {}: {}", job_path, job.error().message());
    return Finish(WorkerExit::kBadParams);
  }
  const std::string suite_name = job->suite;
  auto found = gauntlet::worker::Suites().find(suite_name);
  if (found == gauntlet::worker::Suites().end()) {
    std::string known;
    for (const auto& [name, fn] : gauntlet::worker::Suites()) known += (known.empty() ? "" : ", ") + name;
    spdlog::error("suite '{}' is not built into this worker; known suites: {}", suite_name, known);
    return Finish(WorkerExit::kBadParams);
  }

  SuiteContext ctx;
  ctx.rank = rank;
  ctx.size = size;
  ctx.params = job->params;
  ctx.backend = job->backend;
  ctx.device = DeviceForRank(rank);
  ctx.out_dir = out_dir;
  ctx.inputs_dir = job->inputs;
  if (rank == 0) {
    std::error_code ec;
    std::filesystem::create_directories(out_dir, ec);
    if (ec) {
      spdlog::error("--out {}: {}", out_dir, ec.message());
      return Finish(WorkerExit::kInfrastructure);
    }
  }

  SuiteResult result;
  WorkerExit code = WorkerExit::kPass;
  try {
    spdlog::info("suite {} on rank {}/{} device {} backend {} (CPU kernels: {})", suite_name, rank, size, ctx.device,
                 ctx.backend, gauntlet::worker::cpu::CpuIsaName(gauntlet::worker::cpu::BestCpuIsa()));
    result = found->second(ctx);
    code = result.pass ? WorkerExit::kPass : WorkerExit::kVerdictFail;
  } catch (const gauntlet::worker::BadParams& e) {
    result.pass = false;
    result.reason = e.what();
    code = WorkerExit::kBadParams;
  } catch (const gauntlet::worker::RunnerFailed& e) {
    result.pass = false;
    result.reason = e.what();
    code = WorkerExit::kInfrastructure;
  } catch (const std::exception& e) {
    // A bug or the node (an allocation, a device, a file): another attempt,
    // perhaps elsewhere, may pass. The verdict still says what happened.
    spdlog::error("suite {} failed: {}", suite_name, e.what());
    result.pass = false;
    result.reason = std::string("internal error: ") + e.what();
    code = WorkerExit::kInfrastructure;
  }
  if (rank == 0) {
    gauntlet::contract::WorkerResult out;
    out.suite = suite_name;
    out.verdict = result.pass ? gauntlet::contract::Verdict::kPass : gauntlet::contract::Verdict::kFail;
    out.reason = result.reason;
    out.ranks = size;
    out.metrics = result.metrics;
    out.samples = result.samples;
    out.details = result.details;
    std::ofstream file(out_dir + "/result.json");
    // Model output may be any bytes; invalid UTF-8 becomes U+FFFD, not an abort.
    file << gauntlet::contract::ToJson(out).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    file.close();
    if (!file) {
      // A full disk: the verdict is lost, so the attempt must be retried.
      spdlog::error("cannot write {}/result.json (disk full?)", out_dir);
      return Finish(WorkerExit::kInfrastructure);
    }
    spdlog::info("verdict {}{}", result.pass ? "pass" : "fail", result.reason.empty() ? "" : ": " + result.reason);
  }
  return Finish(code);
}
