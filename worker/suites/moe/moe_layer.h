// A fused Mixture-of-Experts layer as vLLM's fused_moe computes it (seed
// 004): router logits → softmax → top-k, renormalised; per chosen expert a
// gate/up GEMM with SiLU-and-mul and a down GEMM; the outputs combined with
// the routing weights. CPU, fp32 arithmetic over weights already rounded to
// the layer's dtype. Pure: no MPI, no files.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gauntlet::worker::moe {

struct MoeShape {
  int tokens = 1;   // input_token (M)
  int inter = 96;   // inter_dim (N): each expert's intermediate size
  int hidden = 2048;  // hidden_size (K)
  int experts = 128;  // E
  int topk = 8;
};

struct Routing {
  int topk = 0;
  std::vector<int> experts;    // [tokens, topk]: chosen experts, by falling weight
  std::vector<float> weights;  // [tokens, topk]: their softmax weights, renormalised to sum 1
};

// Softmax over each token's `experts` logits, the top-k (a tie goes to the
// lower expert index, as a stable sort would), renormalised as vLLM's
// fused_topk(renormalize=True).
Routing Route(const std::vector<float>& logits, int tokens, int experts, int topk);

// The layer's weights: w1 [E, 2N, K] (gate rows then up rows, PyTorch
// Linear's layout), w2 [E, K, N]; fp32 values the dtype can represent.
struct MoeWeights {
  std::vector<float> w1, w2;
};

// The oracle: one token and one chosen expert at a time, fp32.
std::vector<float> ReferenceMoe(const std::vector<float>& x, const MoeWeights& weights, const Routing& routing,
                                const MoeShape& shape);

// vLLM's moe_align_block_size: each expert's (token, slot) pairs in order,
// padded to a multiple of block_m with the sentinel tokens × topk, and one
// expert id per block. Blocks of experts with no tokens are left out.
struct Alignment {
  std::vector<int> sorted_slots;  // token × topk + slot, or the sentinel
  std::vector<int> block_experts;
  int block_m = 0;
};
Alignment AlignByExpert(const Routing& routing, int tokens, int experts, int block_m);

// The `cpu` method: aligned blocks through the register-tiled CPU GEMM, SiLU
// and mul on the gate/up block, the down GEMM, and the weighted combine.
std::vector<float> CpuMoe(const std::vector<float>& x, const MoeWeights& weights, const Routing& routing,
                          const MoeShape& shape, int block_m);

// Bytes of the expert weights the tokens touch (each chosen expert once),
// at `bytes_per_weight`: what a bandwidth-bound step must read.
double TouchedWeightBytes(const Routing& routing, const MoeShape& shape, double bytes_per_weight);
// 2 · tokens · topk · (2N·K + K·N): the layer's multiply-adds, doubled.
double MoeFlops(const MoeShape& shape);

}  // namespace gauntlet::worker::moe
