#include "worker/model/llama.h"

#include <algorithm>

#include "worker/kernels/cpu_kernels.h"

namespace gauntlet::worker {

LlamaModel::LlamaModel(const ModelWeights& weights, MPI_Comm comm, KvCacheConfig cache)
    : weights_(weights), comm_(comm), cache_([&] {
        cache.layers = weights.config.layers;
        cache.kv_heads = weights.local_kv_heads();
        cache.head_dim = weights.config.head_dim();
        return cache;
      }()) {}

void LlamaModel::AllReduce(std::vector<float>& values) {
  if (weights_.tp_size == 1) return;
  MPI_Allreduce(MPI_IN_PLACE, values.data(), static_cast<int>(values.size()), MPI_FLOAT, MPI_SUM, comm_);
}

StatusOr<std::vector<float>> LlamaModel::Prefill(int seq, const std::vector<int>& tokens) {
  if (tokens.empty()) return Err(Status::InvalidArgument("prefill of an empty prompt"));
  const int start = cache_.Length(seq);
  GAUNTLET_RETURN_IF_ERROR(cache_.Grow(seq, static_cast<int>(tokens.size())));
  std::vector<int> seqs(tokens.size(), seq), positions(tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i) positions[i] = start + static_cast<int>(i);
  return Forward(tokens, seqs, positions, {static_cast<int>(tokens.size()) - 1});
}

StatusOr<std::vector<float>> LlamaModel::Decode(const std::vector<int>& seqs, const std::vector<int>& tokens) {
  std::vector<int> positions(seqs.size()), want(seqs.size());
  for (size_t i = 0; i < seqs.size(); ++i) {
    positions[i] = cache_.Length(seqs[i]);
    GAUNTLET_RETURN_IF_ERROR(cache_.Grow(seqs[i], 1));
    want[i] = static_cast<int>(i);
  }
  return Forward(tokens, seqs, positions, want);
}

std::vector<float> LlamaModel::Forward(const std::vector<int>& tokens, const std::vector<int>& seqs,
                                       const std::vector<int>& positions, const std::vector<int>& want) {
  const ModelConfig& c = weights_.config;
  const int m = static_cast<int>(tokens.size());
  const int hidden = c.hidden, head_dim = c.head_dim();
  const int heads = weights_.local_heads(), kv_heads = weights_.local_kv_heads();
  const int q_size = heads * head_dim, kv_size = kv_heads * head_dim, inter = weights_.local_intermediate();

  std::vector<float> x(static_cast<size_t>(m) * hidden);
  for (int i = 0; i < m; ++i) {
    const float* row = &weights_.embed[static_cast<size_t>(tokens[static_cast<size_t>(i)]) * hidden];
    for (int j = 0; j < hidden; ++j) x[static_cast<size_t>(i) * hidden + j] = row[j] * c.embedding_multiplier;
  }
  std::vector<float> h(x.size()), q(static_cast<size_t>(m) * q_size), k(static_cast<size_t>(m) * kv_size),
      v(static_cast<size_t>(m) * kv_size), attention(static_cast<size_t>(m) * q_size), projected(x.size()),
      gate(static_cast<size_t>(m) * inter), up(static_cast<size_t>(m) * inter), act(static_cast<size_t>(m) * inter);

  for (int l = 0; l < c.layers; ++l) {
    const LayerWeights& w = weights_.layers[static_cast<size_t>(l)];
    cpu::RmsNorm(x.data(), w.attn_norm.data(), h.data(), m, hidden, c.rms_eps);
    cpu::MatMulTransposed(h.data(), w.wq.data(), q.data(), m, q_size, hidden);
    cpu::MatMulTransposed(h.data(), w.wk.data(), k.data(), m, kv_size, hidden);
    cpu::MatMulTransposed(h.data(), w.wv.data(), v.data(), m, kv_size, hidden);
    for (int i = 0; i < m; ++i) {
      cpu::Rope(&q[static_cast<size_t>(i) * q_size], heads, head_dim, positions[static_cast<size_t>(i)], c.rope_theta);
      cpu::Rope(&k[static_cast<size_t>(i) * kv_size], kv_heads, head_dim, positions[static_cast<size_t>(i)], c.rope_theta);
      cache_.Store(l, seqs[static_cast<size_t>(i)], positions[static_cast<size_t>(i)], &k[static_cast<size_t>(i) * kv_size],
                   &v[static_cast<size_t>(i) * kv_size]);
    }
    // Causal: a row attends to its sequence up to and including its position.
    // Rows of one sequence at consecutive positions (a prefill) go together.
    for (int i = 0; i < m;) {
      int end = i + 1;
      while (end < m && seqs[static_cast<size_t>(end)] == seqs[static_cast<size_t>(i)] &&
             positions[static_cast<size_t>(end)] == positions[static_cast<size_t>(end) - 1] + 1) {
        ++end;
      }
      cpu::PagedCausalAttention(cache_, l, seqs[static_cast<size_t>(i)], positions[static_cast<size_t>(i)], end - i,
                                &q[static_cast<size_t>(i) * q_size], heads, c.attention_scale(),
                                &attention[static_cast<size_t>(i) * q_size]);
      i = end;
    }
    cpu::MatMulTransposed(attention.data(), w.wo.data(), projected.data(), m, hidden, q_size);
    AllReduce(projected);
    for (size_t i = 0; i < x.size(); ++i) x[i] += c.residual_multiplier * projected[i];

    cpu::RmsNorm(x.data(), w.ffn_norm.data(), h.data(), m, hidden, c.rms_eps);
    cpu::MatMulTransposed(h.data(), w.w_gate.data(), gate.data(), m, inter, hidden);
    cpu::MatMulTransposed(h.data(), w.w_up.data(), up.data(), m, inter, hidden);
    cpu::SwiGlu(gate.data(), up.data(), act.data(), m * inter);
    cpu::MatMulTransposed(act.data(), w.w_down.data(), projected.data(), m, hidden, inter);
    AllReduce(projected);
    for (size_t i = 0; i < x.size(); ++i) x[i] += c.residual_multiplier * projected[i];
  }

  std::vector<float> last(want.size() * static_cast<size_t>(hidden)), normed(last.size());
  for (size_t i = 0; i < want.size(); ++i) {
    std::copy_n(&x[static_cast<size_t>(want[i]) * hidden], hidden, &last[i * hidden]);
  }
  cpu::RmsNorm(last.data(), weights_.final_norm.data(), normed.data(), static_cast<int>(want.size()), hidden, c.rms_eps);
  std::vector<float> logits(want.size() * static_cast<size_t>(c.vocab));
  cpu::MatMulTransposed(normed.data(), weights_.lm_head.data(), logits.data(), static_cast<int>(want.size()), c.vocab,
                        hidden);
  if (c.logits_scaling != 1.0f) {
    for (float& value : logits) value /= c.logits_scaling;
  }
  return logits;
}

}  // namespace gauntlet::worker
