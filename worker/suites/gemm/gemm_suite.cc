// kernel.gemm: a model's GEMM layers (ASTRA-Sim's mnk CSV) run under a
// parallel strategy for real, one rank per device: every rank computes its
// shard of each layer's forward and both backward GEMMs and the strategy's
// collectives run over MPI, within or across packages. The result is checked
// against the unsharded GEMM, then timed, and written as ASTRA-Sim's workload
// file with measured cycles (docs/gemm-strategies.md).
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>

#include <spdlog/spdlog.h>

#include "lib/gemm/mnk.h"
#include "lib/gemm/strategy.h"
#include "lib/gemm/workload.h"
#include "worker/kernels/cpu_kernels.h"
#include "worker/suites/gemm/gpu_product.h"
#include "worker/suites/gemm/shards.h"
#include "worker/suites/llm_io.h"
#include "worker/suites/suite.h"

namespace gauntlet::worker {
namespace {

using gauntlet::gemm::Collective;
using gauntlet::gemm::GemmLayer;
using gauntlet::gemm::LayerPlan;
using gauntlet::gemm::Pass;
using gemm::Block;
using gemm::Matrix;
using nlohmann::json;

constexpr const char* kPassNames[] = {"fwd", "input_grad", "weight_grad"};
constexpr double kCheckTolerance = 1e-4;  // fp32 sums in another order stay near 1e-6.
// Operands rounded to bf16 (8 significant bits) move a product by ~1e-3 of
// its largest value; a wrong shard moves it by ~1.
constexpr double kGpuCheckTolerance = 2e-2;

struct Options {
  std::string strategy, csv, source;
  int npus = 1, packages = 1, datatype_size = 2, repeats = 5, warmup = 1;
  double clock_ghz = 1.0;
  uint64_t seed = 1;
  // "shard": each rank takes its neighbour's operands, as a sharding bug
  // would; proves the check against the unsharded GEMM can fail.
  std::string fault;
};

int IntParam(const json& params, const char* name, int fallback, int min, int max) {
  auto found = params.find(name);
  if (found == params.end()) return fallback;
  if (!found->is_number_integer() || found->get<int64_t>() < min || found->get<int64_t>() > max) {
    throw BadParams(std::string("params.") + name + ": " + found->dump() + " must be an integer from " +
                    std::to_string(min) + " to " + std::to_string(max));
  }
  return found->get<int>();
}

Options ReadOptions(const SuiteContext& ctx) {
  const json& params = ctx.params;
  Options options;
  options.strategy = params.value("parallel", "");
  options.csv = params.value("mnk_csv", "");
  options.source = params.value("mnk", "mnk.csv");
  if (options.csv.empty()) throw BadParams("params.mnk: no CSV given; name the mnk file (Layer,m,n,k)");
  options.npus = IntParam(params, "num_npus", ctx.size, 1, 65536);
  options.packages = IntParam(params, "num_packages", 1, 1, 65536);
  options.datatype_size = IntParam(params, "datatype_size", 2, 1, 8);
  options.repeats = IntParam(params, "repeats", 5, 1, 10000);
  options.warmup = IntParam(params, "warmup", 1, 0, 1000);
  options.seed = static_cast<uint64_t>(IntParam(params, "seed", 1, 0, 1 << 30));
  options.fault = params.value("fault", "");
  if (!options.fault.empty() && options.fault != "shard") throw BadParams("params.fault: '" + options.fault + "' must be shard");
  if (auto clock = params.find("clock_ghz"); clock != params.end()) {
    if (!clock->is_number() || clock->get<double>() <= 0) throw BadParams("params.clock_ghz must be a positive number");
    options.clock_ghz = clock->get<double>();
  }
  if (options.npus != ctx.size) {
    throw BadParams("params.num_npus is " + std::to_string(options.npus) + " but the job has " +
                    std::to_string(ctx.size) + " ranks; give the job num_npus devices");
  }
  return options;
}

MPI_Datatype WireType(int datatype_size) {
  switch (datatype_size) {
    case 1: return MPI_UINT8_T;
    case 2: return MPI_UINT16_T;
    case 4: return MPI_FLOAT;
    case 8: return MPI_DOUBLE;
  }
  throw BadParams("params.datatype_size: " + std::to_string(datatype_size) + " must be 1, 2, 4 or 8 bytes");
}

// The model and data groups of a strategy, split once.
struct Groups {
  MPI_Comm model = MPI_COMM_NULL, data = MPI_COMM_NULL;
  int model_rank = 0;
};

class GroupCache {
 public:
  GroupCache(const SuiteContext& ctx, const Options& options) : ctx_(ctx), options_(options) {}
  ~GroupCache() {
    for (auto& [name, groups] : groups_) {
      MPI_Comm_free(&groups.model);
      MPI_Comm_free(&groups.data);
    }
  }
  const Groups& For(const std::string& strategy) {
    auto found = groups_.find(strategy);
    if (found != groups_.end()) return found->second;
    const auto place = gauntlet::gemm::PlaceOf(strategy, ctx_.rank, options_.npus, options_.packages);
    Groups groups;
    // Ordered by the other shard, so a group's rank is that shard's index.
    MPI_Comm_split(ctx_.comm, place.data_shard, place.model_shard, &groups.model);
    MPI_Comm_split(ctx_.comm, place.model_shard, place.data_shard, &groups.data);
    MPI_Comm_rank(groups.model, &groups.model_rank);
    return groups_.emplace(strategy, groups).first->second;
  }

 private:
  const SuiteContext& ctx_;
  const Options& options_;
  std::map<std::string, Groups> groups_;
};

// This rank's operands of one layer, in the layouts MatMulTransposed takes.
struct Operands {
  std::vector<float> x, x_t, w_t, w_kc, dy, dy_t;
};

struct Shard {
  int64_t row0, rows, col0, cols;
};

Operands MakeOperands(const Options& options, int layer_index, const GemmLayer& layer, const Shard& s) {
  const uint64_t seed = options.seed;
  Operands o;
  o.x = Block(seed, layer_index, Matrix::kX, s.row0, s.rows, 0, layer.k);
  o.x_t = Block(seed, layer_index, Matrix::kX, s.row0, s.rows, 0, layer.k, true);
  o.w_t = Block(seed, layer_index, Matrix::kW, 0, layer.k, s.col0, s.cols, true);
  o.w_kc = Block(seed, layer_index, Matrix::kW, 0, layer.k, s.col0, s.cols);
  o.dy = Block(seed, layer_index, Matrix::kGradY, s.row0, s.rows, s.col0, s.cols);
  o.dy_t = Block(seed, layer_index, Matrix::kGradY, s.row0, s.rows, s.col0, s.cols, true);
  return o;
}

// The pass's shard GEMM as y[m, n] = x[m, k] · w[n, k]ᵀ: its operands in
// the layout both engines take, and its size.
struct Product {
  const std::vector<float>* x;
  const std::vector<float>* w;
  int m, n, k;
};

Product ProductOf(int pass, const Operands& o, const GemmLayer& layer, const Shard& s) {
  const int rows = static_cast<int>(s.rows), cols = static_cast<int>(s.cols), k = static_cast<int>(layer.k);
  switch (pass) {
    case 0: return {&o.x, &o.w_t, rows, cols, k};      // Y[rows, cols] = X[rows, k] · W[k, cols]
    case 1: return {&o.dy, &o.w_kc, rows, k, cols};    // dX[rows, k] = dY · Wᵀ, partial over model shards
    default: return {&o.x_t, &o.dy_t, k, cols, rows};  // dW[k, cols] = Xᵀ · dY, partial over data shards
  }
}

std::vector<float> OnCpu(const Product& p) {
  std::vector<float> out(static_cast<size_t>(p.m) * p.n);
  cpu::MatMulTransposed(p.x->data(), p.w->data(), out.data(), p.m, p.n, p.k);
  return out;
}

// What the unsharded layer gives for the part of the pass this rank holds
// after its collective.
std::vector<float> Reference(int pass, const Options& options, int layer_index, const GemmLayer& layer, const Shard& s,
                             const LayerPlan& plan, int model_rank) {
  const uint64_t seed = options.seed;
  const int m = static_cast<int>(layer.m), n = static_cast<int>(layer.n), k = static_cast<int>(layer.k);
  const int rows = static_cast<int>(s.rows), cols = static_cast<int>(s.cols);
  std::vector<float> out;
  if (pass == 0) {  // Y[rows, :]: every column, once gathered.
    auto x = Block(seed, layer_index, Matrix::kX, s.row0, s.rows, 0, k);
    auto w_t = Block(seed, layer_index, Matrix::kW, 0, k, 0, n, true);
    out.resize(static_cast<size_t>(rows) * n);
    cpu::MatMulTransposed(x.data(), w_t.data(), out.data(), rows, n, k);
  } else if (pass == 1) {  // dX[rows, :], then this rank's flat chunk of it.
    auto dy = Block(seed, layer_index, Matrix::kGradY, s.row0, s.rows, 0, n);
    auto w = Block(seed, layer_index, Matrix::kW, 0, k, 0, n);
    std::vector<float> full(static_cast<size_t>(rows) * k);
    cpu::MatMulTransposed(dy.data(), w.data(), full.data(), rows, k, n);
    const size_t chunk = full.size() / static_cast<size_t>(plan.model_ways);
    out.assign(full.begin() + static_cast<std::ptrdiff_t>(chunk * model_rank),
               full.begin() + static_cast<std::ptrdiff_t>(chunk * (model_rank + 1)));
  } else {  // dW[:, cols] over every row of the minibatch.
    auto x_t = Block(seed, layer_index, Matrix::kX, 0, m, 0, k, true);
    auto dy_t = Block(seed, layer_index, Matrix::kGradY, 0, m, s.col0, s.cols, true);
    out.resize(static_cast<size_t>(k) * cols);
    cpu::MatMulTransposed(x_t.data(), dy_t.data(), out.data(), k, cols, m);
  }
  return out;
}

MPI_Comm GroupOf(const Pass& pass, const Groups& groups) {
  return pass.group == gauntlet::gemm::Group::kModel ? groups.model : groups.data;
}

int SizeOf(MPI_Comm comm) {
  int size = 1;
  MPI_Comm_size(comm, &size);
  return size;
}

// The collective on the pass's real fp32 result, for the numerics check.
std::vector<float> Combine(const Pass& pass, std::vector<float> local, const Groups& groups, const Shard& s) {
  if (pass.collective == Collective::kNone) return local;
  MPI_Comm comm = GroupOf(pass, groups);
  const int size = SizeOf(comm);
  if (pass.collective == Collective::kAllReduce) {
    MPI_Allreduce(MPI_IN_PLACE, local.data(), static_cast<int>(local.size()), MPI_FLOAT, MPI_SUM, comm);
    return local;
  }
  if (pass.collective == Collective::kReduceScatter) {
    std::vector<float> chunk(local.size() / static_cast<size_t>(size));
    MPI_Reduce_scatter_block(local.data(), chunk.data(), static_cast<int>(chunk.size()), MPI_FLOAT, MPI_SUM, comm);
    return chunk;
  }
  // All-gather of column blocks: piece t holds columns [t·cols, (t+1)·cols).
  std::vector<float> gathered(local.size() * static_cast<size_t>(size));
  MPI_Allgather(local.data(), static_cast<int>(local.size()), MPI_FLOAT, gathered.data(), static_cast<int>(local.size()),
                MPI_FLOAT, comm);
  std::vector<float> rows(gathered.size());
  const int64_t width = s.cols * size;
  for (int t = 0; t < size; ++t) {
    for (int64_t r = 0; r < s.rows; ++r) {
      std::copy_n(gathered.begin() + static_cast<std::ptrdiff_t>((t * s.rows + r) * s.cols), s.cols,
                  rows.begin() + static_cast<std::ptrdiff_t>(r * width + t * s.cols));
    }
  }
  return rows;
}

// The collective on buffers of the generator's byte size, for the timing.
void TimedCollective(const Pass& pass, const Groups& groups, MPI_Datatype type, int datatype_size,
                     std::vector<char>* send, std::vector<char>* receive) {
  MPI_Comm comm = GroupOf(pass, groups);
  const int size = SizeOf(comm);
  const int count = static_cast<int>(pass.bytes / datatype_size);
  switch (pass.collective) {
    case Collective::kAllReduce:
      MPI_Allreduce(MPI_IN_PLACE, send->data(), count, type, MPI_SUM, comm);
      break;
    case Collective::kAllGather:
      MPI_Allgather(send->data(), count, type, receive->data(), count, type, comm);
      break;
    case Collective::kReduceScatter:
      MPI_Reduce_scatter_block(send->data(), receive->data(), count / size, type, MPI_SUM, comm);
      break;
    case Collective::kNone: break;
  }
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

struct Timing {
  std::vector<double> compute_ms, comm_ms;  // Per repeat, the slowest rank's.
};

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

}  // namespace

SuiteResult RunGemm(const SuiteContext& ctx) {
  const Options options = ReadOptions(ctx);
  auto parsed = gauntlet::gemm::ParseMnkCsv(options.csv, options.source, options.strategy);
  if (!parsed) throw BadParams(parsed.error().message());
  const std::vector<GemmLayer>& layers = *parsed;
  std::vector<LayerPlan> plans;
  for (const auto& layer : layers) {
    plans.push_back(Require(gauntlet::gemm::PlanLayer(layer, options.npus, options.packages, options.datatype_size)));
  }
  // The GPU runs the shards through the worker's own GEMM kernels in a
  // 2-byte type; the CPU in fp32, as the reference does.
  std::unique_ptr<gemm::GpuProduct> gpu;
  double tolerance = kCheckTolerance;
  if (ctx.backend == "gpu") {
    if (options.datatype_size != 2) {
      throw BadParams("params.datatype_size: the GPU backend's GEMM kernels take 2-byte types (bf16, fp16); got " +
                      std::to_string(options.datatype_size));
    }
    gpu = gemm::OpenGpuProduct(ctx.rank, ctx.device, ctx.params.value("dtype", "bf16") == "fp16");
    tolerance = kGpuCheckTolerance;
  } else if (ctx.backend != "cpu") {
    throw BadParams("backend '" + ctx.backend + "' must be cpu or gpu");
  }
  const MPI_Datatype wire = WireType(options.datatype_size);
  GroupCache group_cache(ctx, options);

  SuiteResult result;
  result.pass = true;
  std::vector<gauntlet::gemm::PassCycles> cycles;
  json rows = json::array();
  std::vector<double> total_compute(static_cast<size_t>(options.repeats), 0.0);
  std::vector<double> total_comm(static_cast<size_t>(options.repeats), 0.0);
  for (size_t i = 0; i < layers.size(); ++i) {
    const GemmLayer& layer = layers[i];
    const LayerPlan& plan = plans[i];
    const Groups& groups = group_cache.For(layer.parallelism);
    const auto place = gauntlet::gemm::PlaceOf(layer.parallelism, ctx.rank, options.npus, options.packages);
    const int64_t rows_per = layer.m / plan.data_ways, cols_per = layer.n / plan.model_ways;
    const Shard shard{place.data_shard * rows_per, rows_per, place.model_shard * cols_per, cols_per};
    Shard taken = shard;
    if (options.fault == "shard") {
      taken.row0 = (shard.row0 + rows_per) % layer.m;
      taken.col0 = (shard.col0 + cols_per) % layer.n;
    }
    const Operands operands = MakeOperands(options, static_cast<int>(i), layer, taken);
    const Pass* passes[] = {&plan.forward, &plan.input_grad, &plan.weight_grad};
    gauntlet::gemm::PassCycles layer_cycles{};
    for (int p = 0; p < 3; ++p) {
      const Pass& pass = *passes[p];
      const Product product = ProductOf(p, operands, layer, taken);
      if (gpu) gpu->Load(*product.x, *product.w, product.m, product.n, product.k);
      auto compute = [&]() {
        if (gpu) return gpu->RunMs();
        const auto started = std::chrono::steady_clock::now();
        (void)OnCpu(product);
        return Seconds(started) * 1e3;
      };
      // The sharded result against the unsharded GEMM, agreed by every rank.
      std::vector<float> local;
      if (gpu) {
        (void)gpu->RunMs();
        local = gpu->Result();
      } else {
        local = OnCpu(product);
      }
      std::vector<float> mine = Combine(pass, std::move(local), groups, shard);
      const double error =
          gemm::RelativeError(mine, Reference(p, options, static_cast<int>(i), layer, shard, plan, groups.model_rank));
      double worst = error;
      MPI_Allreduce(&error, &worst, 1, MPI_DOUBLE, MPI_MAX, ctx.comm);
      if (!(worst <= tolerance) && result.pass) {
        result.pass = false;
        result.reason = "layer " + layer.name + " " + kPassNames[p] + " under " + layer.parallelism +
                        ": the sharded result differs from the unsharded GEMM by " + std::to_string(worst) +
                        " (relative; the bound is " + std::to_string(tolerance) + ")";
      }

      const int group_size = pass.collective == Collective::kNone ? 1 : SizeOf(GroupOf(pass, groups));
      std::vector<char> send(static_cast<size_t>(pass.bytes)), receive;
      if (pass.collective == Collective::kAllGather) receive.resize(static_cast<size_t>(pass.bytes) * group_size);
      if (pass.collective == Collective::kReduceScatter) receive.resize(static_cast<size_t>(pass.bytes / group_size));
      Timing timing;
      for (int repeat = 0; repeat < options.warmup + options.repeats; ++repeat) {
        MPI_Barrier(ctx.comm);
        const double compute_ms = compute();
        MPI_Barrier(ctx.comm);
        const auto started = std::chrono::steady_clock::now();
        TimedCollective(pass, groups, wire, options.datatype_size, &send, &receive);
        const double comm_ms = Seconds(started) * 1e3;
        // The slowest rank sets the step's time.
        double local_ms[2] = {compute_ms, comm_ms}, slowest[2];
        MPI_Allreduce(local_ms, slowest, 2, MPI_DOUBLE, MPI_MAX, ctx.comm);
        if (repeat < options.warmup) continue;
        timing.compute_ms.push_back(slowest[0]);
        timing.comm_ms.push_back(slowest[1]);
        total_compute[static_cast<size_t>(repeat - options.warmup)] += slowest[0];
        total_comm[static_cast<size_t>(repeat - options.warmup)] += slowest[1];
      }
      const double compute_ms = Median(timing.compute_ms), comm_ms = Median(timing.comm_ms);
      layer_cycles[static_cast<size_t>(p)] = gauntlet::gemm::Cycles(compute_ms, options.clock_ghz);
      const double busbw = gauntlet::gemm::BusBandwidthGbps(pass.collective, pass.bytes, group_size, comm_ms / 1e3);
      const std::string prefix = layer.name + "." + kPassNames[p] + ".";
      result.metrics[prefix + "compute_ms"] = compute_ms;
      result.metrics[prefix + "comm_ms"] = comm_ms;
      if (pass.collective != Collective::kNone) result.metrics[prefix + "busbw_gbps"] = busbw;
      const double flops = 2.0 * static_cast<double>(pass.rows) * static_cast<double>(pass.inner) *
                           static_cast<double>(pass.cols);
      rows.push_back({{"layer", layer.name}, {"pass", kPassNames[p]}, {"parallelism", layer.parallelism},
                      {"m", pass.rows}, {"k", pass.inner}, {"n", pass.cols},
                      {"compute_ms_median", compute_ms},
                      {"compute_ms_min", *std::min_element(timing.compute_ms.begin(), timing.compute_ms.end())},
                      {"compute_ms_max", *std::max_element(timing.compute_ms.begin(), timing.compute_ms.end())},
                      {"gflops", compute_ms > 0 ? flops / (compute_ms * 1e6) : 0},
                      {"collective", gauntlet::gemm::CollectiveName(pass.collective)},
                      {"group_size", group_size}, {"bytes", pass.bytes}, {"comm_ms_median", comm_ms},
                      {"comm_ms_min", *std::min_element(timing.comm_ms.begin(), timing.comm_ms.end())},
                      {"comm_ms_max", *std::max_element(timing.comm_ms.begin(), timing.comm_ms.end())},
                      {"busbw_gbps", busbw}, {"relative_error", worst},
                      {"cycles", layer_cycles[static_cast<size_t>(p)]}});
    }
    cycles.push_back(layer_cycles);
  }
  result.metrics["compute_ms"] = Median(total_compute);
  result.metrics["comm_ms"] = Median(total_comm);
  const double step = result.metrics["compute_ms"] + result.metrics["comm_ms"];
  result.metrics["comm_fraction"] = step > 0 ? result.metrics["comm_ms"] / step : 0;
  result.samples["compute_ms"] = total_compute;
  result.samples["comm_ms"] = total_comm;
  result.details = {{"measurements", rows}, {"clock_ghz", options.clock_ghz}, {"num_npus", options.npus},
                    {"num_packages", options.packages}, {"datatype_size", options.datatype_size},
                    {"parallel", options.strategy}};
  if (ctx.rank == 0) {
    const std::string workload = gauntlet::gemm::WorkloadFile(options.strategy, layers, plans, cycles);
    std::ofstream(ctx.out_dir + "/workload_" + options.strategy + ".txt") << workload;
    WriteJson(ctx.out_dir + "/measurements.json", rows);
    std::ofstream csv(ctx.out_dir + "/measurements.csv");
    csv << "layer,pass,parallelism,m,k,n,compute_ms_median,compute_ms_min,compute_ms_max,gflops,collective,group_size,"
           "bytes,comm_ms_median,comm_ms_min,comm_ms_max,busbw_gbps,relative_error,cycles\n";
    for (const auto& row : rows) {
      bool first = true;
      for (const char* field : {"layer", "pass", "parallelism", "m", "k", "n", "compute_ms_median", "compute_ms_min",
                                "compute_ms_max", "gflops", "collective", "group_size", "bytes", "comm_ms_median",
                                "comm_ms_min", "comm_ms_max", "busbw_gbps", "relative_error", "cycles"}) {
        csv << (first ? "" : ",") << (row[field].is_string() ? row[field].get<std::string>() : row[field].dump());
        first = false;
      }
      csv << "\n";
    }
    spdlog::info("gemm: {} layers under {} on {} ranks in {} packages: compute {:.3f} ms, communication {:.3f} ms",
                 layers.size(), options.strategy, options.npus, options.packages, result.metrics["compute_ms"],
                 result.metrics["comm_ms"]);
  }
  return result;
}

}  // namespace gauntlet::worker
