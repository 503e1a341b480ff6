#include "worker/kernels/gpu/llama_kernels.h"

#include <cfloat>

#if defined(GAUNTLET_GPU_CUDA)
#include <cooperative_groups.h>
#endif

#include "worker/kernels/gpu/chained_launch.h"
#include "worker/model/fp8_e4m3.h"

namespace gauntlet::worker::gpu {
namespace {

constexpr int kThreads = 256;
// Kernels that give a row to a block (the norms) sum a split-K GEMM's
// slices as they read: at decode a launch is one or a few blocks, so the
// whole row's loads must be in flight at once, not 256 threads' worth.
// With many rows (a prefill) the blocks fill the GPU anyway, and smaller
// ones leave more resident per SM.
constexpr int kRowThreads = 1024;
int RowThreads(int rows) { return rows <= 64 ? kRowThreads : kThreads; }

template <typename T>
__device__ __forceinline__ float ToFloat(T value) {
  return static_cast<float>(value);
}
template <typename T>
__device__ __forceinline__ T FromFloat(float value);
template <>
__device__ __forceinline__ gpu_bf16 FromFloat<gpu_bf16>(float value) {
  return gpuFloatToBf16(value);
}
template <>
__device__ __forceinline__ gpu_half FromFloat<gpu_half>(float value) {
  return __float2half(value);
}

// Launches the kernel instantiated for the element type.
#define GAUNTLET_DISPATCH_ELEM(elem, T, ...)  \
  do {                                        \
    if ((elem) == Elem::kBF16) {              \
      using T = gpu_bf16;                     \
      __VA_ARGS__;                            \
    } else {                                  \
      using T = gpu_half;                     \
      __VA_ARGS__;                            \
    }                                         \
  } while (0)

__device__ __forceinline__ float WarpSum(float value) {
#pragma unroll
  for (int offset = 16; offset > 0; offset /= 2) value += gpuShflXor(value, offset);
  return value;
}
__device__ __forceinline__ float WarpMax(float value) {
#pragma unroll
  for (int offset = 16; offset > 0; offset /= 2) value = fmaxf(value, gpuShflXor(value, offset));
  return value;
}

// Block-wide reductions for blocks of whole warps; every thread gets the result.
template <bool kMax>
__device__ float BlockReduce(float value) {
  __shared__ float partial[32];
  __shared__ float result;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, warps = blockDim.x / 32;
  value = kMax ? WarpMax(value) : WarpSum(value);
  if (lane == 0) partial[warp] = value;
  __syncthreads();
  if (warp == 0) {
    float v = lane < warps ? partial[lane] : (kMax ? -FLT_MAX : 0.0f);
    v = kMax ? WarpMax(v) : WarpSum(v);
    if (lane == 0) result = v;
  }
  __syncthreads();
  const float out = result;
  __syncthreads();  // `result` may be written again by the next call.
  return out;
}

template <typename T>
__global__ void EmbedKernel(const T* embed, const int32_t* tokens, int hidden, float multiplier, float* x) {
  BeginChained();
  const T* row = embed + static_cast<int64_t>(tokens[blockIdx.x]) * hidden;
  for (int i = threadIdx.x; i < hidden; i += blockDim.x) {
    x[static_cast<int64_t>(blockIdx.x) * hidden + i] = ToFloat(row[i]) * multiplier;
  }
}

// The slices' loads are issued four at a time (a split-K GEMM at decode
// leaves up to 16), then added in slice order, so the sum's bits are those
// of the plain loop.
__device__ __forceinline__ float SumSlices(const float* __restrict__ slices, int splits, int64_t stride,
                                           int64_t index) {
  float sum = 0;
  int s = 0;
  for (; s + 4 <= splits; s += 4) {
    const float a = slices[s * stride + index], b = slices[(s + 1) * stride + index];
    const float c = slices[(s + 2) * stride + index], d = slices[(s + 3) * stride + index];
    sum += a;
    sum += b;
    sum += c;
    sum += d;
  }
  for (; s < splits; ++s) sum += slices[s * stride + index];
  return sum;
}

template <typename T>
__global__ void __launch_bounds__(kRowThreads)
    AddAndNormKernel(const float* slices, int splits, int rows, int hidden, float multiplier, float* x,
                     const float* weight, float eps, T* out) {
  BeginChained();
  const int64_t stride = static_cast<int64_t>(rows) * hidden;
  float* row = x + static_cast<int64_t>(blockIdx.x) * hidden;
  float sum = 0;
  for (int i = threadIdx.x; i < hidden; i += blockDim.x) {
    const float value = row[i] + multiplier * SumSlices(slices, splits, stride, static_cast<int64_t>(blockIdx.x) * hidden + i);
    row[i] = value;
    sum += value * value;
  }
  const float inverse = rsqrtf(BlockReduce<false>(sum) / hidden + eps);
  for (int i = threadIdx.x; i < hidden; i += blockDim.x) {
    out[static_cast<int64_t>(blockIdx.x) * hidden + i] = FromFloat<T>(row[i] * inverse * weight[i]);
  }
}

template <typename T>
__global__ void __launch_bounds__(kRowThreads)
    RmsNormKernel(const float* x, const int32_t* rows, int hidden, const float* weight, float eps, T* out) {
  BeginChained();
  const int source = rows ? rows[blockIdx.x] : blockIdx.x;
  const float* row = x + static_cast<int64_t>(source) * hidden;
  float sum = 0;
  for (int i = threadIdx.x; i < hidden; i += blockDim.x) sum += row[i] * row[i];
  const float inverse = rsqrtf(BlockReduce<false>(sum) / hidden + eps);
  for (int i = threadIdx.x; i < hidden; i += blockDim.x) {
    out[static_cast<int64_t>(blockIdx.x) * hidden + i] = FromFloat<T>(row[i] * inverse * weight[i]);
  }
}


#if defined(GAUNTLET_GPU_CUDA)
// At decode a norm is a few rows, and one block per row reads the row and
// the GEMM's slices from one SM (6.5 µs for 4096 columns and 9 slices on an
// H200). A cluster of kNormCluster blocks shares each row instead: every
// block adds and squares a strided share of its float4 groups, the blocks
// sum their partial squares through distributed shared memory (in rank
// order, so every block gets the same bits), and each normalizes its share.
// x's values are those of AddAndNormKernel bit for bit; the norm's sum
// is taken in a different order.
constexpr int kNormCluster = 8;
constexpr int kNormClusterThreads = 128;

__device__ __forceinline__ float4 SumSlices4(const float4* __restrict__ slices, int splits, int64_t stride,
                                             int64_t index) {
  float4 sum = make_float4(0, 0, 0, 0);
  int s = 0;
  for (; s + 4 <= splits; s += 4) {
    float4 v[4];
#pragma unroll
    for (int u = 0; u < 4; ++u) v[u] = slices[(s + u) * stride + index];
#pragma unroll
    for (int u = 0; u < 4; ++u) sum.x += v[u].x, sum.y += v[u].y, sum.z += v[u].z, sum.w += v[u].w;
  }
  for (; s < splits; ++s) {
    const float4 v = slices[s * stride + index];
    sum.x += v.x, sum.y += v.y, sum.z += v.z, sum.w += v.w;
  }
  return sum;
}

// kAdd: x += multiplier × Σ slices first (AddAndNorm); otherwise x is read
// at source_rows[row] when given (RmsNorm). hidden % 4 == 0.
template <typename T, bool kAdd>
__global__ void __launch_bounds__(kNormClusterThreads)
    ClusterNormKernel(const float* slices, int splits, int rows, int hidden, float multiplier, float* x,
                      const int32_t* source_rows, const float* weight, float eps, T* out) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  namespace cg = cooperative_groups;
  BeginChained();
  const cg::cluster_group cluster = cg::this_cluster();
  const int rank = static_cast<int>(cluster.block_rank()), row = blockIdx.x / kNormCluster;
  const int source = source_rows ? source_rows[row] : row, groups = hidden / 4;
  float4* x_row = reinterpret_cast<float4*>(x + static_cast<int64_t>(source) * hidden);
  const float4* slices4 = reinterpret_cast<const float4*>(slices);
  const int64_t stride = static_cast<int64_t>(rows) * groups;
  const int first = rank * kNormClusterThreads + threadIdx.x, step = kNormCluster * kNormClusterThreads;
  float sum = 0;
  for (int g = first; g < groups; g += step) {
    float4 v = x_row[g];
    if constexpr (kAdd) {
      const float4 s = SumSlices4(slices4, splits, stride, static_cast<int64_t>(row) * groups + g);
      v.x = v.x + multiplier * s.x, v.y = v.y + multiplier * s.y;
      v.z = v.z + multiplier * s.z, v.w = v.w + multiplier * s.w;
      x_row[g] = v;
    }
    sum += v.x * v.x + v.y * v.y + v.z * v.z + v.w * v.w;
  }
  __shared__ float block_sum;
  const float mine = BlockReduce<false>(sum);
  if (threadIdx.x == 0) block_sum = mine;
  cluster.sync();
  float total = 0;
  for (int r = 0; r < kNormCluster; ++r) total += *cluster.map_shared_rank(&block_sum, r);
  const float inverse = rsqrtf(total / hidden + eps);
  const float4* weight4 = reinterpret_cast<const float4*>(weight);
  T* out_row = out + static_cast<int64_t>(row) * hidden;
  for (int g = first; g < groups; g += step) {
    const float4 v = x_row[g], w = weight4[g];
    out_row[4 * g] = FromFloat<T>(v.x * inverse * w.x);
    out_row[4 * g + 1] = FromFloat<T>(v.y * inverse * w.y);
    out_row[4 * g + 2] = FromFloat<T>(v.z * inverse * w.z);
    out_row[4 * g + 3] = FromFloat<T>(v.w * inverse * w.w);
  }
  cluster.sync();  // No block leaves while another may still read its block_sum.
#endif
}

// Rows few enough that one block per row would leave the GPU idle.
bool ClusterNorm(int rows, int hidden) { return Sm90aDevice() && rows <= 64 && hidden % 4 == 0; }

template <typename T, bool kAdd>
gpuError_t LaunchClusterNorm(const float* slices, int splits, int rows, int hidden, float multiplier, float* x,
                             const int32_t* source_rows, const float* weight, float eps, void* out,
                             gpuStream_t stream) {
  return LaunchClustered(ClusterNormKernel<T, kAdd>, dim3(rows * kNormCluster), dim3(kNormClusterThreads), 0, stream,
                         kNormCluster, slices, splits, rows, hidden, multiplier, x, source_rows, weight, eps,
                         static_cast<T*>(out));
}
#endif

__device__ __forceinline__ int64_t SlotIndex(int block, int kv_heads, int head, int block_size, int offset,
                                             int head_dim) {
  return ((static_cast<int64_t>(block) * kv_heads + head) * block_size + offset) * head_dim;
}

__device__ __forceinline__ int64_t CacheSlot(const RopeArgs& args, int row, int kv_head) {
  return SlotIndex(args.row_block[row], args.kv_heads, kv_head, args.block_size, args.row_offset[row], args.head_dim);
}

// A block per (row, head), a thread per rotated pair: at decode the Q, K
// and V heads of a row are dozens of blocks, not one.
template <typename T>
__global__ void RopeKernel(RopeArgs args) {
  BeginChained();
  const int row = blockIdx.x, head = blockIdx.y, i = threadIdx.x, half = args.head_dim / 2;
  const int width = (args.heads + 2 * args.kv_heads) * args.head_dim;
  const int64_t stride = static_cast<int64_t>(args.rows) * width;
  const int64_t column = static_cast<int64_t>(head) * args.head_dim + i;
  const float* in = args.qkv + static_cast<int64_t>(row) * width;
  const float a = SumSlices(in, args.splits, stride, column);
  const float b = SumSlices(in, args.splits, stride, column + half);
  const int kv_size = args.kv_heads * args.head_dim;
  float* kv = args.kv + static_cast<int64_t>(row) * 2 * kv_size;
  if (head >= args.heads + args.kv_heads) {  // V, as it is.
    const int v_head = head - args.heads - args.kv_heads;
    if (args.v_cache) {
      T* slot = static_cast<T*>(args.v_cache) + CacheSlot(args, row, v_head);
      slot[i] = FromFloat<T>(a);
      slot[i + half] = FromFloat<T>(b);
    } else {
      kv[kv_size + v_head * args.head_dim + i] = a;
      kv[kv_size + v_head * args.head_dim + i + half] = b;
    }
    return;
  }
  // The angle in double, as the CPU reference takes it (at 32K positions a
  // float angle would be off by more than bf16 can hide).
  const double angle = args.positions[row] * pow(static_cast<double>(args.theta), -2.0 * i / args.head_dim);
  const float c = static_cast<float>(cos(angle)), s = static_cast<float>(sin(angle));
  const float first = a * c - b * s, second = b * c + a * s;
  if (head < args.heads) {
    T* q = static_cast<T*>(args.q) + static_cast<int64_t>(row) * args.heads * args.head_dim;
    q[column] = FromFloat<T>(first);
    q[column + half] = FromFloat<T>(second);
  } else if (args.k_cache) {
    T* slot = static_cast<T*>(args.k_cache) + CacheSlot(args, row, head - args.heads);
    slot[i] = FromFloat<T>(first);
    slot[i + half] = FromFloat<T>(second);
  } else {
    kv[(head - args.heads) * args.head_dim + i] = first;
    kv[(head - args.heads) * args.head_dim + i + half] = second;
  }
}

template <typename T>
__global__ void StoreKvKernel(KvStoreArgs args) {
  BeginChained();
  const int row = blockIdx.x, size = args.kv_heads * args.head_dim;
  const float* kv = args.kv + static_cast<int64_t>(row) * 2 * size;
  const int block = args.row_block[row], offset = args.row_offset[row];
  for (int i = threadIdx.x; i < 2 * size; i += blockDim.x) {
    const int which = i / size, head = (i % size) / args.head_dim, d = i % args.head_dim;
    T* cache = static_cast<T*>(which == 0 ? args.k_cache : args.v_cache);
    cache[SlotIndex(block, args.kv_heads, head, args.block_size, offset, args.head_dim) + d] = FromFloat<T>(kv[i]);
  }
}

// One thread block per (segment, KV head, K or V), one thread per dimension;
// the segment's rows are stored in order, so the scale evolves as the CPU's.
__global__ void StoreKvFp8Kernel(Fp8StoreArgs args) {
  BeginChained();
  const KvStoreArgs& r = args.rows;
  const int segment = blockIdx.x, head = blockIdx.y, which = blockIdx.z, d = threadIdx.x;
  const int first = args.segment_first_row[segment], count = args.segment_rows[segment];
  const int block = r.row_block[first];
  uint8_t* cache = static_cast<uint8_t*>(which == 0 ? r.k_cache : r.v_cache);
  float* scale_slot = (which == 0 ? args.k_scales : args.v_scales) + static_cast<int64_t>(block) * r.kv_heads + head;
  uint8_t* base = cache + SlotIndex(block, r.kv_heads, head, r.block_size, 0, r.head_dim);
  float scale = *scale_slot;
  for (int i = 0; i < count; ++i) {
    const int row = first + i, offset = r.row_offset[row];
    const float x =
        d < r.head_dim ? r.kv[((static_cast<int64_t>(row) * 2 + which) * r.kv_heads + head) * r.head_dim + d] : 0.0f;
    const float amax = BlockReduce<true>(fabsf(x));
    if (offset == 0) scale = 0.0f;  // A fresh block: whatever it held belonged to someone else.
    const float needed = amax / kF8E4M3Max;
    if (needed > scale) {
      if (scale > 0 && d < r.head_dim) {
        for (int o = 0; o < offset; ++o) {
          uint8_t& stored = base[static_cast<int64_t>(o) * r.head_dim + d];
          stored = F32ToF8E4M3(F8E4M3ToF32(stored) * scale / needed);
        }
      }
      scale = needed;
    }
    if (d < r.head_dim) base[static_cast<int64_t>(offset) * r.head_dim + d] = scale > 0 ? F32ToF8E4M3(x / scale) : 0;
  }
  if (d == 0) *scale_slot = scale;
}

template <typename T, bool kFp8>
__device__ __forceinline__ float LoadCached(const void* cache, int64_t index) {
  if constexpr (kFp8) {
    return F8E4M3ToF32(static_cast<const uint8_t*>(cache)[index]);
  } else {
    return ToFloat(static_cast<const T*>(cache)[index]);
  }
}

// A warp per query head, the heads of one KV group in one thread block so
// they share each K/V row through L1; a lane holds kDims of head_dim.
template <typename T, bool kFp8, int kDims>
__global__ void RowsAttentionKernel(AttentionArgs args) {
  BeginChained();
  const int row = blockIdx.x, kv_head = blockIdx.y, lane = threadIdx.x % 32;
  const int group = args.heads / args.kv_heads, head = kv_head * group + threadIdx.x / 32;
  const int32_t* table = args.tables + static_cast<int64_t>(args.row_slot[row]) * args.max_blocks;
  const int length = args.row_length[row];
  const T* q_row = static_cast<const T*>(args.q) + (static_cast<int64_t>(row) * args.heads + head) * args.head_dim;
  float q[kDims], acc[kDims];
#pragma unroll
  for (int i = 0; i < kDims; ++i) q[i] = ToFloat(q_row[lane * kDims + i]) * args.scale, acc[i] = 0;
  float running_max = -FLT_MAX, denominator = 0;
  for (int t = 0; t < length; ++t) {
    const int block = table[t / args.block_size];
    const int64_t slot = SlotIndex(block, args.kv_heads, kv_head, args.block_size, t % args.block_size, args.head_dim) +
                         lane * kDims;
    const float k_scale = kFp8 ? args.k_scales[static_cast<int64_t>(block) * args.kv_heads + kv_head] : 1.0f;
    float dot = 0;
#pragma unroll
    for (int i = 0; i < kDims; ++i) dot += q[i] * LoadCached<T, kFp8>(args.k_cache, slot + i);
    const float score = WarpSum(dot) * k_scale;
    const float next = fmaxf(running_max, score);
    const float correction = __expf(running_max - next), weight = __expf(score - next);
    const float v_scale = kFp8 ? args.v_scales[static_cast<int64_t>(block) * args.kv_heads + kv_head] : 1.0f;
    denominator = denominator * correction + weight;
#pragma unroll
    for (int i = 0; i < kDims; ++i) {
      acc[i] = acc[i] * correction + weight * v_scale * LoadCached<T, kFp8>(args.v_cache, slot + i);
    }
    running_max = next;
  }
  T* out = static_cast<T*>(args.out) + (static_cast<int64_t>(row) * args.heads + head) * args.head_dim;
#pragma unroll
  for (int i = 0; i < kDims; ++i) out[lane * kDims + i] = FromFloat<T>(acc[i] / denominator);
}

template <typename T, bool kFp8>
gpuError_t LaunchRowsAttention(const AttentionArgs& args, gpuStream_t stream) {
  const dim3 grid(args.rows, args.kv_heads);
  const int threads = 32 * (args.heads / args.kv_heads);
  switch (args.head_dim) {
    case 32: return LaunchChained(RowsAttentionKernel<T, kFp8, 1>, grid, dim3(threads), 0, stream, args);
    case 64: return LaunchChained(RowsAttentionKernel<T, kFp8, 2>, grid, dim3(threads), 0, stream, args);
    case 128: return LaunchChained(RowsAttentionKernel<T, kFp8, 4>, grid, dim3(threads), 0, stream, args);
    case 256: return LaunchChained(RowsAttentionKernel<T, kFp8, 8>, grid, dim3(threads), 0, stream, args);
    default: return gpuErrorInvalidValue;
  }
}

__global__ void AddSlicesKernel(const float* slices, int splits, int64_t count, float multiplier, bool accumulate,
                                float* out) {
  BeginChained();
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const float sum = multiplier * SumSlices(slices, splits, count, i);
    out[i] = accumulate ? out[i] + sum : sum;
  }
}

template <typename T>
__global__ void SwiGluKernel(const float* gate_up, int splits, int rows, int inter, T* act) {
  BeginChained();
  const int64_t stride = static_cast<int64_t>(rows) * 2 * inter;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < static_cast<int64_t>(rows) * inter;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t row = i / inter, j = i % inter;
    const float gate = SumSlices(gate_up, splits, stride, row * 2 * inter + j);
    const float up = SumSlices(gate_up, splits, stride, row * 2 * inter + inter + j);
    act[i] = FromFloat<T>(gate / (1.0f + expf(-gate)) * up);
  }
}

__global__ void ArgmaxKernel(const float* values, int width, int32_t* out) {
  BeginChained();
  const float* row = values + static_cast<int64_t>(blockIdx.x) * width;
  float best = -INFINITY;
  int index = width;  // Past the end: loses every tie.
  for (int i = threadIdx.x; i < width; i += blockDim.x) {
    if (row[i] > best) best = row[i], index = i;  // A thread's first maximum.
  }
  // The largest value, then the smallest index holding it.
  const float top = BlockReduce<true>(best);
  __shared__ int first;
  if (threadIdx.x == 0) first = width;
  __syncthreads();
  if (best == top) atomicMin(&first, index);
  __syncthreads();
  if (threadIdx.x == 0) out[blockIdx.x] = first < width ? first : 0;
}

int GridFor(int64_t count) { return static_cast<int>(std::min<int64_t>((count + kThreads - 1) / kThreads, 65535)); }

}  // namespace

gpuError_t Embed(Elem elem, const void* embed, const int32_t* tokens, int rows, int hidden, float multiplier, float* x,
                 gpuStream_t stream) {
  if (rows == 0) return gpuSuccess;
  gpuError_t error = gpuSuccess;
  GAUNTLET_DISPATCH_ELEM(elem, T,
                         error = LaunchChained(EmbedKernel<T>, dim3(rows), dim3(kThreads), 0, stream,
                                               static_cast<const T*>(embed), tokens, hidden, multiplier, x));
  return error;
}

gpuError_t RmsNorm(Elem elem, const float* x, const int32_t* rows, int count, int hidden, const float* weight, float eps,
                   void* out, gpuStream_t stream) {
  if (count == 0) return gpuSuccess;
  gpuError_t error = gpuSuccess;
#if defined(GAUNTLET_GPU_CUDA)
  if (ClusterNorm(count, hidden)) {
    GAUNTLET_DISPATCH_ELEM(elem, T,
                           error = (LaunchClusterNorm<T, false>(nullptr, 0, count, hidden, 1.0f, const_cast<float*>(x),
                                                                rows, weight, eps, out, stream)));
    return error;
  }
#endif
  GAUNTLET_DISPATCH_ELEM(elem, T,
                         error = LaunchChained(RmsNormKernel<T>, dim3(count), dim3(RowThreads(count)), 0, stream, x,
                                               rows, hidden, weight, eps, static_cast<T*>(out)));
  return error;
}

gpuError_t AddAndNorm(Elem elem, const float* slices, int splits, int rows, int hidden, float multiplier, float* x,
                      const float* weight, float eps, void* out, gpuStream_t stream) {
  if (rows == 0) return gpuSuccess;
  gpuError_t error = gpuSuccess;
#if defined(GAUNTLET_GPU_CUDA)
  if (ClusterNorm(rows, hidden)) {
    GAUNTLET_DISPATCH_ELEM(elem, T,
                           error = (LaunchClusterNorm<T, true>(slices, splits, rows, hidden, multiplier, x, nullptr,
                                                               weight, eps, out, stream)));
    return error;
  }
#endif
  GAUNTLET_DISPATCH_ELEM(elem, T,
                         error = LaunchChained(AddAndNormKernel<T>, dim3(rows), dim3(RowThreads(rows)), 0, stream,
                                               slices, splits, rows, hidden, multiplier, x, weight, eps,
                                               static_cast<T*>(out)));
  return error;
}

gpuError_t ArgmaxRows(const float* values, int rows, int width, int32_t* out, gpuStream_t stream) {
  if (rows == 0) return gpuSuccess;
  return LaunchChained(ArgmaxKernel, dim3(rows), dim3(kThreads), 0, stream, values, width, out);
}

gpuError_t RopeAndSplit(Elem elem, const RopeArgs& args, gpuStream_t stream) {
  if (args.rows == 0) return gpuSuccess;
  const dim3 grid(args.rows, args.heads + 2 * args.kv_heads);
  gpuError_t error = gpuSuccess;
  GAUNTLET_DISPATCH_ELEM(elem, T, error = LaunchChained(RopeKernel<T>, grid, dim3(args.head_dim / 2), 0, stream, args));
  return error;
}

gpuError_t StoreKv(Elem elem, const KvStoreArgs& args, gpuStream_t stream) {
  if (args.rows == 0) return gpuSuccess;
  gpuError_t error = gpuSuccess;
  GAUNTLET_DISPATCH_ELEM(elem, T, error = LaunchChained(StoreKvKernel<T>, dim3(args.rows), dim3(kThreads), 0, stream, args));
  return error;
}

gpuError_t StoreKvFp8(const Fp8StoreArgs& args, gpuStream_t stream) {
  if (args.segments == 0) return gpuSuccess;
  // Whole warps, at least one thread per dimension.
  const int threads = (args.rows.head_dim + 31) / 32 * 32;
  return LaunchChained(StoreKvFp8Kernel, dim3(args.segments, args.rows.kv_heads, 2), dim3(threads), 0, stream, args);
}

gpuError_t PagedRowsAttention(Elem elem, bool fp8, const AttentionArgs& args, gpuStream_t stream) {
  if (args.rows == 0) return gpuSuccess;
  if (elem == Elem::kBF16) {
    return fp8 ? LaunchRowsAttention<gpu_bf16, true>(args, stream) : LaunchRowsAttention<gpu_bf16, false>(args, stream);
  }
  return fp8 ? LaunchRowsAttention<gpu_half, true>(args, stream) : LaunchRowsAttention<gpu_half, false>(args, stream);
}

gpuError_t AddSlices(const float* slices, int splits, int64_t count, float multiplier, bool accumulate, float* out,
                     gpuStream_t stream) {
  if (count == 0) return gpuSuccess;
  return LaunchChained(AddSlicesKernel, dim3(GridFor(count)), dim3(kThreads), 0, stream, slices, splits, count,
                       multiplier, accumulate, out);
}

gpuError_t SwiGlu(Elem elem, const float* gate_up, int splits, int rows, int inter, void* act, gpuStream_t stream) {
  if (rows == 0) return gpuSuccess;
  const int64_t count = static_cast<int64_t>(rows) * inter;
  gpuError_t error = gpuSuccess;
  GAUNTLET_DISPATCH_ELEM(elem, T,
                         error = LaunchChained(SwiGluKernel<T>, dim3(GridFor(count)), dim3(kThreads), 0, stream,
                                               gate_up, splits, rows, inter, static_cast<T*>(act)));
  return error;
}

}  // namespace gauntlet::worker::gpu
