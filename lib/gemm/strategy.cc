#include "lib/gemm/strategy.h"

#include <cassert>
#include <cstdint>

namespace gauntlet::gemm {
namespace {

struct Ways {
  int data = 1, model = 1;
};

Ways WaysOf(std::string_view strategy, int npus, int packages) {
  const int per_package = npus / packages;
  if (strategy == kData) return {npus, 1};
  if (strategy == kModel) return {1, npus};
  if (strategy == kHybridDataModel) return {packages, per_package};
  assert(strategy == kHybridModelData);
  return {per_package, packages};
}

}  // namespace

std::string_view CollectiveName(Collective collective) {
  switch (collective) {
    case Collective::kNone: return "NONE";
    case Collective::kAllReduce: return "ALLREDUCE";
    case Collective::kAllGather: return "ALLGATHER";
    case Collective::kReduceScatter: return "REDUCESCATTER";
  }
  return "NONE";
}

StatusOr<LayerPlan> PlanLayer(const GemmLayer& layer, int num_npus, int num_packages, int datatype_size) {
  if (num_npus < 1 || num_packages < 1 || num_npus % num_packages != 0) {
    return Err(Status::InvalidArgument("num_npus " + std::to_string(num_npus) + " must be a multiple of num_packages " +
                                       std::to_string(num_packages)));
  }
  const std::string& strategy = layer.parallelism;
  const Ways ways = WaysOf(strategy, num_npus, num_packages);
  struct Split {
    int64_t size;
    int count;
    const char* name;
    const char* axis;
  };
  for (const Split& split : {Split{layer.m, ways.data, "m", "data"}, Split{layer.n, ways.model, "n", "model"}}) {
    const auto& [size, count, name, axis] = split;
    if (size % count != 0) {
      return Err(Status::InvalidArgument("layer " + layer.name + " (line " + std::to_string(layer.line) + "): " + name +
                                         " = " + std::to_string(size) + " does not split " + std::to_string(count) +
                                         " ways (" + axis + " parallel under " + strategy + " on " +
                                         std::to_string(num_npus) + " NPUs in " + std::to_string(num_packages) +
                                         " packages); choose sizes that divide, as real shards must"));
    }
  }
  const int64_t rows = layer.m / ways.data;
  const int64_t cols = layer.n / ways.model;
  if ((rows * layer.k) % ways.model != 0) {
    return Err(Status::InvalidArgument("layer " + layer.name + ": the input gradient (" + std::to_string(rows) + " x " +
                                       std::to_string(layer.k) + ") does not reduce-scatter " +
                                       std::to_string(ways.model) + " ways"));
  }
  const int64_t ds = datatype_size;
  LayerPlan plan;
  plan.data_ways = ways.data;
  plan.model_ways = ways.model;
  // The generator's topology: SCALE-Sim's (ifmap height, ifmap width =
  // filter width, filters) become the shard GEMM's (rows, inner, cols).
  plan.forward = {rows, layer.k, cols, Collective::kNone, Group::kNone, 0};
  plan.input_grad = {rows, cols, layer.k, Collective::kNone, Group::kNone, 0};
  plan.weight_grad = {layer.k, rows, cols, Collective::kNone, Group::kNone, 0};
  const int64_t npus = num_npus, packages = num_packages, per_package = num_npus / num_packages;
  if (strategy == kData) {
    plan.weight_grad.collective = Collective::kAllReduce;
    plan.weight_grad.bytes = layer.n * layer.k * ds;
  } else {
    plan.forward.collective = Collective::kAllGather;
    plan.input_grad.collective = Collective::kReduceScatter;
    plan.forward.bytes = layer.m * layer.n * ds / npus;
    if (strategy == kModel) {
      plan.input_grad.bytes = layer.m * layer.k * ds;
    } else {
      plan.weight_grad.collective = Collective::kAllReduce;
      const bool data_model = strategy == kHybridDataModel;
      plan.input_grad.bytes = layer.m * layer.k * ds / (data_model ? packages : per_package);
      plan.weight_grad.bytes = layer.k * layer.n * ds / (data_model ? per_package : packages);
    }
  }
  for (Pass* pass : {&plan.forward, &plan.input_grad}) {
    if (pass->collective != Collective::kNone) pass->group = Group::kModel;
  }
  if (plan.weight_grad.collective != Collective::kNone) plan.weight_grad.group = Group::kData;
  return plan;
}

RankPlace PlaceOf(std::string_view strategy, int rank, int num_npus, int num_packages) {
  const int per_package = num_npus / num_packages;
  const int package = rank / per_package, local = rank % per_package;
  if (strategy == kData) return {rank, 0};
  if (strategy == kModel) return {0, rank};
  if (strategy == kHybridDataModel) return {package, local};
  return {local, package};
}

double BusBandwidthGbps(Collective collective, int64_t bytes, int group_size, double seconds) {
  if (seconds <= 0 || group_size < 2) return 0;
  const double n = group_size;
  double moved = static_cast<double>(bytes);
  double factor = 0;
  switch (collective) {
    case Collective::kAllReduce: factor = 2 * (n - 1) / n; break;
    case Collective::kAllGather: moved *= n, factor = (n - 1) / n; break;  // The gathered whole.
    case Collective::kReduceScatter: factor = (n - 1) / n; break;
    case Collective::kNone: return 0;
  }
  return moved / seconds * factor / 1e9;
}

}  // namespace gauntlet::gemm
