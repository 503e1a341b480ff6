// Split-K ("flash-decoding") paged attention for one decode step.
//
// Pass 1: a thread block per (split of the context, KV head, sequence) walks
// the split's tokens through the block table and keeps an online softmax for
// every query head of the group, so each K/V row is read once for all of them;
// it writes its unnormalised result with the running max and sum. On NVIDIA
// the pass runs on the matrix units (TensorCoreSplitPass); the portable
// SplitPass (HIP) does the same with scalar FMAs.
// Pass 2: a thread block per (sequence, query head) merges the splits.
#include "worker/kernels/gpu/paged_decode_attention.h"

#include "worker/kernels/gpu/chained_launch.h"
#include "worker/kernels/gpu/mma_sm80.h"

#include <algorithm>
#include <cfloat>

namespace gauntlet::worker::gpu {
namespace {

constexpr int kBlockSize = 16;
constexpr int kMaxHeadDim = 128;

struct Split {
  int count;   // Splits per sequence.
  int tokens;  // Tokens per split, a multiple of the block size.
};

// Merges the online-softmax states of a block's kParts workers (in shared
// memory: m and l [kParts][kGroup], acc [kParts][kGroup][kHeadDim]) and
// writes the split's unnormalised result for MergePass. Thread d takes
// dimension d of every head of the group.
template <int kHeadDim, int kGroup, int kParts>
__device__ void StorePartial(const PagedDecodeArgs& args, const Split& split, int s, int seq, int kv_head,
                             const float* shared_m, const float* shared_l, const float* shared_acc) {
  const int d = threadIdx.x;
  if (d >= kHeadDim) return;
  for (int g = 0; g < kGroup; ++g) {
    float merged_m = -FLT_MAX;
    for (int w = 0; w < kParts; ++w) {
      if (shared_l[w * kGroup + g] > 0) merged_m = fmaxf(merged_m, shared_m[w * kGroup + g]);
    }
    float merged_l = 0, merged_acc = 0;
    for (int w = 0; w < kParts; ++w) {
      const float l = shared_l[w * kGroup + g];
      const float factor = l > 0 ? __expf(shared_m[w * kGroup + g] - merged_m) : 0.0f;
      merged_l += l * factor;
      merged_acc += shared_acc[(w * kGroup + g) * kHeadDim + d] * factor;
    }
    const int head = kv_head * kGroup + g;
    const int64_t slot = (static_cast<int64_t>(seq) * args.heads + head) * split.count + s;
    float* partial_acc = args.scratch;
    float* partial_ml = args.scratch + static_cast<int64_t>(args.batch) * args.heads * split.count * kMaxHeadDim;
    partial_acc[slot * kHeadDim + d] = merged_acc;
    if (d == 0) partial_ml[slot * 2] = merged_m, partial_ml[slot * 2 + 1] = merged_l;
  }
}

#if !defined(GAUNTLET_GPU_CUDA)
constexpr int kWarps = 4;
constexpr int kThreads = kWarps * GPU_WARP_SIZE;
// A lane holds 8 dims of a K or V row (one 16-byte load): a row takes 16
// lanes at head dim 128 (a half-warp), 8 at head dim 64.
constexpr int kDimsPerLane = 8;
constexpr int kTokensInFlight = 2;  // Per row group per iteration.

__device__ __forceinline__ void Unpack(const uint4& raw, float* out) {
  const gpu_bf162* pairs = reinterpret_cast<const gpu_bf162*>(&raw);
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const float2 f = gpuBf16PairToFloat2(pairs[i]);
    out[2 * i] = f.x, out[2 * i + 1] = f.y;
  }
}

// The portable pass: row groups of lanes hold a K or V row (8 dims a lane,
// one 16-byte load), two tokens in flight each.
template <int kHeadDim, int kGroup>
__global__ void __launch_bounds__(kThreads) SplitPass(PagedDecodeArgs args, Split split) {
  BeginChained();
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
        for (int j = 0; j < kTokensInFlight; ++j) score[g][j] += gpuShflXor(score[g][j], offset);
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
  StorePartial<kHeadDim, kGroup, kRowGroups>(args, split, s, seq, kv_head, &shared_m[0][0], &shared_l[0][0],
                                             &shared_acc[0][0][0]);
}
#endif

#if defined(GAUNTLET_GPU_CUDA)
// Pass 1 on the matrix units. Each warp takes every fourth cache block
// of the split and streams it (16 tokens of K and V) into its own shared-memory
// stages with cp.async, kTcStages deep. Q·Kᵀ and P·V are mma.sync m16n8k16
// with the group's query heads as the rows of A (padded to 16 with zeros):
// the scalar work left per 16 tokens is the softmax of a 16×16 tile, not 8 K
// and V rows' worth of conversions and FMAs, so the loop is bound by memory.
constexpr int kTcWarps = 4;
constexpr int kTcStages = 3;

// Shared memory a warp streams through, in 16-byte units. A bf16 cache goes
// straight into kTcStages swizzled K+V tiles. An fp8 cache arrives as raw
// bytes (kTcStages stages of half the size) and is widened into one bf16
// tile before the matrix units read it.
template <int kHeadDim, bool kFp8>
__host__ __device__ constexpr int TcWarpUnits() {
  constexpr int kTileUnits = 2 * kBlockSize * kHeadDim / 8;
  return kFp8 ? kTcStages * kTileUnits / 2 + kTileUnits : kTcStages * kTileUnits;
}

template <int kHeadDim, bool kFp8>
__host__ __device__ constexpr size_t TcStageBytes() {
  return static_cast<size_t>(kTcWarps) * TcWarpUnits<kHeadDim, kFp8>() * 16;
}

template <int kHeadDim, int kGroup, bool kFp8>
__global__ void __launch_bounds__(kTcWarps * 32) TensorCoreSplitPass(PagedDecodeArgs args, Split split) {
  BeginChained();
  constexpr int kChunks = kHeadDim / 8;
  constexpr int kStageUnits = 2 * kBlockSize * kChunks;  // K rows then V rows, in 16-byte units
  constexpr int kRawRowUnits = kHeadDim / 16;           // An fp8 row in 16-byte units.
  constexpr int kRawStageUnits = 2 * kBlockSize * kRawRowUnits;
  constexpr int kDimSteps = kHeadDim / 16, kDimFrags = kHeadDim / 8;
  extern __shared__ uint4 shared[];
  const int s = blockIdx.x, kv_head = blockIdx.y, seq = blockIdx.z;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, t = lane % 4;
  const int length = args.context_lens[seq];
  const int begin = s * split.tokens, end = min(length, begin + split.tokens);
  const int first_block = begin / kBlockSize;
  const int block_count = end > begin ? (end - begin + kBlockSize - 1) / kBlockSize : 0;
  int32_t* split_blocks = reinterpret_cast<int32_t*>(reinterpret_cast<char*>(shared) + TcStageBytes<kHeadDim, kFp8>());
  const int32_t* table = args.block_table + static_cast<int64_t>(seq) * args.max_blocks_per_seq;
  for (int i = threadIdx.x; i < block_count; i += kTcWarps * 32) split_blocks[i] = table[first_block + i];
  __syncthreads();

  uint4* stages = shared + warp * TcWarpUnits<kHeadDim, kFp8>();
  uint4* widened = stages + kTcStages * kRawStageUnits;  // fp8 only: the bf16 tile.
  const uint4* k_units = reinterpret_cast<const uint4*>(args.k_cache);
  const uint4* v_units = reinterpret_cast<const uint4*>(args.v_cache);
  const int my_blocks = block_count > warp ? (block_count - warp + kTcWarps - 1) / kTcWarps : 0;
  auto load = [&](int i) {
    const int index = warp + i * kTcWarps;
    const int first_token = (first_block + index) * kBlockSize;
    const int64_t head_block = static_cast<int64_t>(split_blocks[index]) * args.kv_heads + kv_head;
    if constexpr (kFp8) {
      uint4* stage = stages + (i % kTcStages) * kRawStageUnits;
      for (int c = lane; c < kBlockSize * kRawRowUnits; c += 32) {
        const bool valid = first_token + c / kRawRowUnits < end;  // Past the end: zeros, not stale bytes.
        CopyAsync16(&stage[c], k_units + head_block * kBlockSize * kRawRowUnits + c, valid);
        CopyAsync16(&stage[kBlockSize * kRawRowUnits + c], v_units + head_block * kBlockSize * kRawRowUnits + c, valid);
      }
    } else {
      uint4* stage = stages + (i % kTcStages) * kStageUnits;
      for (int c = lane; c < kBlockSize * kChunks; c += 32) {
        const int row = c / kChunks, chunk = c % kChunks;
        // Slots past the end may hold anything, NaN included: zeros instead.
        const bool valid = first_token + row < end;
        CopyAsync16(&stage[Swizzle<kChunks>(row, chunk)], k_units + head_block * kBlockSize * kChunks + c, valid);
        CopyAsync16(&stage[kBlockSize * kChunks + Swizzle<kChunks>(row, chunk)],
                    v_units + head_block * kBlockSize * kChunks + c, valid);
      }
    }
  };

  // A's rows are the group's heads: lane g holds head g's pairs; rows 8-15
  // (a1, a3) are padding.
  uint32_t q[kDimSteps][2];
#pragma unroll
  for (int kk = 0; kk < kDimSteps; ++kk) {
    q[kk][0] = q[kk][1] = 0;
    if (g < kGroup) {
      const gpu_bf16* row = args.q + (static_cast<int64_t>(seq) * args.heads + kv_head * kGroup + g) * kHeadDim + kk * 16;
      q[kk][0] = *reinterpret_cast<const uint32_t*>(row + 2 * t);
      q[kk][1] = *reinterpret_cast<const uint32_t*>(row + 8 + 2 * t);
    }
  }
  float o[kDimFrags][4] = {};
  float running_max = -INFINITY, running_sum = 0;

#pragma unroll
  for (int i = 0; i < kTcStages - 1; ++i) {
    if (i < my_blocks) load(i);
    CommitAsync();
  }
  for (int i = 0; i < my_blocks; ++i) {
    WaitAsync<kTcStages - 2>();
    __syncwarp();  // Block i is in; every lane is done with the stage refilled next.
    if (i + kTcStages - 1 < my_blocks) load(i + kTcStages - 1);
    CommitAsync();
    const uint4* ks = stages + (i % kTcStages) * kStageUnits;
    float k_scale = 1.0f, v_scale = 1.0f;
    if constexpr (kFp8) {
      const uint8_t* raw = reinterpret_cast<const uint8_t*>(stages + (i % kTcStages) * kRawStageUnits);
      for (int c = lane; c < 2 * kBlockSize * kChunks; c += 32) {
        const int which = c / (kBlockSize * kChunks), row = (c / kChunks) % kBlockSize, chunk = c % kChunks;
        widened[which * kBlockSize * kChunks + Swizzle<kChunks>(row, chunk)] = WidenFp8<gpu_bf16>(
            *reinterpret_cast<const uint2*>(raw + (which * kBlockSize + row) * kHeadDim + chunk * 8), 1.0f);
      }
      __syncwarp();
      ks = widened;
      const int64_t head_block = static_cast<int64_t>(split_blocks[warp + i * kTcWarps]) * args.kv_heads + kv_head;
      k_scale = args.k_scales[head_block];
      v_scale = args.v_scales[head_block];
    }
    const uint4* vs = ks + kBlockSize * kChunks;

    float score[2][4] = {};
#pragma unroll
    for (int kk = 0; kk < kDimSteps; ++kk) {
      uint32_t b[4];
      LoadMatrixX4(b, &ks[Swizzle<kChunks>(lane % 8 + (lane / 16) * 8, kk * 2 + (lane / 8) % 2)]);
      const uint32_t a[4] = {q[kk][0], 0, q[kk][1], 0};
      Mma<gpu_bf16>(score[0], a, b);
      Mma<gpu_bf16>(score[1], a, b + 2);
    }
    const int first_token = (first_block + warp + i * kTcWarps) * kBlockSize;
    float tile_max = -INFINITY;
#pragma unroll
    for (int j = 0; j < 2; ++j) {
#pragma unroll
      for (int e = 0; e < 2; ++e) {
        float& x = score[j][e];
        x = first_token + j * 8 + 2 * t + e < end ? x * args.scale * k_scale : -INFINITY;
        tile_max = fmaxf(tile_max, x);
      }
    }
    tile_max = fmaxf(tile_max, gpuShflXor(tile_max, 1));
    tile_max = fmaxf(tile_max, gpuShflXor(tile_max, 2));
    const float next_max = fmaxf(running_max, tile_max);
    const float base = next_max == -INFINITY ? 0.0f : next_max;
    const float correction = __expf(running_max - base);
    float sum = 0;
#pragma unroll
    for (int j = 0; j < 2; ++j) {
#pragma unroll
      for (int e = 0; e < 2; ++e) sum += (score[j][e] = __expf(score[j][e] - base));
    }
    running_sum = running_sum * correction + sum;
    running_max = next_max;
    // An fp8 block's V scale rides on P (the sum above stays unscaled).
    const uint32_t p[4] = {Pack<gpu_bf16>(score[0][0] * v_scale, score[0][1] * v_scale), 0,
                           Pack<gpu_bf16>(score[1][0] * v_scale, score[1][1] * v_scale), 0};
#pragma unroll
    for (int d = 0; d < kDimFrags; d += 2) {
      o[d][0] *= correction, o[d][1] *= correction, o[d + 1][0] *= correction, o[d + 1][1] *= correction;
      uint32_t b[4];
      LoadMatrixX4Trans(b, &vs[Swizzle<kChunks>(lane % 16, d + lane / 16)]);
      Mma<gpu_bf16>(o[d], p, b);
      Mma<gpu_bf16>(o[d + 1], p, b + 2);
    }
  }
  WaitAsync<0>();
  running_sum += gpuShflXor(running_sum, 1);
  running_sum += gpuShflXor(running_sum, 2);

  // The stages are free once every warp is here: merge through them.
  __syncthreads();
  float* shared_m = reinterpret_cast<float*>(shared);
  float* shared_l = shared_m + kTcWarps * kGroup;
  float* shared_acc = shared_l + kTcWarps * kGroup;
  if (g < kGroup) {
    if (t == 0) shared_m[warp * kGroup + g] = running_max, shared_l[warp * kGroup + g] = running_sum;
#pragma unroll
    for (int d = 0; d < kDimFrags; ++d) {
      shared_acc[(warp * kGroup + g) * kHeadDim + d * 8 + 2 * t] = o[d][0];
      shared_acc[(warp * kGroup + g) * kHeadDim + d * 8 + 2 * t + 1] = o[d][1];
    }
  }
  __syncthreads();
  StorePartial<kHeadDim, kGroup, kTcWarps>(args, split, s, seq, kv_head, shared_m, shared_l, shared_acc);
}
#endif

template <int kHeadDim>
__global__ void __launch_bounds__(kHeadDim) MergePass(PagedDecodeArgs args, Split split) {
  BeginChained();
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
  args.out[(static_cast<int64_t>(seq) * args.heads + head) * kHeadDim + d] = gpuFloatToBf16(merged_acc / merged_l);
}

// Splits short enough to fill the GPU several times over: about four full
// waves of resident blocks, so the last, partial wave is a small share of the
// time; never below 128 tokens a split, where the merge would start to cost
// more than it saves.
constexpr int kMinSplitTokens = 128;
constexpr int kWaves = 4;

Split ChooseSplit(int batch, int kv_heads, int max_context, int multiprocessors, int resident_blocks_per_sm) {
  const int target = kWaves * resident_blocks_per_sm * multiprocessors;
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

#if defined(GAUNTLET_GPU_CUDA)
// Block ids of one split held in shared memory beside the stages: up to 8192
// blocks (131072 tokens) a split.
constexpr size_t kMaxTableBytes = 8192 * sizeof(int32_t);

template <int kHeadDim, int kGroup, bool kFp8>
gpuError_t LaunchTensorCore(const PagedDecodeArgs& args, const Split& split, gpuStream_t stream) {
  auto kernel = TensorCoreSplitPass<kHeadDim, kGroup, kFp8>;
  constexpr size_t kStageBytes = TcStageBytes<kHeadDim, kFp8>();
  static const gpuError_t opted_in = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                                          static_cast<int>(kStageBytes + kMaxTableBytes));
  if (opted_in != gpuSuccess) return opted_in;
  const size_t table_bytes = static_cast<size_t>(split.tokens / kBlockSize + 1) * sizeof(int32_t);
  if (table_bytes > kMaxTableBytes) return gpuErrorInvalidValue;
  return LaunchChained(kernel, dim3(split.count, args.kv_heads, args.batch), dim3(kTcWarps * 32),
                       kStageBytes + table_bytes, stream, args, split);
}

template <int kHeadDim, int kGroup>
gpuError_t LaunchTensorCore(const PagedDecodeArgs& args, const Split& split, gpuStream_t stream) {
  return args.k_scales ? LaunchTensorCore<kHeadDim, kGroup, true>(args, split, stream)
                       : LaunchTensorCore<kHeadDim, kGroup, false>(args, split, stream);
}
#endif

template <int kHeadDim>
gpuError_t LaunchForHeadDim(const PagedDecodeArgs& args, int multiprocessors, gpuStream_t stream) {
  gpuError_t launched = gpuSuccess;
#if defined(GAUNTLET_GPU_CUDA)
  // Resident blocks per SM, as shared memory allows: 96 KiB of stages at head
  // dim 128 (80 KiB for fp8), 48 KiB at 64 (40 KiB for fp8).
  const Split split = ChooseSplit(args.batch, args.kv_heads, args.max_context, multiprocessors, kHeadDim == 128 ? 2 : 4);
  switch (args.heads / args.kv_heads) {
    case 1: launched = LaunchTensorCore<kHeadDim, 1>(args, split, stream); break;
    case 2: launched = LaunchTensorCore<kHeadDim, 2>(args, split, stream); break;
    case 4: launched = LaunchTensorCore<kHeadDim, 4>(args, split, stream); break;
    case 8: launched = LaunchTensorCore<kHeadDim, 8>(args, split, stream); break;
    default: return gpuErrorInvalidValue;
  }
#else
  if (args.k_scales) return gpuErrorInvalidValue;  // fp8 caches: PagedRowsAttention.
  const Split split = ChooseSplit(args.batch, args.kv_heads, args.max_context, multiprocessors, 4);
  const dim3 grid(split.count, args.kv_heads, args.batch);
  const size_t table_bytes = static_cast<size_t>(split.tokens / kBlockSize + 1) * sizeof(int32_t);
  switch (args.heads / args.kv_heads) {
    case 1: launched = LaunchChained(SplitPass<kHeadDim, 1>, grid, dim3(kThreads), table_bytes, stream, args, split); break;
    case 2: launched = LaunchChained(SplitPass<kHeadDim, 2>, grid, dim3(kThreads), table_bytes, stream, args, split); break;
    case 4: launched = LaunchChained(SplitPass<kHeadDim, 4>, grid, dim3(kThreads), table_bytes, stream, args, split); break;
    case 8: launched = LaunchChained(SplitPass<kHeadDim, 8>, grid, dim3(kThreads), table_bytes, stream, args, split); break;
    default: return gpuErrorInvalidValue;
  }
#endif
  if (launched != gpuSuccess) return launched;
  return LaunchChained(MergePass<kHeadDim>, dim3(args.batch, args.heads), dim3(kHeadDim), 0, stream, args, split);
}

gpuError_t LaunchPagedDecode(const PagedDecodeArgs& args, int multiprocessors, gpuStream_t stream) {
  switch (args.head_dim) {
    case 64: return LaunchForHeadDim<64>(args, multiprocessors, stream);
    case 128: return LaunchForHeadDim<128>(args, multiprocessors, stream);
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
