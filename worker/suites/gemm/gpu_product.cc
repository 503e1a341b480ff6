#include "worker/suites/gemm/gpu_product.h"

#include <string>

#include "worker/backend/gpu_vendor.h"
#include "worker/kernels/gpu/gemm.h"
#include "worker/model/dtype.h"
#include "worker/suites/gpu_device.h"
#include "worker/suites/suite.h"

namespace gauntlet::worker::gemm {
namespace {


class DeviceProduct : public GpuProduct {
 public:
  DeviceProduct(int ordinal, bool fp16) : fp16_(fp16), device_(ordinal) {}
  ~DeviceProduct() override { Free(); }

  void Load(const std::vector<float>& x, const std::vector<float>& w, int m, int n, int k) override {
    Free();
    m_ = m, n_ = n, k_ = k;
    plan_ = gpu::PlanGemm(m, n, k, device_.target());
    x_ = Upload(x);
    w_ = Upload(w);
    CheckGpu(gpuMalloc(reinterpret_cast<void**>(&out_), sizeof(float) * plan_.splits * m * n), "gpuMalloc");
  }

  double RunMs() override {
    const gpu::GemmArgs args{x_, w_, out_, m_, n_, k_, fp16_ ? gpu::Elem::kF16 : gpu::Elem::kBF16};
    device_.Start();
    CheckGpu(gpu::LaunchGemm(args, plan_, device_.stream()), "LaunchGemm");
    return device_.StopMs("the GEMM");
  }

  std::vector<float> Result() override {
    std::vector<float> slices(static_cast<size_t>(plan_.splits) * m_ * n_);
    CheckGpu(gpuMemcpy(slices.data(), out_, sizeof(float) * slices.size(), gpuMemcpyDeviceToHost), "gpuMemcpy");
    std::vector<float> y(static_cast<size_t>(m_) * n_, 0.0f);
    for (int s = 0; s < plan_.splits; ++s) {
      for (size_t i = 0; i < y.size(); ++i) y[i] += slices[static_cast<size_t>(s) * y.size() + i];
    }
    return y;
  }

 private:
  void* Upload(const std::vector<float>& values) {
    std::vector<uint16_t> half(values.size());
    for (size_t i = 0; i < values.size(); ++i) half[i] = fp16_ ? F32ToF16(values[i]) : F32ToBF16(values[i]);
    void* device = nullptr;
    CheckGpu(gpuMalloc(&device, sizeof(uint16_t) * half.size()), "gpuMalloc");
    CheckGpu(gpuMemcpy(device, half.data(), sizeof(uint16_t) * half.size(), gpuMemcpyHostToDevice), "gpuMemcpy");
    return device;
  }
  void Free() {
    for (void* pointer : {x_, w_, static_cast<void*>(out_)}) {
      if (pointer) gpuFree(pointer);
    }
    x_ = w_ = nullptr;
    out_ = nullptr;
  }

  bool fp16_;
  TimedStream device_;
  gpu::GemmPlan plan_{};
  void *x_ = nullptr, *w_ = nullptr;
  float* out_ = nullptr;
  int m_ = 0, n_ = 0, k_ = 0;
};

}  // namespace

std::unique_ptr<GpuProduct> OpenGpuProduct(int rank, int device, bool fp16) {
  const int ordinal = RankGpuOrdinal(rank, device);
  return std::make_unique<DeviceProduct>(ordinal, fp16);
}

}  // namespace gauntlet::worker::gemm
