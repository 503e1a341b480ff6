// Split-K ("flash-decoding") paged attention for one decode step.
//
// Pass 1: a thread block per (split of the context, KV head, sequence). Its
// row groups walk their tokens through the block table; a group holds a K or
// V row across its lanes (8 dims each, one 16-byte load: 16 lanes at head dim
// 128, 8 at 64) and
// updates an online softmax for every query head of the group, so each K/V
// row is read once for all of them. The warps' partial results are merged in shared memory and
// written, unnormalised, with their running max and sum.
// Pass 2: a thread block per (sequence, query head) merges the splits.
#include "worker/kernels/gpu/paged_decode_attention.h"

#include <algorithm>
#include <cfloat>

namespace gauntlet::worker::gpu {
namespace {

constexpr int kBlockSize = 16;
constexpr int kWarps = 4;
constexpr int kThreads = kWarps * GPU_WARP_SIZE;
// A lane holds 8 dims of a K or V row (one 16-byte load): a row takes 16
// lanes at head dim 128 (a half-warp), 8 at head dim 64.
constexpr int kDimsPerLane = 8;
constexpr int kMaxHeadDim = 128;
#ifndef GAUNTLET_TOKENS_IN_FLIGHT
#define GAUNTLET_TOKENS_IN_FLIGHT 2
#endif
constexpr int kTokensInFlight = GAUNTLET_TOKENS_IN_FLIGHT;  // Per half-warp per iteration.

__device__ __forceinline__ void Unpack(const uint4& raw, float* out) {
  const gpu_bf162* pairs = reinterpret_cast<const gpu_bf162*>(&raw);
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const float2 f = __bfloat1622float2(pairs[i]);
    out[2 * i] = f.x, out[2 * i + 1] = f.y;
  }
}

struct Split {
  int count;   // Splits per sequence.
  int tokens;  // Tokens per split, a multiple of the block size.
};

template <int kHeadDim, int kGroup>
__global__ void __launch_bounds__(kThreads) SplitPass(PagedDecodeArgs args, Split split) {
  constexpr int kLanesPerRow = kHeadDim / kDimsPerLane;
  constexpr int kRowGroups = kThreads / kLanesPerRow;
  const int s = blockIdx.x, kv_head = blockIdx.y, seq = blockIdx.z;
  const int row_group = threadIdx.x / kLanesPerRow, lane = threadIdx.x % kLanesPerRow;
  const int length = args.context_lens[seq];
  const int begin = s * split.tokens, end = min(length, begin + split.tokens);

  float q[kGroup][kDimsPerLane];
#pragma unroll
  for (int g = 0; g < kGroup; ++g) {
    const uint4 raw = *reinterpret_cast<const uint4*>(
        args.q + (static_cast<int64_t>(seq) * args.heads + kv_head * kGroup + g) * kHeadDim + lane * kDimsPerLane);
    Unpack(raw, q[g]);
#pragma unroll
    for (int i = 0; i < kDimsPerLane; ++i) q[g][i] *= args.scale;
  }
  float m[kGroup], l[kGroup], acc[kGroup][kDimsPerLane];
#pragma unroll
  for (int g = 0; g < kGroup; ++g) {
    m[g] = -FLT_MAX, l[g] = 0;
#pragma unroll
    for (int i = 0; i < kDimsPerLane; ++i) acc[g][i] = 0;
  }

  // The split's block ids, read once: each K/V address then waits on shared
  // memory, not on a dependent global load.
  extern __shared__ int32_t split_blocks[];
  const int first_block = begin / kBlockSize;
  const int block_count = (end - begin + kBlockSize - 1) / kBlockSize;
  const int32_t* table = args.block_table + static_cast<int64_t>(seq) * args.max_blocks_per_seq;
  for (int i = threadIdx.x; i < block_count; i += kThreads) split_blocks[i] = table[first_block + i];
  __syncthreads();
  const uint4* k_rows = reinterpret_cast<const uint4*>(args.k_cache);
  const uint4* v_rows = reinterpret_cast<const uint4*>(args.v_cache);
  // In 16-byte units: a block of one head is 16 rows × 16 units.
  auto row_of = [&](int t) {
    const int64_t block = split_blocks[t / kBlockSize - first_block];
    return ((block * args.kv_heads + kv_head) * kBlockSize + t % kBlockSize) * kLanesPerRow + lane;
  };
  // All tokens of an iteration are loaded first, their dot products reduced
  // as independent shuffle chains, and the softmax state corrected once per
  // iteration rather than once per token.
  const int stride = kRowGroups * kTokensInFlight;
  for (int base = begin; base < end; base += stride) {
    uint4 k_raw[kTokensInFlight], v_raw[kTokensInFlight];
    bool valid[kTokensInFlight];
#pragma unroll
    for (int j = 0; j < kTokensInFlight; ++j) {
      const int t = base + row_group + j * kRowGroups;
      valid[j] = t < end;
      const int64_t row = row_of(valid[j] ? t : begin);
      k_raw[j] = k_rows[row];
      v_raw[j] = v_rows[row];
    }
    float score[kGroup][kTokensInFlight];
#pragma unroll
    for (int j = 0; j < kTokensInFlight; ++j) {
      float k[kDimsPerLane];
      Unpack(k_raw[j], k);
#pragma unroll
      for (int g = 0; g < kGroup; ++g) {
        float dot = 0;
#pragma unroll
        for (int i = 0; i < kDimsPerLane; ++i) dot += q[g][i] * k[i];
        score[g][j] = dot;
      }
    }
#pragma unroll
    for (int offset = kLanesPerRow / 2; offset > 0; offset /= 2) {
#pragma unroll
      for (int g = 0; g < kGroup; ++g) {
#pragma unroll
        for (int j = 0; j < kTokensInFlight; ++j) score[g][j] += __shfl_xor_sync(0xffffffff, score[g][j], offset);
      }
    }
    float weight[kGroup][kTokensInFlight];
#pragma unroll
    for (int g = 0; g < kGroup; ++g) {
      float next = m[g];
#pragma unroll
      for (int j = 0; j < kTokensInFlight; ++j) {
        if (valid[j]) next = fmaxf(next, score[g][j]);
      }
      const float correction = __expf(m[g] - next);
      float sum = 0;
#pragma unroll
      for (int j = 0; j < kTokensInFlight; ++j) {
        weight[g][j] = valid[j] ? __expf(score[g][j] - next) : 0.0f;
        sum += weight[g][j];
      }
      l[g] = l[g] * correction + sum;
#pragma unroll
      for (int i = 0; i < kDimsPerLane; ++i) acc[g][i] *= correction;
      m[g] = next;
    }
#pragma unroll
    for (int j = 0; j < kTokensInFlight; ++j) {
      float v[kDimsPerLane];
      Unpack(v_raw[j], v);
#pragma unroll
      for (int g = 0; g < kGroup; ++g) {
#pragma unroll
        for (int i = 0; i < kDimsPerLane; ++i) acc[g][i] += weight[g][j] * v[i];
      }
    }
  }

  __shared__ float shared_m[kRowGroups][kGroup], shared_l[kRowGroups][kGroup];
  __shared__ float shared_acc[kRowGroups][kGroup][kHeadDim];
#pragma unroll
  for (int g = 0; g < kGroup; ++g) {
    if (lane == 0) shared_m[row_group][g] = m[g], shared_l[row_group][g] = l[g];
#pragma unroll
    for (int i = 0; i < kDimsPerLane; ++i) shared_acc[row_group][g][lane * kDimsPerLane + i] = acc[g][i];
  }
  __syncthreads();
  // Thread d merges dimension d of every head of the group.
  const int d = threadIdx.x;
  if (d >= kHeadDim) return;
  for (int g = 0; g < kGroup; ++g) {
    float merged_m = -FLT_MAX;
    for (int w = 0; w < kRowGroups; ++w) {
      if (shared_l[w][g] > 0) merged_m = fmaxf(merged_m, shared_m[w][g]);
    }
    float merged_l = 0, merged_acc = 0;
    for (int w = 0; w < kRowGroups; ++w) {
      const float factor = shared_l[w][g] > 0 ? __expf(shared_m[w][g] - merged_m) : 0.0f;
      merged_l += shared_l[w][g] * factor;
      merged_acc += shared_acc[w][g][d] * factor;
    }
    const int head = kv_head * kGroup + g;
    const int64_t slot = (static_cast<int64_t>(seq) * args.heads + head) * split.count + s;
    float* partial_acc = args.scratch;
    float* partial_ml = args.scratch + static_cast<int64_t>(args.batch) * args.heads * split.count * kMaxHeadDim;
    partial_acc[slot * kHeadDim + d] = merged_acc;
    if (d == 0) partial_ml[slot * 2] = merged_m, partial_ml[slot * 2 + 1] = merged_l;
  }
}

template <int kHeadDim>
__global__ void __launch_bounds__(kHeadDim) MergePass(PagedDecodeArgs args, Split split) {
  const int seq = blockIdx.x, head = blockIdx.y, d = threadIdx.x;
  const int64_t base = (static_cast<int64_t>(seq) * args.heads + head) * split.count;
  const float* partial_acc = args.scratch;
  const float* partial_ml = args.scratch + static_cast<int64_t>(args.batch) * args.heads * split.count * kMaxHeadDim;
  float merged_m = -FLT_MAX;
  for (int s = 0; s < split.count; ++s) {
    if (partial_ml[(base + s) * 2 + 1] > 0) merged_m = fmaxf(merged_m, partial_ml[(base + s) * 2]);
  }
  float merged_l = 0, merged_acc = 0;
  for (int s = 0; s < split.count; ++s) {
    const float l = partial_ml[(base + s) * 2 + 1];
    if (l <= 0) continue;
    const float factor = __expf(partial_ml[(base + s) * 2] - merged_m);
    merged_l += l * factor;
    merged_acc += partial_acc[(base + s) * kHeadDim + d] * factor;
  }
  args.out[(static_cast<int64_t>(seq) * args.heads + head) * kHeadDim + d] = __float2bfloat16(merged_acc / merged_l);
}

// Splits short enough to fill the GPU several times over: about four full
// waves of resident blocks (four per multiprocessor at these register counts),
// so the last, partial wave is a small share of the time; never below 128
// tokens a split, where the merge would start to cost more than it saves.
constexpr int kMinSplitTokens = 128;
constexpr int kResidentBlocksPerSm = 4;
constexpr int kWaves = 4;

Split ChooseSplit(int batch, int kv_heads, int max_context, int multiprocessors) {
  const int target = kWaves * kResidentBlocksPerSm * multiprocessors;
  const int wanted = (target + batch * kv_heads - 1) / (batch * kv_heads);
  const int most = std::max(1, (max_context + kMinSplitTokens - 1) / kMinSplitTokens);
  Split split;
  split.count = std::clamp(wanted, 1, most);
  split.tokens = ((max_context + split.count - 1) / split.count + kBlockSize - 1) / kBlockSize * kBlockSize;
  split.count = (max_context + split.tokens - 1) / split.tokens;
  return split;
}

}  // namespace

int64_t PagedDecodeScratchFloats(int batch, int heads, int max_context, int multiprocessors) {
  // The most splits ChooseSplit can pick, whatever the KV head count.
  const int splits = std::max(1, (max_context + kMinSplitTokens - 1) / kMinSplitTokens);
  (void)multiprocessors;
  return static_cast<int64_t>(batch) * heads * splits * (kMaxHeadDim + 2);
}

template <int kHeadDim>
gpuError_t LaunchForHeadDim(const PagedDecodeArgs& args, const Split& split, gpuStream_t stream) {
  const dim3 grid(split.count, args.kv_heads, args.batch);
  const size_t table_bytes = static_cast<size_t>(split.tokens / kBlockSize + 1) * sizeof(int32_t);
  switch (args.heads / args.kv_heads) {
    case 1: SplitPass<kHeadDim, 1><<<grid, kThreads, table_bytes, stream>>>(args, split); break;
    case 2: SplitPass<kHeadDim, 2><<<grid, kThreads, table_bytes, stream>>>(args, split); break;
    case 4: SplitPass<kHeadDim, 4><<<grid, kThreads, table_bytes, stream>>>(args, split); break;
    case 8: SplitPass<kHeadDim, 8><<<grid, kThreads, table_bytes, stream>>>(args, split); break;
    default: return gpuErrorInvalidValue;
  }
  MergePass<kHeadDim><<<dim3(args.batch, args.heads), kHeadDim, 0, stream>>>(args, split);
  return gpuGetLastError();
}

gpuError_t LaunchPagedDecode(const PagedDecodeArgs& args, int multiprocessors, gpuStream_t stream) {
  const Split split = ChooseSplit(args.batch, args.kv_heads, args.max_context, multiprocessors);
  switch (args.head_dim) {
    case 64: return LaunchForHeadDim<64>(args, split, stream);
    case 128: return LaunchForHeadDim<128>(args, split, stream);
    default: return gpuErrorInvalidValue;
  }
}

}  // namespace gauntlet::worker::gpu

// A C entry point so benchmarks can call the kernel on tensors they own.
extern "C" int gauntlet_paged_decode(const void* q, const void* k_cache, const void* v_cache, const int32_t* block_table,
                                     const int32_t* context_lens, void* out, float* scratch, int batch, int heads,
                                     int kv_heads, int max_blocks_per_seq, int max_context, float scale,
                                     int multiprocessors, void* stream) {
  using namespace gauntlet::worker::gpu;
  PagedDecodeArgs args{static_cast<const gpu_bf16*>(q), static_cast<const gpu_bf16*>(k_cache),
                       static_cast<const gpu_bf16*>(v_cache), block_table, context_lens, static_cast<gpu_bf16*>(out),
                       scratch, batch, heads, kv_heads, 128, max_blocks_per_seq, max_context, scale};
  return static_cast<int>(LaunchPagedDecode(args, multiprocessors, static_cast<gpuStream_t>(stream)));
}

extern "C" long long gauntlet_paged_decode_scratch_floats(int batch, int heads, int max_context, int multiprocessors) {
  return gauntlet::worker::gpu::PagedDecodeScratchFloats(batch, heads, max_context, multiprocessors);
}
