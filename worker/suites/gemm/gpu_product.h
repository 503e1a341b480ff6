// A shard GEMM on the rank's GPU through the worker's own GEMM kernels
// (bf16 or fp16 in, fp32 out), its operands kept on the device across the
// timed repeats. A build without GPU kernels refuses backend gpu.
#pragma once

#include <memory>
#include <vector>

namespace gauntlet::worker::gemm {

class GpuProduct {
 public:
  virtual ~GpuProduct() = default;
  // y[m, n] = x[m, k] · w[n, k]ᵀ, both rounded to the 2-byte type.
  virtual void Load(const std::vector<float>& x, const std::vector<float>& w, int m, int n, int k) = 0;
  virtual double RunMs() = 0;             // One launch, timed on the device.
  virtual std::vector<float> Result() = 0;  // The last run's y, split-K slices summed.
};

// Throws BadParams when this worker has no GPU kernels or the rank no GPU.
std::unique_ptr<GpuProduct> OpenGpuProduct(int rank, int device, bool fp16);

}  // namespace gauntlet::worker::gemm
