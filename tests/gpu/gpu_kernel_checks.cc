// The GPU kernels against the CPU reference kernels, on the GPU machine
// (built with -DGAUNTLET_GPU=cuda; that machine has no GoogleTest, so this is
// a plain program: it prints each check and exits non-zero if any failed).
//
//   build/bin/gpu_kernel_checks
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <mpi.h>

#include "worker/backend/device_buffer.h"
#include "worker/kernels/cpu_kernels.h"
#include "worker/kernels/gpu/gemm.h"
#include "worker/kernels/gpu/llama_kernels.h"
#include "worker/kernels/gpu/paged_decode_attention.h"
#include "worker/kernels/gpu/prefill_attention.h"
#include "worker/kv/paged_cache.h"
#include "worker/model/gpu_model.h"
#include "worker/model/llama.h"
#include "worker/model/weights.h"

namespace gauntlet::worker {
namespace {

using gpu::Elem;

int failures = 0;

void Report(bool ok, const std::string& what) {
  std::printf("%s  %s\n", ok ? "ok  " : "FAIL", what.c_str());
  if (!ok) ++failures;
}

void Expect(const Status& status, const std::string& what) {
  if (!status.ok()) Report(false, what + ": " + status.ToString());
}

std::vector<float> Random(size_t count, uint64_t seed, float scale = 1.0f) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> values(count);
  for (float& v : values) v = normal(rng);
  return values;
}

std::vector<float> Rounded(std::vector<float> values, Elem elem) {
  for (float& v : values) v = RoundTrip(v, elem == Elem::kBF16 ? DType::kBF16 : DType::kF16);
  return values;
}

std::vector<uint16_t> Bits(const std::vector<float>& values, Elem elem) {
  std::vector<uint16_t> bits(values.size());
  for (size_t i = 0; i < values.size(); ++i) bits[i] = elem == Elem::kBF16 ? F32ToBF16(values[i]) : F32ToF16(values[i]);
  return bits;
}

std::vector<float> FromBits(const std::vector<uint16_t>& bits, Elem elem) {
  std::vector<float> values(bits.size());
  for (size_t i = 0; i < bits.size(); ++i) values[i] = elem == Elem::kBF16 ? BF16ToF32(bits[i]) : F16ToF32(bits[i]);
  return values;
}

template <typename T>
std::vector<T> Download(const DeviceBuffer& buffer, size_t count) {
  std::vector<T> host(count);
  Expect(GpuCheck(gpuMemcpy(host.data(), buffer.get(), count * sizeof(T), gpuMemcpyDeviceToHost), "download"),
         "download");
  return host;
}

// max |a - b| over max |b|.
double RelativeError(const std::vector<float>& a, const std::vector<float>& b) {
  double diff = 0, scale = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff = std::max(diff, static_cast<double>(std::fabs(a[i] - b[i])));
    scale = std::max(scale, static_cast<double>(std::fabs(b[i])));
  }
  return scale > 0 ? diff / scale : diff;
}

int Multiprocessors() {
  int count = 1;
  Expect(GpuCheck(gpuDeviceGetAttribute(&count, gpuDevAttrMultiProcessorCount, 0), "SM count"), "SM count");
  return count;
}

gpu::GemmTarget DeviceGemmTarget() {
  gpu::GemmTarget target;
  Expect(GpuCheck(gpu::QueryGemmTarget(0, &target), "gemm target"), "device attributes");
  return target;
}

const char* KernelName(gpu::GemmKernel kernel) {
  switch (kernel) {
    case gpu::GemmKernel::kMmaSmall: return "mma 16x64";
    case gpu::GemmKernel::kMmaMedium: return "mma 64x64";
    case gpu::GemmKernel::kMmaLarge: return "mma 128x128";
    case gpu::GemmKernel::kWgmmaWide: return "wgmma 128x256";
    case gpu::GemmKernel::kWgmmaNarrow: return "wgmma 128x128";
    case gpu::GemmKernel::kGemv: return "gemv";
    case gpu::GemmKernel::kSimt: return "simt";
  }
  return "?";
}

void CheckGemm(int m, int n, int k, Elem elem, const gpu::GemmTarget& target) {
  const auto x = Rounded(Random(static_cast<size_t>(m) * k, 1 + m), elem);
  const auto w = Rounded(Random(static_cast<size_t>(n) * k, 2 + n, 0.05f), elem);
  std::vector<float> expected(static_cast<size_t>(m) * n);
  cpu::MatMulTransposed(x.data(), w.data(), expected.data(), m, n, k);
  const gpu::GemmPlan plan = gpu::PlanGemm(m, n, k, target);
  DeviceBuffer dx, dw, dout;
  const auto xb = Bits(x, elem), wb = Bits(w, elem);
  Expect(dx.Upload(xb.data(), xb.size() * 2, "x"), "upload");
  Expect(dw.Upload(wb.data(), wb.size() * 2, "w"), "upload");
  Expect(dout.Reserve(static_cast<size_t>(plan.splits) * m * n * 4, "out"), "alloc");
  // NaN everywhere first: an output element the kernel never writes fails.
  Expect(GpuCheck(gpuMemsetAsync(dout.get(), 0xFF, static_cast<size_t>(plan.splits) * m * n * 4, nullptr), "poison"),
         "poison");
  Expect(GpuCheck(gpu::LaunchGemm({dx.get(), dw.get(), dout.get<float>(), m, n, k, elem}, plan, nullptr), "gemm"),
         "gemm launch");
  const auto slices = Download<float>(dout, static_cast<size_t>(plan.splits) * m * n);
  std::vector<float> got(expected.size(), 0.0f);
  for (int s = 0; s < plan.splits; ++s) {
    for (size_t i = 0; i < got.size(); ++i) got[i] += slices[static_cast<size_t>(s) * got.size() + i];
  }
  const double error = RelativeError(got, expected);
  char what[160];
  std::snprintf(what, sizeof what, "gemm %s m=%d n=%d k=%d (%s, %d splits): error %.2e",
                elem == Elem::kBF16 ? "bf16" : "fp16", m, n, k, KernelName(plan.kernel), plan.splits, error);
  Report(error < 1e-4, what);
}

void CheckPrefill(Elem elem, const PagedKvCache& cpu_cache, const DeviceBuffer& k_cache, const DeviceBuffer& v_cache,
                  const float* k_scales, const float* v_scales, int heads, int rows);

void CheckAttention(Elem elem, bool fp8, int heads, int kv_heads, int head_dim, const std::vector<int>& lengths,
                    int prefill_rows = 0) {
  KvCacheConfig config;
  config.layers = 1, config.kv_heads = kv_heads, config.head_dim = head_dim, config.block_size = 16;
  int blocks = 0;
  for (int length : lengths) blocks += (length + 15) / 16;
  config.num_blocks = blocks + 3;
  config.dtype = fp8 ? DType::kF8E4M3 : (elem == Elem::kBF16 ? DType::kBF16 : DType::kF16);
  PagedKvCache cpu_cache(config);
  const int batch = static_cast<int>(lengths.size()), kv_size = kv_heads * head_dim;

  // GPU cache filled through the store kernels from the same fp32 K/V rows.
  const size_t layer_elems = static_cast<size_t>(config.num_blocks) * kv_heads * 16 * head_dim;
  DeviceBuffer k_cache, v_cache, k_scales, v_scales, kv_rows, ints;
  Expect(k_cache.Reserve(layer_elems * (fp8 ? 1 : 2), "k"), "alloc");
  Expect(v_cache.Reserve(layer_elems * (fp8 ? 1 : 2), "v"), "alloc");
  Expect(k_scales.Reserve(static_cast<size_t>(config.num_blocks) * kv_heads * 4, "ks"), "alloc");
  Expect(v_scales.Reserve(static_cast<size_t>(config.num_blocks) * kv_heads * 4, "vs"), "alloc");
  int max_length = 0;
  for (int b = 0; b < batch; ++b) {
    const int seq = cpu_cache.NewSequence(), length = lengths[static_cast<size_t>(b)];
    max_length = std::max(max_length, length);
    Expect(cpu_cache.Grow(seq, length), "grow");
    const auto rows = Random(static_cast<size_t>(length) * 2 * kv_size, 100 + b);
    std::vector<int32_t> row_block(static_cast<size_t>(length)), row_offset(row_block.size()), first, count;
    for (int t = 0; t < length; ++t) {
      const float* row = &rows[static_cast<size_t>(t) * 2 * kv_size];
      cpu_cache.Store(0, seq, t, row, row + kv_size);
      row_block[static_cast<size_t>(t)] = cpu_cache.BlockTable(seq)[static_cast<size_t>(t / 16)];
      row_offset[static_cast<size_t>(t)] = t % 16;
      if (t % 16 == 0) first.push_back(t), count.push_back(0);
      ++count.back();
    }
    // Each sequence in one store: a run of rows per block, as a prefill does.
    std::vector<int32_t> packed = row_block;
    packed.insert(packed.end(), row_offset.begin(), row_offset.end());
    const size_t segments_at = packed.size();
    packed.insert(packed.end(), first.begin(), first.end());
    packed.insert(packed.end(), count.begin(), count.end());
    Expect(ints.Upload(packed.data(), packed.size() * 4, "ints"), "upload");
    Expect(kv_rows.Upload(rows.data(), rows.size() * 4, "kv"), "upload");
    const int32_t* d = ints.get<int32_t>();
    gpu::KvStoreArgs store{kv_rows.get<float>(), length, kv_heads, head_dim, 16, d, d + length,
                           k_cache.get(), v_cache.get()};
    if (fp8) {
      Expect(GpuCheck(gpu::StoreKvFp8({store, d + segments_at, d + segments_at + first.size(),
                                       static_cast<int>(first.size()), k_scales.get<float>(), v_scales.get<float>()},
                                      nullptr),
                      "fp8 store"),
             "fp8 store");
    } else {
      Expect(GpuCheck(gpu::StoreKv(elem, store, nullptr), "store"), "store");
    }
    Expect(GpuCheck(gpuStreamSynchronize(nullptr), "synchronize"), "synchronize");
  }
  if (prefill_rows > 0) {
    CheckPrefill(elem, cpu_cache, k_cache, v_cache, fp8 ? k_scales.get<float>() : nullptr,
                 fp8 ? v_scales.get<float>() : nullptr, heads, prefill_rows);
  }
  if (fp8) {
    // The fp8 bytes must be the CPU cache's, read back through its loader.
    const auto k_bytes = Download<uint8_t>(k_cache, layer_elems);
    const auto scales = Download<float>(k_scales, static_cast<size_t>(config.num_blocks) * kv_heads);
    double worst = 0;
    std::vector<float> expected(static_cast<size_t>(head_dim));
    for (int seq = 0; seq < batch; ++seq) {
      for (int t = 0; t < lengths[static_cast<size_t>(seq)]; ++t) {
        const int block = cpu_cache.BlockTable(seq)[static_cast<size_t>(t / 16)];
        for (int h = 0; h < kv_heads; ++h) {
          cpu_cache.Load(0, seq, t, h, false, expected.data());
          for (int i = 0; i < head_dim; ++i) {
            const size_t slot = ((static_cast<size_t>(block) * kv_heads + h) * 16 + t % 16) * head_dim + i;
            const float got = F8E4M3ToF32(k_bytes[slot]) * scales[static_cast<size_t>(block) * kv_heads + h];
            worst = std::max(worst, static_cast<double>(std::fabs(got - expected[static_cast<size_t>(i)])));
          }
        }
      }
    }
    Report(worst == 0.0, "fp8 K cache matches the CPU cache byte for byte (max diff " + std::to_string(worst) + ")");
  }

  // Queries: one row per sequence at its last position (a decode step).
  const auto q = Rounded(Random(static_cast<size_t>(batch) * heads * head_dim, 7), elem);
  std::vector<float> expected(q.size());
  for (int b = 0; b < batch; ++b) {
    cpu::PagedAttention(cpu_cache, 0, b, lengths[static_cast<size_t>(b)], &q[static_cast<size_t>(b) * heads * head_dim],
                        heads, 1.0f / std::sqrt(static_cast<float>(head_dim)),
                        &expected[static_cast<size_t>(b) * heads * head_dim]);
  }
  int width = 0;
  for (int b = 0; b < batch; ++b) width = std::max(width, static_cast<int>(cpu_cache.BlockTable(b).size()));
  std::vector<int32_t> packed(static_cast<size_t>(batch) * width, 0);
  for (int b = 0; b < batch; ++b) std::copy(cpu_cache.BlockTable(b).begin(), cpu_cache.BlockTable(b).end(),
                                            packed.begin() + static_cast<ptrdiff_t>(b) * width);
  const size_t slot_at = packed.size();
  for (int b = 0; b < batch; ++b) packed.push_back(b);
  const size_t length_at = packed.size();
  for (int length : lengths) packed.push_back(length);
  Expect(ints.Upload(packed.data(), packed.size() * 4, "ints"), "upload");
  const auto q_bits = Bits(q, elem);
  DeviceBuffer dq, dout, scratch;
  Expect(dq.Upload(q_bits.data(), q_bits.size() * 2, "q"), "upload");
  Expect(dout.Reserve(q_bits.size() * 2, "out"), "alloc");
  const int32_t* d = ints.get<int32_t>();
  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  gpu::AttentionArgs args{dq.get(), k_cache.get(), v_cache.get(), fp8 ? k_scales.get<float>() : nullptr,
                          fp8 ? v_scales.get<float>() : nullptr, d, d + slot_at, d + length_at, batch, heads, kv_heads,
                          head_dim, 16, width, scale, dout.get()};
  Expect(GpuCheck(gpu::PagedRowsAttention(elem, fp8, args, nullptr), "attention"), "attention launch");
  double error = RelativeError(FromBits(Download<uint16_t>(dout, q_bits.size()), elem), expected);
  char what[200];
  std::snprintf(what, sizeof what, "rows attention %s%s %d/%d heads, dim %d, lengths %d..%d: error %.2e",
                elem == Elem::kBF16 ? "bf16" : "fp16", fp8 ? " fp8-cache" : "", heads, kv_heads, head_dim,
                *std::min_element(lengths.begin(), lengths.end()), max_length, error);
  // bf16 output rounding is 2^-8 relative.
  Report(error < (elem == Elem::kBF16 ? 1e-2 : 2e-3), what);

  if (elem == Elem::kBF16 && (!fp8 || gpu::kPagedDecodeTakesFp8) && (head_dim == 64 || head_dim == 128)) {
    const int64_t floats = gpu::PagedDecodeScratchFloats(batch, heads, max_length, Multiprocessors());
    Expect(scratch.Reserve(floats * 4, "scratch"), "alloc");
    gpu::PagedDecodeArgs decode{dq.get<gpu_bf16>(), k_cache.get(), v_cache.get(), d, d + length_at,
                                dout.get<gpu_bf16>(), scratch.get<float>(), batch, heads, kv_heads, head_dim, width,
                                max_length, scale};
    if (fp8) decode.k_scales = k_scales.get<float>(), decode.v_scales = v_scales.get<float>();
    Expect(GpuCheck(gpu::LaunchPagedDecode(decode, Multiprocessors(), nullptr), "decode"), "decode launch");
    error = RelativeError(FromBits(Download<uint16_t>(dout, q_bits.size()), elem), expected);
    std::snprintf(what, sizeof what, "split-K decode attention%s %d/%d heads, dim %d, lengths %d..%d: error %.2e",
                  fp8 ? " fp8-cache" : "", heads, kv_heads, head_dim, *std::min_element(lengths.begin(), lengths.end()),
                  max_length, error);
    Report(error < 1e-2, what);
  }
}

// The tensor-core prefill: the last `rows` positions of sequence 0 attend
// causally over its cache, against the CPU row by row.
void CheckPrefill(Elem elem, const PagedKvCache& cpu_cache, const DeviceBuffer& k_cache, const DeviceBuffer& v_cache,
                  const float* k_scales, const float* v_scales, int heads, int rows) {
  const int head_dim = cpu_cache.config().head_dim, kv_heads = cpu_cache.config().kv_heads;
  const int length = cpu_cache.Length(0), start = length - rows;
  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  const auto q = Rounded(Random(static_cast<size_t>(rows) * heads * head_dim, 11), elem);
  std::vector<float> expected(q.size());
  for (int r = 0; r < rows; ++r) {
    cpu::PagedAttention(cpu_cache, 0, 0, start + r + 1, &q[static_cast<size_t>(r) * heads * head_dim], heads, scale,
                        &expected[static_cast<size_t>(r) * heads * head_dim]);
  }
  std::vector<int32_t> packed(cpu_cache.BlockTable(0).begin(), cpu_cache.BlockTable(0).end());
  const size_t length_at = packed.size();
  for (int r = 0; r < rows; ++r) packed.push_back(start + r + 1);
  DeviceBuffer ints, dq, dout;
  const auto q_bits = Bits(q, elem);
  Expect(ints.Upload(packed.data(), packed.size() * 4, "ints"), "upload");
  Expect(dq.Upload(q_bits.data(), q_bits.size() * 2, "q"), "upload");
  Expect(dout.Reserve(q_bits.size() * 2, "out"), "alloc");
  const int32_t* d = ints.get<int32_t>();
  gpu::PrefillArgs args{dq.get(), k_cache.get(), v_cache.get(), d, d + length_at, rows, heads, kv_heads, head_dim,
                        16, scale, dout.get(), k_scales, v_scales};
  Expect(GpuCheck(gpu::LaunchPrefillAttention(elem, args, nullptr), "prefill"), "prefill launch");
  const double error = RelativeError(FromBits(Download<uint16_t>(dout, q_bits.size()), elem), expected);
  char what[200];
  std::snprintf(what, sizeof what, "tensor-core prefill %s%s %d/%d heads, dim %d, rows %d..%d of %d: error %.2e",
                elem == Elem::kBF16 ? "bf16" : "fp16", k_scales ? " fp8-cache" : "", heads, kv_heads, head_dim, start,
                length - 1, length, error);
  // An fp8 cache is widened to the element type times its scale: one more rounding.
  Report(error < (elem == Elem::kBF16 || k_scales ? 2e-2 : 4e-3), what);
}

void CheckArgmax() {
  const int rows = 5, width = 32000;
  auto values = Random(static_cast<size_t>(rows) * width, 21);
  values[1 * width + 7] = values[1 * width + 9000] = 50.0f;  // A tie: the first wins.
  for (int i = 0; i < width; ++i) values[2 * width + i] = -1.0f;  // All equal.
  values[4 * width + width - 1] = 60.0f;                           // The last.
  DeviceBuffer device_values, out;
  Expect(device_values.Upload(values.data(), values.size() * 4, "values"), "upload");
  Expect(out.Reserve(rows * 4, "out"), "alloc");
  Expect(GpuCheck(gpu::ArgmaxRows(device_values.get<float>(), rows, width, out.get<int32_t>(), nullptr), "argmax"),
         "argmax launch");
  const auto got = Download<int32_t>(out, rows);
  bool same = true;
  for (int r = 0; r < rows; ++r) {
    const float* row = &values[static_cast<size_t>(r) * width];
    same = same && got[static_cast<size_t>(r)] == std::max_element(row, row + width) - row;
  }
  Report(same, "argmax rows agree with std::max_element, ties to the first");
}

// The QKV projection's slices summed, Q and K rotated, V passed through, at
// positions where a float angle would already be wrong (32K).
void CheckRope(Elem elem, int heads, int kv_heads, int head_dim) {
  const std::vector<int32_t> positions = {0, 1, 4097, 32767};
  const int rows = static_cast<int>(positions.size()), splits = 3, width = (heads + 2 * kv_heads) * head_dim;
  const auto slices = Random(static_cast<size_t>(splits) * rows * width, 31);
  std::vector<float> expected(static_cast<size_t>(rows) * width, 0.0f);
  for (int s = 0; s < splits; ++s) {
    for (size_t i = 0; i < expected.size(); ++i) expected[i] += slices[static_cast<size_t>(s) * expected.size() + i];
  }
  constexpr float kTheta = 10000.0f;
  for (int r = 0; r < rows; ++r) {
    float* row = &expected[static_cast<size_t>(r) * width];
    cpu::Rope(row, heads + kv_heads, head_dim, positions[static_cast<size_t>(r)], kTheta);  // Q then K.
  }
  DeviceBuffer dslices, dpositions, dq, dkv;
  Expect(dslices.Upload(slices.data(), slices.size() * 4, "slices"), "upload");
  Expect(dpositions.Upload(positions.data(), positions.size() * 4, "positions"), "upload");
  const int q_size = heads * head_dim, kv_size = kv_heads * head_dim;
  Expect(dq.Reserve(static_cast<size_t>(rows) * q_size * 2, "q"), "alloc");
  Expect(dkv.Reserve(static_cast<size_t>(rows) * 2 * kv_size * 4, "kv"), "alloc");
  Expect(GpuCheck(gpuMemsetAsync(dq.get(), 0xFF, static_cast<size_t>(rows) * q_size * 2, nullptr), "poison"), "poison");
  Expect(GpuCheck(gpuMemsetAsync(dkv.get(), 0xFF, static_cast<size_t>(rows) * 2 * kv_size * 4, nullptr), "poison"),
         "poison");
  const gpu::RopeArgs args{dslices.get<float>(), splits, rows, heads, kv_heads, head_dim, dpositions.get<int32_t>(),
                           kTheta, dq.get(), dkv.get<float>()};
  Expect(GpuCheck(gpu::RopeAndSplit(elem, args, nullptr), "rope"), "rope launch");
  const auto q = FromBits(Download<uint16_t>(dq, static_cast<size_t>(rows) * q_size), elem);
  const auto kv = Download<float>(dkv, static_cast<size_t>(rows) * 2 * kv_size);
  std::vector<float> q_expected, kv_expected;
  for (int r = 0; r < rows; ++r) {
    const float* row = &expected[static_cast<size_t>(r) * width];
    q_expected.insert(q_expected.end(), row, row + q_size);
    kv_expected.insert(kv_expected.end(), row + q_size, row + width);
  }
  const double q_error = RelativeError(q, Rounded(q_expected, elem)), kv_error = RelativeError(kv, kv_expected);
  char what[200];
  std::snprintf(what, sizeof what, "rope %s %d/%d heads, dim %d, positions to 32767: q error %.2e, k/v error %.2e",
                elem == Elem::kBF16 ? "bf16" : "fp16", heads, kv_heads, head_dim, q_error, kv_error);
  // q is rounded to the element type on both sides; K and V stay fp32.
  Report(q_error < (elem == Elem::kBF16 ? 8e-3 : 1e-3) && kv_error < 1e-5, what);
}

// The residual add and the next norm in one pass, against the CPU's add
// then RmsNorm: decode rows (one block each, 1,024 threads) and a prefill's.
void CheckAddAndNorm(Elem elem, int rows, int hidden, int splits) {
  const auto slices = Random(static_cast<size_t>(splits) * rows * hidden, 41);
  auto x = Random(static_cast<size_t>(rows) * hidden, 42);
  const auto weight = Random(hidden, 43);
  constexpr float kMultiplier = 0.22f, kEps = 1e-5f;
  DeviceBuffer dslices, dx, dweight, dout;
  Expect(dslices.Upload(slices.data(), slices.size() * 4, "slices"), "upload");
  Expect(dx.Upload(x.data(), x.size() * 4, "x"), "upload");
  Expect(dweight.Upload(weight.data(), weight.size() * 4, "weight"), "upload");
  Expect(dout.Reserve(x.size() * 2, "out"), "alloc");
  Expect(GpuCheck(gpuMemsetAsync(dout.get(), 0xFF, x.size() * 2, nullptr), "poison"), "poison");
  Expect(GpuCheck(gpu::AddAndNorm(elem, dslices.get<float>(), splits, rows, hidden, kMultiplier, dx.get<float>(),
                                  dweight.get<float>(), kEps, dout.get(), nullptr),
                  "add and norm"),
         "add and norm launch");
  for (size_t i = 0; i < x.size(); ++i) {
    float sum = 0;
    for (int s = 0; s < splits; ++s) sum += slices[static_cast<size_t>(s) * x.size() + i];
    x[i] += kMultiplier * sum;
  }
  std::vector<float> normed(x.size());
  cpu::RmsNorm(x.data(), weight.data(), normed.data(), rows, hidden, kEps);
  const double x_error = RelativeError(Download<float>(dx, x.size()), x);
  const double out_error = RelativeError(FromBits(Download<uint16_t>(dout, x.size()), elem), Rounded(normed, elem));
  char what[200];
  std::snprintf(what, sizeof what, "add and norm %s rows %d, hidden %d, %d slices: x error %.2e, out error %.2e",
                elem == Elem::kBF16 ? "bf16" : "fp16", rows, hidden, splits, x_error, out_error);
  Report(x_error < 1e-6 && out_error < (elem == Elem::kBF16 ? 8e-3 : 1e-3), what);
}

// The whole model: GPU logits against the CPU model with the same rounded
// weights, over a prefill and a few decode steps of two sequences.
void CheckModel(DType dtype, DType kv_dtype, int tp_rank, int tp_size) {
  const std::string dir = "/tmp/gauntlet-gpu-checks-model";
  ModelConfig config;
  config.layers = 2, config.hidden = 256, config.heads = 4, config.kv_heads = 2, config.vocab = 512;
  config.intermediate = 704;
  if (tp_rank == 0) Expect(WriteRandomModel(dir, config, 5, DType::kBF16), "make model");
  MPI_Barrier(MPI_COMM_WORLD);
  auto weights = LoadWeights(dir, tp_rank, tp_size, dtype);
  if (!weights) return Report(false, "load weights: " + weights.error().ToString());
  KvCacheConfig cache;
  cache.num_blocks = 64;
  cache.dtype = kv_dtype;
  LlamaModel cpu_model(*weights, MPI_COMM_WORLD, cache);
  auto gpu_model = MakeGpuModel(*weights, dtype, MPI_COMM_WORLD, cache, {tp_rank, 0});
  if (!gpu_model) return Report(false, "gpu model: " + gpu_model.error().ToString());
  const std::vector<std::vector<int>> prompts = {{1, 5, 9, 200, 31, 7, 7, 3, 17, 100, 5, 6, 7, 8, 9, 10, 11, 12},
                                                 {44, 2, 300}};
  std::vector<int> seqs;
  double worst = 0;
  int agree = 0, steps = 0;
  auto compare = [&](const std::vector<float>& a, const std::vector<float>& b) {
    worst = std::max(worst, RelativeError(a, b));
    for (size_t row = 0; row < a.size() / 512; ++row) {
      auto best = [&](const std::vector<float>& v) {
        return std::max_element(v.begin() + row * 512, v.begin() + (row + 1) * 512) - v.begin();
      };
      agree += best(a) == best(b);
      ++steps;
    }
  };
  for (const auto& prompt : prompts) {
    const int s = cpu_model.NewSequence();
    (*gpu_model)->NewSequence();
    seqs.push_back(s);
    compare(*(*gpu_model)->Prefill(s, prompt), *cpu_model.Prefill(s, prompt));
  }
  for (int step = 0; step < 20; ++step) {
    const std::vector<int> feed = {step * 7 % 512, step * 13 % 512};
    compare(*(*gpu_model)->Decode(seqs, feed), *cpu_model.Decode(seqs, feed));
  }
  char what[200];
  std::snprintf(what, sizeof what, "model %s, KV %s, tp %d: logits error %.2e, argmax agrees %d/%d",
                std::string(SafetensorsName(dtype)).c_str(), std::string(SafetensorsName(kv_dtype)).c_str(), tp_size,
                worst, agree, steps);
  Report(worst < 0.05 && agree >= steps * 9 / 10, what);
}

}  // namespace
}  // namespace gauntlet::worker

int main(int argc, char** argv) {
  using namespace gauntlet::worker;
  MPI_Init(&argc, &argv);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int devices = 0;
  if (gpuGetDeviceCount(&devices) != gpuSuccess || devices == 0) {
    std::printf("FAILED: no GPU is visible; these checks need one\n");
    MPI_Finalize();
    return 1;
  }
  if (size == 1) {
    // Every kernel the device can run: on Hopper the prefill shapes go to
    // wgmma, so they are checked once more on mma.sync; decode shapes go to
    // mma.sync or the GEMV by size, so they are checked once more on each.
    const gpu::GemmTarget device = DeviceGemmTarget();
    std::vector<gpu::GemmTarget> targets = {device};
    if (device.wgmma) targets.push_back({device.multiprocessors, true, false});
    if (device.gemv) targets.push_back({device.multiprocessors, false, false, true});
    for (const gpu::GemmTarget& target : targets) {
      for (Elem elem : {Elem::kBF16, Elem::kF16}) {
        // Ragged m, n and k edges; a k split (128 × 512 × 4096); more row
        // tiles than one raster band (2048 rows), and fewer (1100).
        for (auto [m, n, k] : {std::tuple{1, 512, 256}, {8, 3072, 2048}, {37, 1000, 264}, {64, 2048, 2048},
                               {200, 768, 512}, {300, 4096, 1024}, {5, 6, 7}, {65, 520, 5504}, {128, 512, 4096},
                               {1100, 768, 200}, {2048, 2560, 1024},
                               // The GEMV's edges: two batch tiles, an odd vocabulary, k not a
                               // multiple of its 32-element step, a slice capped by shared memory.
                               {16, 512, 2048}, {9, 1000, 520}, {3, 1001, 4096}, {2, 640, 264},
                               {16, 256, 12800}, {1, 4099, 2048}}) {
          if (target.mma_sync || m <= 16) CheckGemm(m, n, k, elem, target);  // The GEMV-only pass: its shapes.
        }
      }
    }
    CheckAttention(Elem::kBF16, false, 32, 8, 128, {1, 15, 16, 17, 33, 100});
    CheckAttention(Elem::kBF16, false, 32, 8, 128, {32768, 4000});
    CheckAttention(Elem::kF16, false, 8, 2, 32, {1, 16, 17, 300});
    CheckAttention(Elem::kBF16, false, 32, 8, 64, {1, 15, 16, 17, 33, 5000});
    // Prefill: whole prompts, and a chunk appended to a cached prefix.
    for (int length : {1, 17, 64, 100, 1000, 4100}) {
      CheckAttention(Elem::kBF16, false, 32, 8, 128, {length}, length);
      CheckAttention(Elem::kF16, false, 32, 8, 64, {length}, length);
    }
    CheckAttention(Elem::kBF16, false, 8, 8, 128, {300}, 37);
    // fp8 caches through the tensor-core prefill and decode.
    CheckAttention(Elem::kBF16, true, 32, 8, 128, {1000}, 1000);
    CheckAttention(Elem::kF16, true, 32, 8, 64, {333}, 333);
    CheckAttention(Elem::kBF16, true, 32, 8, 64, {1, 15, 16, 17, 33, 5000});
    CheckAttention(Elem::kBF16, true, 8, 2, 64, {1, 15, 16, 17, 33, 1000});
    CheckAttention(Elem::kBF16, true, 32, 8, 128, {32768});
    CheckArgmax();
    for (Elem elem : {Elem::kBF16, Elem::kF16}) {
      CheckRope(elem, 32, 8, 128);
      CheckRope(elem, 8, 2, 64);
      CheckAddAndNorm(elem, 1, 4096, 9);
      CheckAddAndNorm(elem, 8, 4096, 16);
      CheckAddAndNorm(elem, 300, 2048, 1);
      CheckAddAndNorm(elem, 3, 5120, 4);  // A cluster's blocks take two groups of columns each.
      CheckAddAndNorm(elem, 2, 2050, 3);  // Not a multiple of 4: one block per row.
    }
    CheckModel(DType::kBF16, DType::kBF16, 0, 1);
    CheckModel(DType::kF16, DType::kF16, 0, 1);
    CheckModel(DType::kBF16, DType::kF8E4M3, 0, 1);
  } else {
    CheckModel(DType::kBF16, DType::kBF16, rank, size);
  }
  int total = failures;
  MPI_Allreduce(MPI_IN_PLACE, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  if (rank == 0) std::printf("%s: %d failed\n", total == 0 ? "all passed" : "FAILED", total);
  MPI_Finalize();
  return total == 0 ? 0 : 1;
}
