// The moe suite's GPU methods on the rank's GPU, through the worker's own
// kernels: `naive` is what a plain PyTorch MoE does — per expert, gather its
// tokens, a gate/up GEMM, SwiGLU, a down GEMM, and a weighted scatter-add.
// A build without GPU kernels refuses backend gpu.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "worker/suites/moe/moe_layer.h"

namespace gauntlet::worker::moe {

class GpuMoe {
 public:
  virtual ~GpuMoe() = default;
  // Uploads the layer (weights and inputs as bf16) and its routing.
  virtual void Load(const std::vector<float>& x, const MoeWeights& weights, const Routing& routing,
                    const MoeShape& shape) = 0;
  virtual double RunNaiveMs() = 0;          // One forward, timed on the device.
  // The fused method: the tokens aligned by expert into blocks of block_m
  // (on the host, outside the timing, as the routing), then one grouped
  // kernel for gate/up with SwiGLU, one for down, and the weighted combine.
  virtual double RunFusedMs(int block_m) = 0;
  virtual std::vector<float> Result() = 0;  // The last forward's y [tokens, hidden].
};

// Throws BadParams when this worker has no GPU kernels or the rank no GPU.
std::unique_ptr<GpuMoe> OpenGpuMoe(int rank, int device);
// The rank's GPU as vLLM names it in config files ("NVIDIA H200").
std::string GpuName(int rank, int device);

}  // namespace gauntlet::worker::moe
