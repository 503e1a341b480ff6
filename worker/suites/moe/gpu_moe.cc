#include "worker/suites/moe/gpu_moe.h"

#include <string>

#include "worker/backend/gpu_vendor.h"
#include "worker/kernels/gpu/gemm.h"
#include "worker/kernels/gpu/llama_kernels.h"
#include "worker/kernels/gpu/moe_kernels.h"
#include "worker/model/dtype.h"
#include "worker/suites/gpu_device.h"
#include "worker/suites/suite.h"

namespace gauntlet::worker::moe {
namespace {


template <typename T>
T* Allocate(size_t count) {
  void* pointer = nullptr;
  CheckGpu(gpuMalloc(&pointer, sizeof(T) * (count == 0 ? 1 : count)), "gpuMalloc");
  return static_cast<T*>(pointer);
}

class DeviceMoe : public GpuMoe {
 public:
  explicit DeviceMoe(int ordinal) : device_(ordinal) {}
  ~DeviceMoe() override { Free(); }

  void Load(const std::vector<float>& x, const MoeWeights& weights, const Routing& routing,
            const MoeShape& shape) override {
    Free();
    shape_ = shape;
    w1_ = UploadBf16(weights.w1);
    w2_ = UploadBf16(weights.w2);
    x_ = UploadBf16(x);
    // Per expert, its tokens and their weights, in token order (vLLM's
    // naive path indexes the same way).
    std::vector<std::vector<int32_t>> rows(static_cast<size_t>(shape.experts));
    std::vector<std::vector<float>> gates(static_cast<size_t>(shape.experts));
    for (int t = 0; t < shape.tokens; ++t) {
      for (int s = 0; s < shape.topk; ++s) {
        const size_t at = static_cast<size_t>(t) * shape.topk + s;
        rows[static_cast<size_t>(routing.experts[at])].push_back(t);
        gates[static_cast<size_t>(routing.experts[at])].push_back(routing.weights[at]);
      }
    }
    std::vector<int32_t> all_rows;
    std::vector<float> all_gates;
    size_t largest_slices = 0, largest_rows = 0;
    experts_.clear();
    for (int e = 0; e < shape.experts; ++e) {
      const auto& mine = rows[static_cast<size_t>(e)];
      if (mine.empty()) continue;
      const int m = static_cast<int>(mine.size());
      Expert expert{e, m, all_rows.size(), gpu::PlanGemm(m, 2 * shape.inter, shape.hidden, device_.target()),
                    gpu::PlanGemm(m, shape.hidden, shape.inter, device_.target())};
      largest_slices = std::max({largest_slices, static_cast<size_t>(expert.gate_up.splits) * m * 2 * shape.inter,
                                 static_cast<size_t>(expert.down.splits) * m * shape.hidden});
      largest_rows = std::max(largest_rows, mine.size());
      all_rows.insert(all_rows.end(), mine.begin(), mine.end());
      all_gates.insert(all_gates.end(), gates[static_cast<size_t>(e)].begin(), gates[static_cast<size_t>(e)].end());
      experts_.push_back(expert);
    }
    routing_ = routing;
    aligned_block_m_ = 0;
    route_weights_ = Allocate<float>(routing.weights.size());
    CheckGpu(gpuMemcpy(route_weights_, routing.weights.data(), sizeof(float) * routing.weights.size(), gpuMemcpyHostToDevice),
          "gpuMemcpy");
    const size_t slot_count = static_cast<size_t>(shape.tokens) * shape.topk;
    slot_activation_ = Allocate<uint16_t>(slot_count * shape.inter);
    slot_out_ = Allocate<float>(slot_count * shape.hidden);
    rows_ = Allocate<int32_t>(all_rows.size());
    gates_ = Allocate<float>(all_gates.size());
    CheckGpu(gpuMemcpy(rows_, all_rows.data(), sizeof(int32_t) * all_rows.size(), gpuMemcpyHostToDevice), "gpuMemcpy");
    CheckGpu(gpuMemcpy(gates_, all_gates.data(), sizeof(float) * all_gates.size(), gpuMemcpyHostToDevice), "gpuMemcpy");
    gathered_ = Allocate<uint16_t>(largest_rows * shape.hidden);
    activation_ = Allocate<uint16_t>(largest_rows * shape.inter);
    slices_ = Allocate<float>(largest_slices);
    y_ = Allocate<float>(static_cast<size_t>(shape.tokens) * shape.hidden);
  }

  double RunNaiveMs() override {
    const MoeShape& s = shape_;
    const size_t w1_expert = static_cast<size_t>(2) * s.inter * s.hidden, w2_expert = static_cast<size_t>(s.hidden) * s.inter;
    gpuStream_t stream = device_.stream();
    device_.Start();
    CheckGpu(gpuMemsetAsync(y_, 0, sizeof(float) * s.tokens * s.hidden, stream), "gpuMemsetAsync");
    for (const Expert& expert : experts_) {
      const int32_t* rows = rows_ + expert.first;
      CheckGpu(gpu::GatherRows(gpu::Elem::kBF16, x_, rows, expert.rows, s.hidden, gathered_, stream), "GatherRows");
      CheckGpu(gpu::LaunchGemm({gathered_, w1_ + expert.id * w1_expert, slices_, expert.rows, 2 * s.inter, s.hidden,
                             gpu::Elem::kBF16},
                            expert.gate_up, stream),
            "gate/up GEMM");
      CheckGpu(gpu::SwiGlu(gpu::Elem::kBF16, slices_, expert.gate_up.splits, expert.rows, s.inter, activation_, stream),
            "SwiGlu");
      CheckGpu(gpu::LaunchGemm({activation_, w2_ + expert.id * w2_expert, slices_, expert.rows, s.hidden, s.inter,
                             gpu::Elem::kBF16},
                            expert.down, stream),
            "down GEMM");
      CheckGpu(gpu::ScatterAddWeighted(slices_, expert.down.splits, expert.rows, s.hidden, rows, gates_ + expert.first, y_,
                                    stream),
            "ScatterAddWeighted");
    }
    return device_.StopMs("the naive MoE");
  }

  double RunFusedMs(int block_m) override {
    const MoeShape& s = shape_;
    if (block_m != aligned_block_m_) {
      const Alignment alignment = AlignByExpert(routing_, s.tokens, s.experts, block_m);
      for (void* pointer : {static_cast<void*>(aligned_slots_), static_cast<void*>(aligned_experts_)}) {
        if (pointer) gpuFree(pointer);
      }
      aligned_slots_ = Allocate<int32_t>(alignment.sorted_slots.size());
      aligned_experts_ = Allocate<int32_t>(alignment.block_experts.size());
      CheckGpu(gpuMemcpy(aligned_slots_, alignment.sorted_slots.data(), sizeof(int32_t) * alignment.sorted_slots.size(),
                      gpuMemcpyHostToDevice),
            "gpuMemcpy");
      CheckGpu(gpuMemcpy(aligned_experts_, alignment.block_experts.data(),
                      sizeof(int32_t) * alignment.block_experts.size(), gpuMemcpyHostToDevice),
            "gpuMemcpy");
      aligned_blocks_ = static_cast<int>(alignment.block_experts.size());
      aligned_block_m_ = block_m;
    }
    const gpu::FusedMoeArgs args{x_, w1_, w2_, aligned_slots_, aligned_experts_, aligned_blocks_, block_m,
                                 s.tokens * s.topk, s.topk, s.inter, s.hidden, slot_activation_, slot_out_};
    gpuStream_t stream = device_.stream();
    device_.Start();
    CheckGpu(gpu::FusedMoeGateUp(args, stream), "FusedMoeGateUp");
    CheckGpu(gpu::FusedMoeDown(args, stream), "FusedMoeDown");
    CheckGpu(gpu::CombineSlots(slot_out_, route_weights_, s.tokens, s.topk, s.hidden, y_, stream), "CombineSlots");
    return device_.StopMs("the fused MoE");
  }

  std::vector<float> Result() override {
    std::vector<float> y(static_cast<size_t>(shape_.tokens) * shape_.hidden);
    CheckGpu(gpuMemcpy(y.data(), y_, sizeof(float) * y.size(), gpuMemcpyDeviceToHost), "gpuMemcpy");
    return y;
  }

 private:
  struct Expert {
    int id, rows;
    size_t first;  // Its tokens in rows_/gates_.
    gpu::GemmPlan gate_up, down;
  };

  uint16_t* UploadBf16(const std::vector<float>& values) {
    std::vector<uint16_t> half(values.size());
    for (size_t i = 0; i < values.size(); ++i) half[i] = F32ToBF16(values[i]);
    uint16_t* device = Allocate<uint16_t>(half.size());
    CheckGpu(gpuMemcpy(device, half.data(), sizeof(uint16_t) * half.size(), gpuMemcpyHostToDevice), "gpuMemcpy");
    return device;
  }

  void Free() {
    for (void* pointer : {static_cast<void*>(w1_), static_cast<void*>(w2_), static_cast<void*>(x_),
                          static_cast<void*>(rows_), static_cast<void*>(gates_), static_cast<void*>(gathered_),
                          static_cast<void*>(activation_), static_cast<void*>(slices_), static_cast<void*>(y_),
                          static_cast<void*>(route_weights_), static_cast<void*>(slot_activation_),
                          static_cast<void*>(slot_out_), static_cast<void*>(aligned_slots_),
                          static_cast<void*>(aligned_experts_)}) {
      if (pointer) gpuFree(pointer);
    }
    w1_ = w2_ = x_ = gathered_ = activation_ = slot_activation_ = nullptr;
    rows_ = aligned_slots_ = aligned_experts_ = nullptr;
    gates_ = slices_ = y_ = route_weights_ = slot_out_ = nullptr;
    aligned_block_m_ = 0;
  }

  TimedStream device_;
  MoeShape shape_;
  std::vector<Expert> experts_;
  uint16_t *w1_ = nullptr, *w2_ = nullptr, *x_ = nullptr, *gathered_ = nullptr, *activation_ = nullptr;
  int32_t* rows_ = nullptr;
  float *gates_ = nullptr, *slices_ = nullptr, *y_ = nullptr;
  // The fused method's: routing weights per slot, per-slot buffers, the alignment.
  Routing routing_;
  float *route_weights_ = nullptr, *slot_out_ = nullptr;
  uint16_t* slot_activation_ = nullptr;
  int32_t *aligned_slots_ = nullptr, *aligned_experts_ = nullptr;
  int aligned_blocks_ = 0, aligned_block_m_ = 0;
};

}  // namespace

std::string GpuName(int rank, int device) {
  gpuDeviceProp_t properties{};
  CheckGpu(gpuGetDeviceProperties(&properties, RankGpuOrdinal(rank, device)), "gpuGetDeviceProperties");
  return properties.name;
}

std::unique_ptr<GpuMoe> OpenGpuMoe(int rank, int device) {
  const int ordinal = RankGpuOrdinal(rank, device);
  return std::make_unique<DeviceMoe>(ordinal);
}

}  // namespace gauntlet::worker::moe
