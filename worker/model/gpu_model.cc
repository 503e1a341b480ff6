// The GPU decoder: host-side orchestration of the kernels in
// worker/kernels/gpu. One stream; the host builds each step's small index
// arrays (positions, block tables, cache slots) and sends them in one copy.
// A decode step's ~90 launches are recorded once as a graph and replayed
// while nothing they captured changes (see ReplayOrCapture).
#include "worker/model/gpu_model.h"

#include "lib/contract/worker_contract.h"

#include <algorithm>
#include <cassert>
#include <cstdint>
#include <cstdlib>
#include <tuple>
#include <unordered_map>

#include <spdlog/spdlog.h>

#include "worker/backend/device_buffer.h"
#include "worker/kernels/gpu/gemm.h"
#include "worker/kernels/gpu/llama_kernels.h"
#include "worker/kernels/gpu/paged_decode_attention.h"
#include "worker/kernels/gpu/prefill_attention.h"
#include "worker/kv/block_tables.h"

namespace gauntlet::worker {
namespace {

using gpu::Elem;

// Weights as the element type's bits (the values are already rounded through
// the model dtype, and fp8 values are exact in bf16).
std::vector<uint16_t> ToElem(const std::vector<float>& values, Elem elem) {
  std::vector<uint16_t> bits(values.size());
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i < values.size(); ++i) {
    bits[i] = elem == Elem::kBF16 ? F32ToBF16(values[i]) : F32ToF16(values[i]);
  }
  return bits;
}

Status UploadElem(DeviceBuffer& buffer, const std::vector<float>& values, Elem elem, const std::string& what) {
  const auto bits = ToElem(values, elem);
  return buffer.Upload(bits.data(), bits.size() * sizeof(uint16_t), what);
}

Status UploadFloats(DeviceBuffer& buffer, const std::vector<float>& values, const std::string& what) {
  return buffer.Upload(values.data(), values.size() * sizeof(float), what);
}

// Rows of several weight matrices stacked into one, so a layer reads its
// Q/K/V (and gate/up) projections in one GEMM.
std::vector<float> Stack(std::initializer_list<const std::vector<float>*> parts) {
  std::vector<float> stacked;
  for (const auto* part : parts) stacked.insert(stacked.end(), part->begin(), part->end());
  return stacked;
}

bool DisabledByEnvironment(const char* name) {
  const char* value = std::getenv(name);
  return value && std::string(value) == "0";
}

struct GpuLayer {
  DeviceBuffer attn_norm, wqkv, wo, ffn_norm, w_gate_up, w_down;
};

// One forward call's rows and the index arrays the kernels read, laid out in
// one int32 buffer.
struct StepIndex {
  std::vector<int32_t> data;
  size_t tokens = 0, positions = 0, row_slot = 0, row_length = 0, row_block = 0, row_offset = 0, want = 0,
         segment_first = 0, segment_rows = 0, tables = 0;
  int slots = 0, segments = 0, max_length = 0;
  int table_width = 0;  // Blocks of the longest sequence in the step.
};

class GpuLlama final : public Model {
 public:
  GpuLlama(const ModelWeights& weights, DType dtype, MPI_Comm comm, const KvCacheConfig& cache)
      : config_(weights.config),
        tp_size_(weights.tp_size),
        comm_(comm),
        elem_(dtype == DType::kF16 ? Elem::kF16 : Elem::kBF16),
        fp8_cache_(cache.dtype == DType::kF8E4M3),
        heads_(weights.local_heads()),
        kv_heads_(weights.local_kv_heads()),
        head_dim_(weights.config.head_dim()),
        inter_(weights.local_intermediate()),
        block_size_(cache.block_size),
        tables_(cache.num_blocks, cache.block_size, cache.shuffle_seed),
        max_blocks_(cache.num_blocks),
        graphs_(weights.tp_size == 1 && !DisabledByEnvironment("GAUNTLET_GPU_GRAPHS")) {}

  ~GpuLlama() override {
    DropGraph();
    if (stream_) (void)gpuStreamDestroy(stream_);
  }

  Status Init(const ModelWeights& weights, int ordinal) {
    GAUNTLET_GPU_RETURN(gpuSetDevice(ordinal));
    GAUNTLET_GPU_RETURN(gpuStreamCreate(&stream_));
    GAUNTLET_GPU_RETURN(gpu::QueryGemmTarget(ordinal, &gemm_target_));
    if (DisabledByEnvironment("GAUNTLET_GPU_GEMV")) gemm_target_.gemv = false;
    GAUNTLET_RETURN_IF_ERROR(UploadElem(embed_, weights.embed, elem_, "the embedding"));
    GAUNTLET_RETURN_IF_ERROR(UploadElem(lm_head_, weights.lm_head, elem_, "the LM head"));
    GAUNTLET_RETURN_IF_ERROR(UploadFloats(final_norm_, weights.final_norm, "the final norm"));
    layers_.resize(weights.layers.size());
    for (size_t l = 0; l < layers_.size(); ++l) {
      const LayerWeights& w = weights.layers[l];
      GpuLayer& g = layers_[l];
      const std::string name = "layer " + std::to_string(l);
      GAUNTLET_RETURN_IF_ERROR(UploadFloats(g.attn_norm, w.attn_norm, name));
      GAUNTLET_RETURN_IF_ERROR(UploadFloats(g.ffn_norm, w.ffn_norm, name));
      GAUNTLET_RETURN_IF_ERROR(UploadElem(g.wqkv, Stack({&w.wq, &w.wk, &w.wv}), elem_, name));
      GAUNTLET_RETURN_IF_ERROR(UploadElem(g.wo, w.wo, elem_, name));
      GAUNTLET_RETURN_IF_ERROR(UploadElem(g.w_gate_up, Stack({&w.w_gate, &w.w_up}), elem_, name));
      GAUNTLET_RETURN_IF_ERROR(UploadElem(g.w_down, w.w_down, elem_, name));
    }
    layer_cache_elems_ = static_cast<size_t>(max_blocks_) * kv_heads_ * block_size_ * head_dim_;
    const size_t cache_bytes = layer_cache_elems_ * layers_.size() * (fp8_cache_ ? 1 : 2);
    GAUNTLET_RETURN_IF_ERROR(k_cache_.Reserve(cache_bytes, "the K cache"));
    GAUNTLET_RETURN_IF_ERROR(v_cache_.Reserve(cache_bytes, "the V cache"));
    if (fp8_cache_) {
      const size_t scale_bytes = static_cast<size_t>(max_blocks_) * kv_heads_ * layers_.size() * sizeof(float);
      GAUNTLET_RETURN_IF_ERROR(k_scales_.Reserve(scale_bytes, "the K scales"));
      GAUNTLET_RETURN_IF_ERROR(v_scales_.Reserve(scale_bytes, "the V scales"));
    }
    spdlog::info("gpu model: device {}, {} SMs ({}{}), {} layers, {} {} weights, KV cache {} blocks × {} tokens ({} MiB, {})",
                 ordinal, gemm_target_.multiprocessors,
                 gemm_target_.wgmma ? "wgmma GEMM" : gemm_target_.mma_sync ? "mma.sync GEMM" : "portable GEMM",
                 gemm_target_.gemv ? ", decode GEMV" : "",
                 layers_.size(), elem_ == Elem::kBF16 ? "bf16" : "fp16",
                 tp_size_ > 1 ? "sharded" : "whole", max_blocks_, block_size_, 2 * cache_bytes >> 20,
                 fp8_cache_ ? "fp8 e4m3" : "model dtype");
    return Status::Ok();
  }

  int NewSequence() override { return tables_.NewSequence(); }
  int vocab() const override { return config_.vocab; }

  StatusOr<std::vector<float>> Prefill(int seq, const std::vector<int>& tokens) override {
    if (tokens.empty()) return Err(Status::InvalidArgument("prefill of an empty prompt"));
    const int start = tables_.Length(seq);
    GAUNTLET_RETURN_IF_ERROR(tables_.Grow(seq, static_cast<int>(tokens.size())));
    std::vector<int> seqs(tokens.size(), seq), positions(tokens.size());
    for (size_t i = 0; i < tokens.size(); ++i) positions[i] = start + static_cast<int>(i);
    GAUNTLET_RETURN_IF_ERROR(Forward(tokens, seqs, positions, {static_cast<int>(tokens.size()) - 1}, false));
    return CopyLogits(1);
  }

  StatusOr<std::vector<float>> Decode(const std::vector<int>& seqs, const std::vector<int>& tokens) override {
    GAUNTLET_RETURN_IF_ERROR(DecodeStep(seqs, tokens));
    return CopyLogits(static_cast<int>(seqs.size()));
  }

  StatusOr<std::vector<int>> DecodeGreedy(const std::vector<int>& seqs, const std::vector<int>& tokens) override {
    GAUNTLET_RETURN_IF_ERROR(DecodeStep(seqs, tokens));
    const int rows = static_cast<int>(seqs.size());
    GAUNTLET_RETURN_IF_ERROR(next_tokens_.Reserve(rows * sizeof(int32_t), "next tokens"));
    GAUNTLET_GPU_RETURN(gpu::ArgmaxRows(logits_.get<float>(), rows, config_.vocab, next_tokens_.get<int32_t>(), stream_));
    std::vector<int> next(static_cast<size_t>(rows));
    GAUNTLET_GPU_RETURN(gpuMemcpyAsync(next.data(), next_tokens_.get(), rows * sizeof(int32_t), gpuMemcpyDeviceToHost,
                                       stream_));
    GAUNTLET_GPU_RETURN(gpuStreamSynchronize(stream_));
    return next;
  }

 private:
  Status DecodeStep(const std::vector<int>& seqs, const std::vector<int>& tokens) {
    std::vector<int> positions(seqs.size()), want(seqs.size());
    for (size_t i = 0; i < seqs.size(); ++i) {
      positions[i] = tables_.Length(seqs[i]);
      GAUNTLET_RETURN_IF_ERROR(tables_.Grow(seqs[i], 1));
      want[i] = static_cast<int>(i);
    }
    return Forward(tokens, seqs, positions, want, /*decode=*/true);
  }

  StatusOr<std::vector<float>> CopyLogits(int rows) {
    std::vector<float> logits(static_cast<size_t>(rows) * config_.vocab);
    GAUNTLET_GPU_RETURN(gpuMemcpyAsync(logits.data(), logits_.get(), logits.size() * sizeof(float),
                                       gpuMemcpyDeviceToHost, stream_));
    GAUNTLET_GPU_RETURN(gpuStreamSynchronize(stream_));
    return logits;
  }

  StepIndex Index(const std::vector<int>& tokens, const std::vector<int>& seqs, const std::vector<int>& positions,
                  const std::vector<int>& want) const {
    const size_t m = tokens.size();
    StepIndex index;
    std::unordered_map<int, int> slot_of;
    std::vector<int> slot_seqs;
    std::vector<int32_t> row_slot(m), row_length(m), row_block(m), row_offset(m), segment_first, segment_rows;
    for (size_t i = 0; i < m; ++i) {
      auto [found, added] = slot_of.try_emplace(seqs[i], static_cast<int>(slot_seqs.size()));
      if (added) slot_seqs.push_back(seqs[i]);
      row_slot[i] = found->second;
      row_length[i] = positions[i] + 1;
      row_block[i] = tables_.Table(seqs[i])[static_cast<size_t>(positions[i] / block_size_)];
      row_offset[i] = positions[i] % block_size_;
      index.max_length = std::max(index.max_length, row_length[i]);
      // fp8 stores go a block at a time, in order: a new run per block.
      if (i == 0 || seqs[i] != seqs[i - 1] || row_block[i] != row_block[i - 1]) {
        segment_first.push_back(static_cast<int32_t>(i));
        segment_rows.push_back(0);
      }
      ++segment_rows.back();
    }
    index.slots = static_cast<int>(slot_seqs.size());
    index.segments = static_cast<int>(segment_first.size());
    auto append = [&](const std::vector<int32_t>& values) {
      const size_t at = index.data.size();
      index.data.insert(index.data.end(), values.begin(), values.end());
      return at;
    };
    index.tokens = append(std::vector<int32_t>(tokens.begin(), tokens.end()));
    index.positions = append(std::vector<int32_t>(positions.begin(), positions.end()));
    index.row_slot = append(row_slot);
    index.row_length = append(row_length);
    index.row_block = append(row_block);
    index.row_offset = append(row_offset);
    index.want = append(std::vector<int32_t>(want.begin(), want.end()));
    index.segment_first = append(segment_first);
    index.segment_rows = append(segment_rows);
    for (int seq : slot_seqs) index.table_width = std::max(index.table_width, static_cast<int>(tables_.Table(seq).size()));
    index.tables = index.data.size();
    index.data.resize(index.data.size() + static_cast<size_t>(index.slots) * index.table_width, 0);
    for (int s = 0; s < index.slots; ++s) {
      const auto& table = tables_.Table(slot_seqs[static_cast<size_t>(s)]);
      std::copy(table.begin(), table.end(),
                index.data.begin() + static_cast<std::ptrdiff_t>(index.tables + static_cast<size_t>(s) * index.table_width));
    }
    return index;
  }

  // out = x · wᵀ into `partial_`; returns the number of k slices written.
  StatusOr<int> Project(const void* x, int m, const DeviceBuffer& w, int n, int k) {
    const gpu::GemmPlan plan = gpu::PlanGemm(m, n, k, gemm_target_);
    assert(partial_.bytes() >= static_cast<size_t>(plan.splits) * m * n * sizeof(float) && "ReserveStep sized it");
    GAUNTLET_GPU_RETURN(gpu::LaunchGemm({x, w.get(), partial_.get<float>(), m, n, k, elem_}, plan, stream_));
    return plan.splits;
  }

  // x += residual_multiplier × (the projection summed over k slices and
  // ranks); with `next_norm`, also h = RmsNorm(x) × next_norm in the same pass.
  Status AddResidual(int splits, int m, const DeviceBuffer* next_norm) {
    const int64_t count = static_cast<int64_t>(m) * config_.hidden;
    const float* sums = partial_.get<float>();
    if (tp_size_ > 1) {
      GAUNTLET_RETURN_IF_ERROR(projected_.Reserve(count * sizeof(float), "the projection"));
      GAUNTLET_GPU_RETURN(gpu::AddSlices(partial_.get<float>(), splits, count, 1.0f, false, projected_.get<float>(),
                                         stream_));
      // Through host memory: any MPI will do, CUDA-aware or not.
      host_.resize(static_cast<size_t>(count));
      GAUNTLET_GPU_RETURN(gpuMemcpyAsync(host_.data(), projected_.get(), count * sizeof(float),
                                         gpuMemcpyDeviceToHost, stream_));
      GAUNTLET_GPU_RETURN(gpuStreamSynchronize(stream_));
      MPI_Allreduce(MPI_IN_PLACE, host_.data(), static_cast<int>(count), MPI_FLOAT, MPI_SUM, comm_);
      GAUNTLET_GPU_RETURN(gpuMemcpyAsync(projected_.get(), host_.data(), count * sizeof(float),
                                         gpuMemcpyHostToDevice, stream_));
      sums = projected_.get<float>();
      splits = 1;
    }
    if (next_norm) {
      GAUNTLET_GPU_RETURN(gpu::AddAndNorm(elem_, sums, splits, m, config_.hidden, config_.residual_multiplier,
                                          x_.get<float>(), next_norm->get<float>(), config_.rms_eps, h_.get(),
                                          stream_));
    } else {
      GAUNTLET_GPU_RETURN(
          gpu::AddSlices(sums, splits, count, config_.residual_multiplier, true, x_.get<float>(), stream_));
    }
    return Status::Ok();
  }

  Status ReserveActivations(int m) {
    const size_t elem = sizeof(uint16_t), rows = static_cast<size_t>(m);
    const size_t q_size = static_cast<size_t>(heads_) * head_dim_, kv_size = static_cast<size_t>(kv_heads_) * head_dim_;
    GAUNTLET_RETURN_IF_ERROR(x_.Reserve(rows * config_.hidden * sizeof(float), "the residual stream"));
    GAUNTLET_RETURN_IF_ERROR(h_.Reserve(rows * config_.hidden * elem, "normed activations"));
    GAUNTLET_RETURN_IF_ERROR(q_.Reserve(rows * q_size * elem, "queries"));
    GAUNTLET_RETURN_IF_ERROR(kv_.Reserve(rows * 2 * kv_size * sizeof(float), "new keys and values"));
    GAUNTLET_RETURN_IF_ERROR(attention_.Reserve(rows * q_size * elem, "attention output"));
    GAUNTLET_RETURN_IF_ERROR(act_.Reserve(rows * inter_ * elem, "MLP activations"));
    return Status::Ok();
  }

  bool UsesDecodeKernel(bool decode) const {
    const int group = heads_ / kv_heads_;
    return decode && elem_ == Elem::kBF16 && (!fp8_cache_ || gpu::kPagedDecodeTakesFp8) &&
           (head_dim_ == 64 || head_dim_ == 128) && block_size_ == 16 &&
           (group == 1 || group == 2 || group == 4 || group == 8);
  }

  Status Attend(int layer, int m, const StepIndex& index, bool decode) {
    const int32_t* ints = ints_.get<int32_t>();
    char* k_cache = LayerCache(k_cache_, layer);
    char* v_cache = LayerCache(v_cache_, layer);
    const size_t scale_offset = static_cast<size_t>(layer) * max_blocks_ * kv_heads_;
    float* k_scales = fp8_cache_ ? k_scales_.get<float>() + scale_offset : nullptr;
    float* v_scales = fp8_cache_ ? v_scales_.get<float>() + scale_offset : nullptr;
    // Model-dtype caches were written by RoPE; fp8 ones are quantized here.
    if (fp8_cache_) {
      const gpu::KvStoreArgs rows{kv_.get<float>(), m, kv_heads_, head_dim_, block_size_, ints + index.row_block,
                                  ints + index.row_offset, k_cache, v_cache};
      GAUNTLET_GPU_RETURN(gpu::StoreKvFp8(
          {rows, ints + index.segment_first, ints + index.segment_rows, index.segments, k_scales, v_scales}, stream_));
    }
    if (UsesDecodeKernel(decode)) {
      // Decode rows are one per sequence, in slot order.
      gpu::PagedDecodeArgs args{q_.get<gpu_bf16>(), k_cache, v_cache, ints + index.tables, ints + index.row_length,
                                attention_.get<gpu_bf16>(), decode_scratch_.get<float>(), m, heads_, kv_heads_,
                                head_dim_, index.table_width, index.max_length, config_.attention_scale()};
      args.k_scales = k_scales;
      args.v_scales = v_scales;
      GAUNTLET_GPU_RETURN(gpu::LaunchPagedDecode(args, gemm_target_.multiprocessors, stream_));
      return Status::Ok();
    }
    if (!decode && index.slots == 1 && gpu::PrefillAttentionSupported(head_dim_, block_size_)) {
      // One sequence's prompt: the tensor-core kernel.
      gpu::PrefillArgs args{q_.get(), k_cache, v_cache, ints + index.tables, ints + index.row_length, m, heads_,
                            kv_heads_, head_dim_, block_size_, config_.attention_scale(), attention_.get()};
      args.k_scales = k_scales;
      args.v_scales = v_scales;
      GAUNTLET_GPU_RETURN(gpu::LaunchPrefillAttention(elem_, args, stream_));
      return Status::Ok();
    }
    gpu::AttentionArgs args{q_.get(), k_cache, v_cache, k_scales, v_scales, ints + index.tables,
                            ints + index.row_slot, ints + index.row_length, m, heads_, kv_heads_, head_dim_,
                            block_size_, index.table_width, config_.attention_scale(), attention_.get()};
    GAUNTLET_GPU_RETURN(gpu::PagedRowsAttention(elem_, fp8_cache_, args, stream_));
    return Status::Ok();
  }

  char* LayerCache(const DeviceBuffer& cache, int layer) const {
    return cache.get<char>() + static_cast<size_t>(layer) * layer_cache_elems_ * (fp8_cache_ ? 1 : 2);
  }

  // Runs the rows through the model; the logits of the rows in `want` are
  // left in logits_.
  Status Forward(const std::vector<int>& tokens, const std::vector<int>& seqs, const std::vector<int>& positions,
                 const std::vector<int>& want, bool decode) {
    const int m = static_cast<int>(tokens.size()), rows = static_cast<int>(want.size());
    for (int token : tokens) {
      if (token < 0 || token >= config_.vocab) {
        return Status::InvalidArgument("token " + std::to_string(token) + " is outside the vocabulary of " +
                                       std::to_string(config_.vocab));
      }
    }
    StepIndex index = Index(tokens, seqs, positions, want);
    // Decode attention splits the tables' whole capacity rather than the
    // longest row, so a step's launches stay the same for 16 steps.
    if (decode) index.max_length = index.table_width * block_size_;
    GAUNTLET_RETURN_IF_ERROR(ints_.Upload(index.data.data(), index.data.size() * sizeof(int32_t), "step indices"));
    GAUNTLET_RETURN_IF_ERROR(ReserveStep(m, rows, index, decode));
    if (!decode || !graphs_) return Enqueue(m, rows, index, decode);
    return ReplayOrCapture(m, index);
  }

  // Every buffer a step writes, at its largest, before any launch: a
  // captured graph must never see a buffer move under it.
  Status ReserveStep(int m, int rows, const StepIndex& index, bool decode) {
    GAUNTLET_RETURN_IF_ERROR(ReserveActivations(m));
    const int q_size = heads_ * head_dim_, kv_size = kv_heads_ * head_dim_, hidden = config_.hidden;
    size_t partial_floats = 0;
    for (auto [rows_in, n, k] : {std::tuple{m, q_size + 2 * kv_size, hidden}, {m, hidden, q_size},
                                 {m, 2 * inter_, hidden}, {m, hidden, inter_}, {rows, config_.vocab, hidden}}) {
      const gpu::GemmPlan plan = gpu::PlanGemm(rows_in, n, k, gemm_target_);
      partial_floats = std::max(partial_floats, static_cast<size_t>(plan.splits) * rows_in * n);
    }
    GAUNTLET_RETURN_IF_ERROR(partial_.Reserve(partial_floats * sizeof(float), "GEMM partial sums"));

    GAUNTLET_RETURN_IF_ERROR(
        logits_.Reserve(static_cast<size_t>(rows) * config_.vocab * sizeof(float), "logits"));
    if (UsesDecodeKernel(decode)) {
      const int64_t floats = gpu::PagedDecodeScratchFloats(m, heads_, index.max_length, gemm_target_.multiprocessors);
      GAUNTLET_RETURN_IF_ERROR(decode_scratch_.Reserve(floats * sizeof(float), "decode attention scratch"));
    }
    return Status::Ok();
  }

  // A decode step's launches depend on the batch (its rows, sequences and
  // cache segments), the block tables' width and the buffers' addresses; the
  // per-step values (tokens, positions, tables) are read from ints_, uploaded
  // before each replay. So one graph serves until one of those changes,
  // every 16 steps at most. TP > 1 runs eagerly: its all-reduce goes through
  // the host mid-step.
  Status ReplayOrCapture(int m, const StepIndex& index) {
    std::vector<uintptr_t> key = {static_cast<uintptr_t>(m), static_cast<uintptr_t>(index.table_width),
                                  static_cast<uintptr_t>(index.slots), static_cast<uintptr_t>(index.segments)};
    for (const DeviceBuffer* buffer : {&ints_, &x_, &h_, &q_, &kv_, &attention_, &act_, &partial_, &logits_,
                                       &decode_scratch_}) {
      key.push_back(reinterpret_cast<uintptr_t>(buffer->get()));
    }
    if (graph_exec_ && key == graph_key_) return GpuCheck(gpuGraphLaunch(graph_exec_, stream_), "decode graph launch");
    DropGraph();
    GAUNTLET_GPU_RETURN(gpuStreamBeginCapture(stream_, gpuStreamCaptureModeRelaxed));
    const Status enqueued = Enqueue(m, m, index, /*decode=*/true);
    gpuGraph_t graph = nullptr;
    const gpuError_t ended = gpuStreamEndCapture(stream_, &graph);
    gpuError_t made = ended;
    if (ended == gpuSuccess && enqueued.ok()) made = gpuGraphInstantiateWithFlags(&graph_exec_, graph, 0);
    if (graph) (void)gpuGraphDestroy(graph);
    GAUNTLET_RETURN_IF_ERROR(enqueued);
    if (made != gpuSuccess) {
      // Graphs only save launch time: run eagerly from here on.
      spdlog::warn("gpu model: decode graph capture failed ({}); launching decode steps one kernel at a time",
                   gpuGetErrorString(made));
      (void)gpuGetLastError();  // The failure is reported above; later calls report their own.
      graph_exec_ = nullptr;
      graphs_ = false;
      return Enqueue(m, m, index, /*decode=*/true);
    }
    graph_key_ = std::move(key);
    return GpuCheck(gpuGraphLaunch(graph_exec_, stream_), "decode graph launch");
  }

  void DropGraph() {
    if (graph_exec_) (void)gpuGraphExecDestroy(graph_exec_);
    graph_exec_ = nullptr;
    graph_key_.clear();
  }

  // The step's launches, in order, on stream_.
  Status Enqueue(int m, int rows, const StepIndex& index, bool decode) {
    const int hidden = config_.hidden;
    const int q_size = heads_ * head_dim_, kv_size = kv_heads_ * head_dim_;
    const int32_t* ints = ints_.get<int32_t>();

    GAUNTLET_GPU_RETURN(gpu::Embed(elem_, embed_.get(), ints + index.tokens, m, hidden, config_.embedding_multiplier,
                                   x_.get<float>(), stream_));
    GAUNTLET_GPU_RETURN(gpu::RmsNorm(elem_, x_.get<float>(), nullptr, m, hidden, layers_[0].attn_norm.get<float>(),
                                     config_.rms_eps, h_.get(), stream_));
    for (size_t l = 0; l < layers_.size(); ++l) {
      const GpuLayer& w = layers_[l];
      GAUNTLET_ASSIGN_OR_RETURN(int splits, Project(h_.get(), m, w.wqkv, q_size + 2 * kv_size, hidden));
      gpu::RopeArgs rope{partial_.get<float>(), splits, m, heads_, kv_heads_, head_dim_, ints + index.positions,
                         config_.rope_theta, q_.get(), kv_.get<float>()};
      if (!fp8_cache_) {
        rope.k_cache = LayerCache(k_cache_, static_cast<int>(l));
        rope.v_cache = LayerCache(v_cache_, static_cast<int>(l));
        rope.row_block = ints + index.row_block;
        rope.row_offset = ints + index.row_offset;
        rope.block_size = block_size_;
      }
      GAUNTLET_GPU_RETURN(gpu::RopeAndSplit(elem_, rope, stream_));
      GAUNTLET_RETURN_IF_ERROR(Attend(static_cast<int>(l), m, index, decode));
      GAUNTLET_ASSIGN_OR_RETURN(splits, Project(attention_.get(), m, w.wo, hidden, q_size));
      GAUNTLET_RETURN_IF_ERROR(AddResidual(splits, m, &w.ffn_norm));

      GAUNTLET_ASSIGN_OR_RETURN(splits, Project(h_.get(), m, w.w_gate_up, 2 * inter_, hidden));
      GAUNTLET_GPU_RETURN(gpu::SwiGlu(elem_, partial_.get<float>(), splits, m, inter_, act_.get(), stream_));
      GAUNTLET_ASSIGN_OR_RETURN(splits, Project(act_.get(), m, w.w_down, hidden, inter_));
      const bool last = l + 1 == layers_.size();
      GAUNTLET_RETURN_IF_ERROR(AddResidual(splits, m, last ? nullptr : &layers_[l + 1].attn_norm));
    }

    GAUNTLET_GPU_RETURN(gpu::RmsNorm(elem_, x_.get<float>(), ints + index.want, rows, hidden,
                                     final_norm_.get<float>(), config_.rms_eps, h_.get(), stream_));
    GAUNTLET_ASSIGN_OR_RETURN(int splits, Project(h_.get(), rows, lm_head_, config_.vocab, hidden));
    const int64_t count = static_cast<int64_t>(rows) * config_.vocab;
    GAUNTLET_GPU_RETURN(gpu::AddSlices(partial_.get<float>(), splits, count, 1.0f / config_.logits_scaling, false,
                                       logits_.get<float>(), stream_));
    return Status::Ok();
  }

  const ModelConfig config_;
  const int tp_size_;
  const MPI_Comm comm_;
  const Elem elem_;
  const bool fp8_cache_;
  const int heads_, kv_heads_, head_dim_, inter_, block_size_;
  BlockTables tables_;
  const int max_blocks_;
  size_t layer_cache_elems_ = 0;
  gpu::GemmTarget gemm_target_;  // Also the SM count.
  gpuStream_t stream_ = nullptr;

  DeviceBuffer embed_, lm_head_, final_norm_;
  std::vector<GpuLayer> layers_;
  DeviceBuffer k_cache_, v_cache_, k_scales_, v_scales_;
  DeviceBuffer ints_, x_, h_, q_, kv_, attention_, act_, partial_, projected_, logits_, decode_scratch_, next_tokens_;
  std::vector<float> host_;
  // The decode graph and what it was captured with; GAUNTLET_GPU_GRAPHS=0
  // turns graphs off (to compare, or to debug one launch at a time).
  bool graphs_ = true;
  gpuGraphExec_t graph_exec_ = nullptr;
  std::vector<uintptr_t> graph_key_;
};

// The device this rank drives: when the agent narrowed the visible devices
// to the job's, rank r uses the r-th of them; otherwise the node's id.
StatusOr<int> Ordinal(const GpuPlacement& placement) {
  int count = 0;
  if (gpuGetDeviceCount(&count) != gpuSuccess || count == 0) {
    (void)gpuGetLastError();  // Clear the sticky error; the status below says what happened.
    return Err(Status::FailedPrecondition("backend 'gpu': no GPU is visible to this worker; run the job on a node "
                                          "whose agent has --devices gpu"));
  }
  bool narrowed = false;
  for (const char* name : {"CUDA_VISIBLE_DEVICES", "HIP_VISIBLE_DEVICES"}) {
    const char* value = std::getenv(name);
    narrowed = narrowed || (value && *value);
  }
  const int ordinal = contract::GpuOrdinal(narrowed, placement.rank, placement.device);
  if (ordinal >= count) {
    return Err(Status::FailedPrecondition("rank " + std::to_string(placement.rank) + " wants GPU " +
                                          std::to_string(ordinal) + " but " + std::to_string(count) +
                                          " are visible; ask for no more devices than the node has"));
  }
  return ordinal;
}

}  // namespace

StatusOr<std::unique_ptr<Model>> MakeGpuModel(const ModelWeights& weights, DType dtype, MPI_Comm comm,
                                              KvCacheConfig cache, GpuPlacement placement) {
  if (dtype == DType::kF32) {
    return Err(Status::InvalidArgument(
        "params.dtype: 'fp32' does not run on the gpu backend, which computes in bf16 or fp16 (fp8 weights are held "
        "as bf16); use bf16, fp16 or fp8, or backend cpu"));
  }
  const int head_dim = weights.config.head_dim();
  if (head_dim != 32 && head_dim != 64 && head_dim != 128 && head_dim != 256) {
    return Err(Status::InvalidArgument("the gpu backend's attention takes head sizes 32, 64, 128 or 256; this "
                                       "model's is " + std::to_string(head_dim)));
  }
  GAUNTLET_ASSIGN_OR_RETURN(int ordinal, Ordinal(placement));
  auto model = std::make_unique<GpuLlama>(weights, dtype, comm, cache);
  GAUNTLET_RETURN_IF_ERROR(model->Init(weights, ordinal));
  return std::unique_ptr<Model>(std::move(model));
}

}  // namespace gauntlet::worker
