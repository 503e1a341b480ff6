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

void Check(gpuError_t error, const char* what) {
  if (error != gpuSuccess) throw RunnerFailed(std::string(what) + ": " + gpuGetErrorString(error));
}

template <typename T>
T* Allocate(size_t count) {
  void* pointer = nullptr;
  Check(gpuMalloc(&pointer, sizeof(T) * (count == 0 ? 1 : count)), "gpuMalloc");
  return static_cast<T*>(pointer);
}

class DeviceMoe : public GpuMoe {
 public:
  explicit DeviceMoe(int ordinal) {
    Check(gpuSetDevice(ordinal), "gpuSetDevice");
    Check(gpu::QueryGemmTarget(ordinal, &target_), "QueryGemmTarget");
    Check(gpuStreamCreate(&stream_), "gpuStreamCreate");
    Check(gpuEventCreate(&start_), "gpuEventCreate");
    Check(gpuEventCreate(&stop_), "gpuEventCreate");
  }
  ~DeviceMoe() override {
    Free();
    gpuEventDestroy(start_);
    gpuEventDestroy(stop_);
    gpuStreamDestroy(stream_);
  }

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
      Expert expert{e, m, all_rows.size(), gpu::PlanGemm(m, 2 * shape.inter, shape.hidden, target_),
                    gpu::PlanGemm(m, shape.hidden, shape.inter, target_)};
      largest_slices = std::max({largest_slices, static_cast<size_t>(expert.gate_up.splits) * m * 2 * shape.inter,
                                 static_cast<size_t>(expert.down.splits) * m * shape.hidden});
      largest_rows = std::max(largest_rows, mine.size());
      all_rows.insert(all_rows.end(), mine.begin(), mine.end());
      all_gates.insert(all_gates.end(), gates[static_cast<size_t>(e)].begin(), gates[static_cast<size_t>(e)].end());
      experts_.push_back(expert);
    }
    rows_ = Allocate<int32_t>(all_rows.size());
    gates_ = Allocate<float>(all_gates.size());
    Check(gpuMemcpy(rows_, all_rows.data(), sizeof(int32_t) * all_rows.size(), gpuMemcpyHostToDevice), "gpuMemcpy");
    Check(gpuMemcpy(gates_, all_gates.data(), sizeof(float) * all_gates.size(), gpuMemcpyHostToDevice), "gpuMemcpy");
    gathered_ = Allocate<uint16_t>(largest_rows * shape.hidden);
    activation_ = Allocate<uint16_t>(largest_rows * shape.inter);
    slices_ = Allocate<float>(largest_slices);
    y_ = Allocate<float>(static_cast<size_t>(shape.tokens) * shape.hidden);
  }

  double RunNaiveMs() override {
    const MoeShape& s = shape_;
    const size_t w1_expert = static_cast<size_t>(2) * s.inter * s.hidden, w2_expert = static_cast<size_t>(s.hidden) * s.inter;
    Check(gpuEventRecord(start_, stream_), "gpuEventRecord");
    Check(gpuMemsetAsync(y_, 0, sizeof(float) * s.tokens * s.hidden, stream_), "gpuMemsetAsync");
    for (const Expert& expert : experts_) {
      const int32_t* rows = rows_ + expert.first;
      Check(gpu::GatherRows(gpu::Elem::kBF16, x_, rows, expert.rows, s.hidden, gathered_, stream_), "GatherRows");
      Check(gpu::LaunchGemm({gathered_, w1_ + expert.id * w1_expert, slices_, expert.rows, 2 * s.inter, s.hidden,
                             gpu::Elem::kBF16},
                            expert.gate_up, stream_),
            "gate/up GEMM");
      Check(gpu::SwiGlu(gpu::Elem::kBF16, slices_, expert.gate_up.splits, expert.rows, s.inter, activation_, stream_),
            "SwiGlu");
      Check(gpu::LaunchGemm({activation_, w2_ + expert.id * w2_expert, slices_, expert.rows, s.hidden, s.inter,
                             gpu::Elem::kBF16},
                            expert.down, stream_),
            "down GEMM");
      Check(gpu::ScatterAddWeighted(slices_, expert.down.splits, expert.rows, s.hidden, rows, gates_ + expert.first, y_,
                                    stream_),
            "ScatterAddWeighted");
    }
    Check(gpuEventRecord(stop_, stream_), "gpuEventRecord");
    Check(gpuEventSynchronize(stop_), "the naive MoE");
    float ms = 0;
    Check(gpuEventElapsedTime(&ms, start_, stop_), "gpuEventElapsedTime");
    return ms;
  }

  std::vector<float> Result() override {
    std::vector<float> y(static_cast<size_t>(shape_.tokens) * shape_.hidden);
    Check(gpuMemcpy(y.data(), y_, sizeof(float) * y.size(), gpuMemcpyDeviceToHost), "gpuMemcpy");
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
    Check(gpuMemcpy(device, half.data(), sizeof(uint16_t) * half.size(), gpuMemcpyHostToDevice), "gpuMemcpy");
    return device;
  }

  void Free() {
    for (void* pointer : {static_cast<void*>(w1_), static_cast<void*>(w2_), static_cast<void*>(x_),
                          static_cast<void*>(rows_), static_cast<void*>(gates_), static_cast<void*>(gathered_),
                          static_cast<void*>(activation_), static_cast<void*>(slices_), static_cast<void*>(y_)}) {
      if (pointer) gpuFree(pointer);
    }
    w1_ = w2_ = x_ = gathered_ = activation_ = nullptr;
    rows_ = nullptr;
    gates_ = slices_ = y_ = nullptr;
  }

  gpu::GemmTarget target_{};
  gpuStream_t stream_{};
  gpuEvent_t start_{}, stop_{};
  MoeShape shape_;
  std::vector<Expert> experts_;
  uint16_t *w1_ = nullptr, *w2_ = nullptr, *x_ = nullptr, *gathered_ = nullptr, *activation_ = nullptr;
  int32_t* rows_ = nullptr;
  float *gates_ = nullptr, *slices_ = nullptr, *y_ = nullptr;
};

}  // namespace

std::unique_ptr<GpuMoe> OpenGpuMoe(int rank, int device) {
  const int ordinal = RankGpuOrdinal(rank, device);
  return std::make_unique<DeviceMoe>(ordinal);
}

}  // namespace gauntlet::worker::moe
