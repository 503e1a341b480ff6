// Run under `mpirun -np N`: every rank computes the tiny model with tensor
// parallelism over N ranks; rank 0 also computes it alone (MPI_COMM_SELF) and
// checks that prefill and decode logits agree within float tolerance.
#include <cmath>
#include <cstdio>
#include <filesystem>

#include <mpi.h>

#include "worker/model/llama.h"
#include "worker/model/weights.h"

using namespace gauntlet::worker;

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  std::string dir = argc > 1 ? argv[1] : "/tmp/gauntlet-tp-model";
  ModelConfig config;
  config.hidden = 64;
  config.layers = 2;
  config.heads = 8;
  config.kv_heads = 4;
  config.intermediate = 128;
  config.vocab = 256;
  if (rank == 0 && !WriteRandomModel(dir, config, 11, DType::kF32).ok()) MPI_Abort(MPI_COMM_WORLD, 2);
  MPI_Barrier(MPI_COMM_WORLD);

  auto shard = LoadWeights(dir, rank, size, DType::kF32);
  if (!shard) {
    std::fprintf(stderr, "rank %d: %s\n", rank, shard.error().ToString().c_str());
    MPI_Abort(MPI_COMM_WORLD, 2);
  }
  KvCacheConfig cache{0, 0, 0, 16, 64, DType::kF32, 5};
  LlamaModel parallel(*shard, MPI_COMM_WORLD, cache);
  std::vector<std::vector<float>> outputs;
  int seq = parallel.NewSequence();
  outputs.push_back(*parallel.Prefill(seq, {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3, 2, 3}));
  for (int token : {8, 4, 6}) outputs.push_back(*parallel.Decode({seq}, {token}));

  int failures = 0;
  if (rank == 0) {
    auto whole = LoadWeights(dir, 0, 1, DType::kF32);
    LlamaModel alone(*whole, MPI_COMM_SELF, cache);
    std::vector<std::vector<float>> expected;
    int s = alone.NewSequence();
    expected.push_back(*alone.Prefill(s, {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3, 2, 3}));
    for (int token : {8, 4, 6}) expected.push_back(*alone.Decode({s}, {token}));
    double worst = 0;
    for (size_t step = 0; step < expected.size(); ++step) {
      for (size_t i = 0; i < expected[step].size(); ++i) {
        worst = std::max(worst, static_cast<double>(std::fabs(expected[step][i] - outputs[step][i])));
      }
    }
    std::printf("TP=%d vs TP=1: max |logit difference| = %.3g over %zu steps\n", size, worst, expected.size());
    failures = worst < 1e-3 ? 0 : 1;
    std::printf("%d passed, %d failed\n", 1 - failures, failures);
    std::filesystem::remove_all(dir);
  }
  MPI_Bcast(&failures, 1, MPI_INT, 0, MPI_COMM_WORLD);
  MPI_Finalize();
  return failures;
}
