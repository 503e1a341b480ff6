#include "worker/kernels/gpu/prefill_attention.h"

#include "worker/kernels/gpu/mma_sm80.h"

namespace gauntlet::worker::gpu {

#if defined(GAUNTLET_GPU_CUDA)
namespace {

constexpr int kWarps = 4;
constexpr int kRows = 16 * kWarps;  // Query rows per thread block.
constexpr int kTokens = 64;         // Tokens per K/V tile: four cache blocks.
constexpr int kCacheBlock = 16;

// fp8 caches arrive as raw bytes, double-buffered, and are widened (times
// their block's scale) into one K and one V tile of the element type.
template <int kHeadDim, bool kFp8>
constexpr size_t SharedBytes() {
  constexpr size_t kTile = static_cast<size_t>(kTokens) * kHeadDim * 2;  // A K or V tile in the element type.
  return static_cast<size_t>(kRows) * kHeadDim * 2 + (kFp8 ? 2 * kTile + 2 * kTile : 4 * kTile);
}

template <typename T, int kHeadDim, bool kFp8>
__global__ void __launch_bounds__(kWarps * 32) FlashPrefill(PrefillArgs a) {
  constexpr int kChunks = kHeadDim / 8;
  constexpr int kDimSteps = kHeadDim / 16;  // k steps of Q·Kᵀ
  constexpr int kTokenFrags = kTokens / 8;  // n fragments of S
  constexpr int kDimFrags = kHeadDim / 8;   // n fragments of O
  extern __shared__ uint4 shared[];
  constexpr int kRawRowUnits = kHeadDim / 16;  // An fp8 row in 16-byte units.
  uint4* q_tile = shared;                         // [kRows][kChunks]
  uint4* k_tiles = q_tile + kRows * kChunks;      // [2][kTokens][kChunks]; fp8: raw [2][K, V][kTokens][kRawRowUnits]
  uint4* v_tiles = k_tiles + 2 * kTokens * kChunks;
  uint4* widened_k = k_tiles + 4 * kTokens * kRawRowUnits;  // fp8 only: [kTokens][kChunks]
  uint4* widened_v = widened_k + kTokens * kChunks;

  const int row0 = blockIdx.x * kRows, head = blockIdx.y;
  const int kv_head = head / (a.heads / a.kv_heads);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  // Rows are consecutive positions: the tile's last row sees the most tokens.
  const int tokens = a.row_length[min(a.rows, row0 + kRows) - 1];
  const int tiles = (tokens + kTokens - 1) / kTokens;
  const T* q = static_cast<const T*>(a.q);
  const T* k_cache = static_cast<const T*>(a.k_cache);
  const T* v_cache = static_cast<const T*>(a.v_cache);

  for (int c = threadIdx.x; c < kRows * kChunks; c += kWarps * 32) {
    const int r = c / kChunks, chunk = c % kChunks;
    const bool valid = row0 + r < a.rows;
    const T* source = valid ? q + (static_cast<int64_t>(row0 + r) * a.heads + head) * kHeadDim + chunk * 8 : q;
    CopyAsync16(&q_tile[Swizzle<kChunks>(r, chunk)], source, valid);
  }
  auto load_kv = [&](int tile, int buffer) {
    if constexpr (kFp8) {
      const uint4* k_units = static_cast<const uint4*>(a.k_cache);
      const uint4* v_units = static_cast<const uint4*>(a.v_cache);
      uint4* raw = k_tiles + buffer * 2 * kTokens * kRawRowUnits;
      for (int c = threadIdx.x; c < kTokens * kRawRowUnits; c += kWarps * 32) {
        const int r = c / kRawRowUnits, t = tile * kTokens + r;
        const bool valid = t < tokens;
        const int64_t unit =
            valid ? ((static_cast<int64_t>(a.table[t / kCacheBlock]) * a.kv_heads + kv_head) * kCacheBlock +
                     t % kCacheBlock) * kRawRowUnits + c % kRawRowUnits
                  : 0;
        CopyAsync16(&raw[c], k_units + unit, valid);
        CopyAsync16(&raw[kTokens * kRawRowUnits + c], v_units + unit, valid);
      }
    } else {
      for (int c = threadIdx.x; c < kTokens * kChunks; c += kWarps * 32) {
        const int r = c / kChunks, chunk = c % kChunks, t = tile * kTokens + r;
        const bool valid = t < tokens;
        const int64_t slot =
            valid ? ((static_cast<int64_t>(a.table[t / kCacheBlock]) * a.kv_heads + kv_head) * kCacheBlock +
                     t % kCacheBlock) * kHeadDim + chunk * 8
                  : 0;
        CopyAsync16(&k_tiles[buffer * kTokens * kChunks + Swizzle<kChunks>(r, chunk)], k_cache + slot, valid);
        CopyAsync16(&v_tiles[buffer * kTokens * kChunks + Swizzle<kChunks>(r, chunk)], v_cache + slot, valid);
      }
    }
  };
  load_kv(0, 0);
  CommitAsync();

  // This thread's two rows (g and g + 8 of the warp's 16) and their lengths.
  const int my_row[2] = {row0 + warp * 16 + lane / 4, row0 + warp * 16 + lane / 4 + 8};
  int my_length[2];
#pragma unroll
  for (int h = 0; h < 2; ++h) my_length[h] = my_row[h] < a.rows ? a.row_length[my_row[h]] : 0;

  uint32_t q_frag[kDimSteps][4];
  float o[kDimFrags][4] = {};
  float running_max[2] = {-INFINITY, -INFINITY}, running_sum[2] = {0, 0};

  for (int tile = 0; tile < tiles; ++tile) {
    if (tile + 1 < tiles) {
      load_kv(tile + 1, (tile + 1) & 1);
      CommitAsync();
      WaitAsync<1>();
    } else {
      WaitAsync<0>();
    }
    __syncthreads();
    if (tile == 0) {
#pragma unroll
      for (int kk = 0; kk < kDimSteps; ++kk) {
        LoadMatrixX4(q_frag[kk], &q_tile[Swizzle<kChunks>(warp * 16 + lane % 16, kk * 2 + lane / 16)]);
      }
    }
    const uint4* ks = k_tiles + (tile & 1) * kTokens * kChunks;
    const uint4* vs = v_tiles + (tile & 1) * kTokens * kChunks;
    if constexpr (kFp8) {
      const uint8_t* raw = reinterpret_cast<const uint8_t*>(k_tiles + (tile & 1) * 2 * kTokens * kRawRowUnits);
      for (int c = threadIdx.x; c < 2 * kTokens * kChunks; c += kWarps * 32) {
        const int which = c / (kTokens * kChunks), r = (c / kChunks) % kTokens, chunk = c % kChunks;
        const int t = tile * kTokens + r;
        const float* scales = which == 0 ? a.k_scales : a.v_scales;
        const float scale =
            t < tokens ? scales[static_cast<int64_t>(a.table[t / kCacheBlock]) * a.kv_heads + kv_head] : 0.0f;
        (which == 0 ? widened_k : widened_v)[Swizzle<kChunks>(r, chunk)] = WidenFp8<T>(
            *reinterpret_cast<const uint2*>(raw + (which * kTokens + r) * kHeadDim + chunk * 8), scale);
      }
      __syncthreads();
      ks = widened_k;
      vs = widened_v;
    }

    // S = Q·Kᵀ for the warp's 16 rows × 64 tokens.
    float s[kTokenFrags][4] = {};
#pragma unroll
    for (int kk = 0; kk < kDimSteps; ++kk) {
#pragma unroll
      for (int j = 0; j < kTokenFrags; j += 2) {
        uint32_t b[4];
        LoadMatrixX4(b, &ks[Swizzle<kChunks>(j * 8 + lane % 8 + (lane / 16) * 8, kk * 2 + (lane / 8) % 2)]);
        Mma<T>(s[j], q_frag[kk], b);
        Mma<T>(s[j + 1], q_frag[kk], b + 2);
      }
    }

    // Scale, causal mask, online softmax; a row's values sit in one quad.
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      float tile_max = -INFINITY;
#pragma unroll
      for (int j = 0; j < kTokenFrags; ++j) {
#pragma unroll
        for (int e = 0; e < 2; ++e) {
          const int t = tile * kTokens + j * 8 + (lane % 4) * 2 + e;
          float& score = s[j][h * 2 + e];
          score = t < my_length[h] ? score * a.scale : -INFINITY;
          tile_max = fmaxf(tile_max, score);
        }
      }
      tile_max = fmaxf(tile_max, gpuShflXor(tile_max, 1));
      tile_max = fmaxf(tile_max, gpuShflXor(tile_max, 2));
      const float next_max = fmaxf(running_max[h], tile_max);
      // A row that has seen nothing yet (all masked) keeps zeros, not NaNs.
      const float base = next_max == -INFINITY ? 0.0f : next_max;
      const float correction = __expf(running_max[h] - base);
      float sum = 0;
#pragma unroll
      for (int j = 0; j < kTokenFrags; ++j) {
#pragma unroll
        for (int e = 0; e < 2; ++e) {
          float& score = s[j][h * 2 + e];
          score = __expf(score - base);
          sum += score;
        }
      }
      running_sum[h] = running_sum[h] * correction + sum;  // Per thread; the quad adds up at the end.
      running_max[h] = next_max;
#pragma unroll
      for (int d = 0; d < kDimFrags; ++d) o[d][h * 2] *= correction, o[d][h * 2 + 1] *= correction;
    }

    // O += P·V, P straight from S's registers (its layout is mma's A layout).
#pragma unroll
    for (int kk = 0; kk < kTokens / 16; ++kk) {
      const uint32_t p[4] = {Pack<T>(s[2 * kk][0], s[2 * kk][1]), Pack<T>(s[2 * kk][2], s[2 * kk][3]),
                             Pack<T>(s[2 * kk + 1][0], s[2 * kk + 1][1]), Pack<T>(s[2 * kk + 1][2], s[2 * kk + 1][3])};
#pragma unroll
      for (int d = 0; d < kDimFrags; d += 2) {
        uint32_t b[4];
        LoadMatrixX4Trans(b, &vs[Swizzle<kChunks>(kk * 16 + lane % 16, d + lane / 16)]);
        Mma<T>(o[d], p, b);
        Mma<T>(o[d + 1], p, b + 2);
      }
    }
    __syncthreads();  // The next iteration's loads overwrite this buffer.
  }

  T* out = static_cast<T*>(a.out);
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    float sum = running_sum[h];
    sum += gpuShflXor(sum, 1);
    sum += gpuShflXor(sum, 2);
    if (my_row[h] >= a.rows) continue;
    T* row = out + (static_cast<int64_t>(my_row[h]) * a.heads + head) * kHeadDim;
#pragma unroll
    for (int d = 0; d < kDimFrags; ++d) {
      *reinterpret_cast<uint32_t*>(&row[d * 8 + (lane % 4) * 2]) = Pack<T>(o[d][h * 2] / sum, o[d][h * 2 + 1] / sum);
    }
  }
}

template <typename T, int kHeadDim, bool kFp8>
gpuError_t Launch(const PrefillArgs& args, gpuStream_t stream) {
  constexpr size_t kSharedBytes = SharedBytes<kHeadDim, kFp8>();
  static const gpuError_t opted_in = cudaFuncSetAttribute(
      FlashPrefill<T, kHeadDim, kFp8>, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(kSharedBytes));
  if (opted_in != gpuSuccess) return opted_in;
  const dim3 grid((args.rows + kRows - 1) / kRows, args.heads);
  FlashPrefill<T, kHeadDim, kFp8><<<grid, kWarps * 32, kSharedBytes, stream>>>(args);
  return gpuGetLastError();
}

template <typename T, bool kFp8>
gpuError_t LaunchFor(const PrefillArgs& args, gpuStream_t stream) {
  return args.head_dim == 64 ? Launch<T, 64, kFp8>(args, stream) : Launch<T, 128, kFp8>(args, stream);
}

template <typename T>
gpuError_t LaunchTyped(const PrefillArgs& args, gpuStream_t stream) {
  return args.k_scales ? LaunchFor<T, true>(args, stream) : LaunchFor<T, false>(args, stream);
}

}  // namespace

bool PrefillAttentionSupported(int head_dim, int block_size) {
  return (head_dim == 64 || head_dim == 128) && block_size == kCacheBlock;
}

gpuError_t LaunchPrefillAttention(Elem elem, const PrefillArgs& args, gpuStream_t stream) {
  if (!PrefillAttentionSupported(args.head_dim, args.block_size)) return gpuErrorInvalidValue;
  if (args.rows == 0) return gpuSuccess;
  return elem == Elem::kBF16 ? LaunchTyped<gpu_bf16>(args, stream) : LaunchTyped<gpu_half>(args, stream);
}

#else  // HIP: no tensor-core path yet; callers use PagedRowsAttention.

bool PrefillAttentionSupported(int, int) { return false; }
gpuError_t LaunchPrefillAttention(Elem, const PrefillArgs&, gpuStream_t) { return gpuErrorInvalidValue; }

#endif

}  // namespace gauntlet::worker::gpu
