// How a strategy splits one GEMM layer over num_npus ranks in num_packages
// packages, and which collective each pass needs: the shapes and the
// communication sizes gen_astrasim_workload_input.py computes, which the
// worker then runs for real. Pure.
//
// A layer Y[m, n] = X[m, k] · W[k, n] is cut D ways along m (data) and T ways
// along n (model), D · T = num_npus:
//   DATA               D = P          T = 1
//   MODEL              D = 1          T = P
//   HYBRID_DATA_MODEL  D = packages   T = per package   (data between packages, model within)
//   HYBRID_MODEL_DATA  D = per package T = packages     (model between packages, data within)
// Ranks with the same data shard form the model group; the same model shard,
// the data group.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "lib/gemm/mnk.h"

namespace gauntlet::gemm {

enum class Collective { kNone, kAllReduce, kAllGather, kReduceScatter };
std::string_view CollectiveName(Collective collective);  // ASTRA-Sim's: NONE, ALLREDUCE, ...

enum class Group { kNone, kModel, kData };  // Which ranks a pass's collective spans.

struct Pass {
  int64_t rows = 0, inner = 0, cols = 0;  // The shard's GEMM: [rows, inner] · [inner, cols].
  Collective collective = Collective::kNone;
  Group group = Group::kNone;
  int64_t bytes = 0;  // The generator's communication size.
};

struct LayerPlan {
  int data_ways = 1;   // D
  int model_ways = 1;  // T
  Pass forward;        // Y = X · W, all-gathered across the model group.
  Pass input_grad;     // dX = dY · Wᵀ, reduce-scattered across the model group.
  Pass weight_grad;    // dW = Xᵀ · dY, all-reduced across the data group.
};

// Refuses a shard that does not divide its dimension (the generator floors;
// real shards must tile the GEMM), naming the layer, dimension and ways.
StatusOr<LayerPlan> PlanLayer(const GemmLayer& layer, int num_npus, int num_packages, int datatype_size);

// A rank's place: its data shard and model shard, and the colour of each group.
struct RankPlace {
  int data_shard = 0;
  int model_shard = 0;
};
RankPlace PlaceOf(std::string_view strategy, int rank, int num_npus, int num_packages);

// nccl-tests' bus bandwidth: what each link carried, comparable across group
// sizes. `bytes` is the generator's size (a gather's per-rank piece).
double BusBandwidthGbps(Collective collective, int64_t bytes, int group_size, double seconds);

}  // namespace gauntlet::gemm
