// The worker's numerics: number formats, safetensors, the paged KV cache and
// attention, validation metrics.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include <gtest/gtest.h>

#include "worker/kernels/cpu_kernels.h"
#include "worker/kv/paged_cache.h"
#include "worker/metrics/validation.h"
#include "worker/model/dtype.h"
#include "worker/model/safetensors.h"

namespace gauntlet::worker {
namespace {

std::string TempPath(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("gauntlet-" + name + "-" + std::to_string(getpid()))).string();
}

TEST(DTypeTest, RoundingAndLimits) {
  EXPECT_EQ(BF16ToF32(F32ToBF16(1.0f)), 1.0f);
  EXPECT_EQ(BF16ToF32(F32ToBF16(1.00390625f)), 1.0f) << "ties round to even";
  EXPECT_EQ(F16ToF32(F32ToF16(0.1f)), static_cast<float>(static_cast<_Float16>(0.1f)));
  EXPECT_EQ(F8E4M3ToF32(F32ToF8E4M3(448.0f)), 448.0f);
  EXPECT_EQ(F8E4M3ToF32(F32ToF8E4M3(1000.0f)), 448.0f) << "saturates";
  EXPECT_EQ(F8E4M3ToF32(F32ToF8E4M3(-1.0f)), -1.0f);
  EXPECT_EQ(F8E4M3ToF32(F32ToF8E4M3(std::ldexp(1.0f, -9))), std::ldexp(1.0f, -9)) << "smallest subnormal";
  EXPECT_TRUE(std::isnan(F8E4M3ToF32(0x7f)));
  // Every finite fp8 value survives a round trip.
  for (int bits = 0; bits < 256; ++bits) {
    float value = F8E4M3ToF32(static_cast<uint8_t>(bits));
    if (std::isnan(value)) continue;
    EXPECT_EQ(F8E4M3ToF32(F32ToF8E4M3(value)), value) << bits;
  }
  // Relative error of normal values is at most half a mantissa step (2^-4).
  std::mt19937 random(1);
  std::uniform_real_distribution<float> uniform(0.02f, 400.0f);
  for (int i = 0; i < 10000; ++i) {
    float value = uniform(random);
    EXPECT_LE(std::fabs(RoundTrip(value, DType::kF8E4M3) - value), value * 0.0625f + 1e-6f) << value;
  }
}

TEST(SafetensorsTest, RoundTripsEveryDTypeAndReadsShards) {
  std::map<std::string, Tensor> tensors;
  Tensor matrix{{3, 4}, {}};
  for (int i = 0; i < 12; ++i) matrix.data.push_back(0.25f * i - 1.0f);
  tensors["m"] = matrix;
  tensors["v"] = Tensor{{2}, {1.5f, -2.0f}};
  for (DType dtype : {DType::kF32, DType::kF16, DType::kBF16, DType::kF8E4M3}) {
    std::string path = TempPath("st") + std::string(SafetensorsName(dtype));
    ASSERT_TRUE(WriteSafetensors(path, tensors, dtype).ok());
    auto file = SafetensorsFile::Open(path);
    ASSERT_TRUE(file.has_value()) << file.error().ToString();
    auto whole = file->Read("m");
    ASSERT_TRUE(whole.has_value());
    EXPECT_EQ(whole->shape, (std::vector<int64_t>{3, 4}));
    for (size_t i = 0; i < 12; ++i) EXPECT_EQ(whole->data[i], RoundTrip(matrix.data[i], dtype)) << SafetensorsName(dtype);
    auto rows = file->Read("m", 1, 3);
    ASSERT_TRUE(rows.has_value());
    EXPECT_EQ(rows->data.front(), whole->data[4]);
    auto cols = file->Read("m", 0, -1, 2, 4);
    ASSERT_TRUE(cols.has_value());
    EXPECT_EQ(cols->shape, (std::vector<int64_t>{3, 2}));
    EXPECT_EQ(cols->data[2], whole->data[6]);
    EXPECT_FALSE(file->Read("missing").has_value());
    EXPECT_FALSE(file->Read("m", 2, 5).has_value());
    std::filesystem::remove(path);
  }
}

TEST(SafetensorsTest, RefusesCorruptFiles) {
  std::string path = TempPath("bad");
  // A valid header length, then a header whose tensor lacks dtype and shape.
  const std::string bytes("\x0a\0\0\0\0\0\0\0{\"x\": 1} ", 18);
  std::ofstream(path, std::ios::binary) << bytes;
  EXPECT_FALSE(SafetensorsFile::Open(path).has_value());
  std::filesystem::remove(path);
}

// Fills a paged and a contiguous cache with the same K/V and compares attention.
void ComparePagedToContiguous(int length, DType dtype, float tolerance) {
  const int kv_heads = 2, heads = 8, head_dim = 32;
  KvCacheConfig config{1, kv_heads, head_dim, 16, (length + 15) / 16 + 2, dtype, 7};
  PagedKvCache cache(config);
  int seq = cache.NewSequence();
  ASSERT_TRUE(cache.Grow(seq, length).ok());
  std::mt19937 random(static_cast<unsigned>(length));
  std::normal_distribution<float> normal(0, 1);
  std::vector<float> k(static_cast<size_t>(length) * kv_heads * head_dim), v(k.size());
  for (auto& x : k) x = normal(random);
  for (auto& x : v) x = normal(random);
  for (int t = 0; t < length; ++t) {
    cache.Store(0, seq, t, &k[static_cast<size_t>(t) * kv_heads * head_dim], &v[static_cast<size_t>(t) * kv_heads * head_dim]);
  }
  std::vector<float> q(static_cast<size_t>(heads) * head_dim);
  for (auto& x : q) x = normal(random);
  std::vector<float> paged(q.size()), contiguous(q.size());
  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  cpu::PagedAttention(cache, 0, seq, length, q.data(), heads, scale, paged.data());
  cpu::ContiguousAttention(k.data(), v.data(), length, kv_heads, head_dim, q.data(), heads, scale, contiguous.data());
  float worst = 0;
  for (size_t i = 0; i < q.size(); ++i) worst = std::max(worst, std::fabs(paged[i] - contiguous[i]));
  EXPECT_LE(worst, tolerance) << "length " << length;
}

TEST(PagedAttentionTest, MatchesContiguousAcrossBlockBoundaries) {
  for (int length : {1, 15, 16, 17, 31, 32, 33, 100}) ComparePagedToContiguous(length, DType::kF32, 1e-5f);
}

TEST(PagedAttentionTest, MatchesContiguousAt32K) { ComparePagedToContiguous(32768, DType::kF32, 1e-4f); }

TEST(PagedAttentionTest, Fp8CacheStaysWithinItsErrorBound) {
  // fp8 e4m3 keeps ~2^-4 relative precision per value; attention outputs of
  // unit-variance data then stay within a few hundredths.
  for (int length : {17, 300}) ComparePagedToContiguous(length, DType::kF8E4M3, 0.08f);
}

// A prefill's rows at once against the plain kernel row by row: same cache,
// every row its own causal length, GQA groups, block edges, fp8 blocks.
void CompareCausalToRowByRow(int first, int rows, DType dtype) {
  const int kv_heads = 2, heads = 8, head_dim = 32, length = first + rows;
  KvCacheConfig config{2, kv_heads, head_dim, 16, (length + 15) / 16 + 1, dtype, 5};
  PagedKvCache cache(config);
  const int seq = cache.NewSequence();
  ASSERT_TRUE(cache.Grow(seq, length).ok());
  std::mt19937 random(static_cast<unsigned>(first * 1000 + rows));
  std::normal_distribution<float> normal(0, 1);
  std::vector<float> k(static_cast<size_t>(kv_heads) * head_dim), v(k.size());
  for (int layer = 0; layer < 2; ++layer) {
    for (int t = 0; t < length; ++t) {
      for (auto& x : k) x = 2 * normal(random);
      for (auto& x : v) x = normal(random);
      cache.Store(layer, seq, t, k.data(), v.data());
    }
  }
  std::vector<float> q(static_cast<size_t>(rows) * heads * head_dim);
  for (auto& x : q) x = normal(random);
  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  std::vector<float> together(q.size(), NAN), row_by_row(q.size());
  cpu::PagedCausalAttention(cache, 1, seq, first, rows, q.data(), heads, scale, together.data());
  for (int r = 0; r < rows; ++r) {
    const size_t at = static_cast<size_t>(r) * heads * head_dim;
    cpu::PagedAttention(cache, 1, seq, first + r + 1, &q[at], heads, scale, &row_by_row[at]);
  }
  for (size_t i = 0; i < q.size(); ++i) {
    ASSERT_NEAR(together[i], row_by_row[i], 2e-6f)
        << "first " << first << " rows " << rows << " row " << i / (heads * head_dim) << " value " << i;
  }
}

TEST(PagedAttentionTest, CausalRowsTogetherMatchTheRowByRowKernel) {
  for (auto [first, rows] : {std::pair{0, 1}, {0, 17}, {0, 40}, {15, 2}, {16, 1}, {31, 33}, {100, 5}}) {
    CompareCausalToRowByRow(first, rows, DType::kF32);
  }
  CompareCausalToRowByRow(0, 300, DType::kF32);
  CompareCausalToRowByRow(0, 50, DType::kBF16);
  CompareCausalToRowByRow(7, 60, DType::kF8E4M3);
  CompareCausalToRowByRow(32760, 8, DType::kF32);    // a 32K context
  CompareCausalToRowByRow(32600, 130, DType::kF32);  // 32K: the scores take two passes of rows
}

TEST(PagedCacheTest, BlocksComeFromAShuffledPoolAndRunOut) {
  PagedKvCache cache({1, 1, 8, 16, 4, DType::kF32, 3});
  int a = cache.NewSequence();
  ASSERT_TRUE(cache.Grow(a, 40).ok());
  EXPECT_EQ(cache.BlockTable(a).size(), 3u);
  bool contiguous = true;
  for (size_t i = 1; i < cache.BlockTable(a).size(); ++i) {
    contiguous &= cache.BlockTable(a)[i] == cache.BlockTable(a)[i - 1] + 1;
  }
  EXPECT_FALSE(contiguous) << "blocks should not be handed out in order";
  int b = cache.NewSequence();
  EXPECT_FALSE(cache.Grow(b, 17).ok()) << "only one block is left";
  cache.Release(a);
  EXPECT_TRUE(cache.Grow(b, 17).ok());
}

TEST(ValidationTest, IdenticalLogitsPassAndACorruptedRowFails) {
  const int vocab = 64, steps = 8;
  std::mt19937 random(5);
  std::normal_distribution<float> normal(0, 3);
  std::vector<float> reference(static_cast<size_t>(vocab) * steps);
  for (auto& x : reference) x = normal(random);
  Verdict same = ValidateMetrics(reference, reference, vocab, {});
  EXPECT_TRUE(same.pass) << same.reason;
  EXPECT_EQ(same.failed_steps, 0);
  // Entropy of the reference's top-20: what a perfect match scores.
  EXPECT_GT(same.mean_cross_entropy, 0);

  std::vector<float> corrupted = reference;
  for (int i = 0; i < vocab; ++i) corrupted[static_cast<size_t>(3 * vocab + i)] = normal(random) * 10;
  MetricThresholds thresholds;
  thresholds.cross_entropy = same.max_cross_entropy + 0.5;
  Verdict bad = ValidateMetrics(reference, corrupted, vocab, thresholds);
  EXPECT_FALSE(bad.pass);
  EXPECT_EQ(bad.failed_steps, 1);
  EXPECT_NE(bad.reason.find("1 of 8 steps"), std::string::npos) << bad.reason;

  EXPECT_TRUE(ValidateTokens({{1, 2, 3}}, {{1, 2, 3}}).pass);
  EXPECT_FALSE(ValidateTokens({{1, 2, 3}}, {{1, 2, 4}}).pass);
}

TEST(ValidationTest, AThresholdBelowTheReferencesEntropyIsNamedNotBlamedOnTheDevice) {
  // A random model's logits: nearly flat, so the top-20 entropy is near ln 20 ≈ 3.0 nats.
  const int vocab = 512, steps = 16;
  std::mt19937 random(3);
  std::normal_distribution<float> normal(0, 0.3f);
  std::vector<float> reference(static_cast<size_t>(vocab) * steps);
  for (auto& x : reference) x = normal(random);
  MetricThresholds seed;  // The seed's cross-entropy threshold.
  seed.cross_entropy = 2.44;
  seed.failure_rate = 0.6;
  Verdict trapped = ValidateMetrics(reference, reference, vocab, seed);
  EXPECT_FALSE(trapped.pass);
  EXPECT_EQ(trapped.unreachable_steps, steps);
  EXPECT_GT(trapped.min_reference_entropy, 2.44);
  EXPECT_LT(trapped.max_kl, 1e-12) << "the device matches the reference exactly";
  EXPECT_NE(trapped.reason.find("lies below the reference's own entropy on 16 of 16 steps"), std::string::npos)
      << trapped.reason;
  EXPECT_NE(trapped.reason.find("kl_threshold"), std::string::npos) << trapped.reason;

  // Judged by KL instead, the same device passes, and one that is off fails.
  MetricThresholds by_kl;
  by_kl.cross_entropy = 100;
  by_kl.kl = 0.05;
  EXPECT_TRUE(ValidateMetrics(reference, reference, vocab, by_kl).pass);
  std::vector<float> off = reference;
  for (size_t i = 0; i < off.size(); ++i) off[i] += normal(random) * 3;
  Verdict bad = ValidateMetrics(reference, off, vocab, by_kl);
  EXPECT_FALSE(bad.pass);
  EXPECT_EQ(bad.unreachable_steps, 0);
  EXPECT_NE(bad.reason.find("reached KL 0.05"), std::string::npos) << bad.reason;
  for (const StepMetrics& step : bad.per_step) {
    EXPECT_NEAR(step.kl, step.cross_entropy - step.reference_entropy, 1e-9);
    EXPECT_GE(step.kl, 0);
  }
  EXPECT_EQ(bad.per_step.size(), static_cast<size_t>(steps));
}

TEST(ValidationTest, TopOneAgreementIsReportedAndCanBeRequired) {
  const int vocab = 64, steps = 10;
  std::mt19937 random(11);
  std::normal_distribution<float> normal(0, 3);
  std::vector<float> reference(static_cast<size_t>(vocab) * steps);
  for (auto& x : reference) x = normal(random);
  std::vector<float> device = reference;
  for (int step : {1, 4, 8}) {  // Another token wins these steps.
    float* row = &device[static_cast<size_t>(step) * vocab];
    const int top = static_cast<int>(std::max_element(row, row + vocab) - row);
    row[(top + 1) % vocab] = row[top] + 1;
  }
  MetricThresholds thresholds;
  thresholds.cross_entropy = 100;
  thresholds.failure_rate = 1.0;
  Verdict reported = ValidateMetrics(reference, device, vocab, thresholds);
  EXPECT_TRUE(reported.pass) << "not judged unless asked";
  EXPECT_DOUBLE_EQ(reported.top1_agreement, 0.7);
  EXPECT_FALSE(reported.per_step[4].top1_agrees);
  EXPECT_TRUE(reported.per_step[5].top1_agrees);
  thresholds.top1_agreement = 0.9;
  Verdict required = ValidateMetrics(reference, device, vocab, thresholds);
  EXPECT_FALSE(required.pass);
  EXPECT_NE(required.reason.find("top-1 agreement 0.7 < 0.9"), std::string::npos) << required.reason;
}

TEST(ValidationTest, AStepFailsPastEitherThreshold) {
  const int vocab = 64, steps = 10;
  std::mt19937 random(9);
  std::normal_distribution<float> normal(0, 3);
  std::vector<float> reference(static_cast<size_t>(vocab) * steps);
  for (auto& x : reference) x = normal(random);
  // Two steps nudged: their cross-entropy barely moves, their softmax does.
  std::vector<float> nudged = reference;
  for (int step : {2, 7}) {
    for (int i = 0; i < vocab; ++i) nudged[static_cast<size_t>(step * vocab + i)] += normal(random) * 0.3f;
  }
  MetricThresholds thresholds;
  thresholds.cross_entropy = 100;  // Never reached.
  thresholds.failure_rate = 0.1;
  Verdict unchecked = ValidateMetrics(reference, nudged, vocab, thresholds);
  EXPECT_TRUE(unchecked.pass) << "the difference is not judged unless a threshold is set";
  EXPECT_GT(unchecked.max_mean_abs_diff, 0);

  thresholds.mean_abs_diff = unchecked.max_mean_abs_diff / 2;
  Verdict checked = ValidateMetrics(reference, nudged, vocab, thresholds);
  EXPECT_FALSE(checked.pass);
  EXPECT_GE(checked.failed_steps, 1);
  EXPECT_LE(checked.failed_steps, 2) << "untouched steps differ by nothing";
  EXPECT_NE(checked.reason.find("mean softmax difference"), std::string::npos) << checked.reason;
}

}  // namespace
}  // namespace gauntlet::worker

#include <sentencepiece_trainer.h>

#include "worker/model/tokenizer.h"

namespace gauntlet::worker {
namespace {

TEST(TokenizerTest, SentencePieceModelsRoundTrip) {
  // No downloads here: train a small SentencePiece model on the example data.
  const std::string dir = TempPath("spm");
  std::filesystem::create_directories(dir);
  {
    std::ofstream corpus(dir + "/corpus.txt");
    for (int i = 0; i < 200; ++i) {
      corpus << "the paged cache keeps sequence " << i << " in fixed blocks of sixteen tokens\n";
      corpus << "validation compares device logits with the cpu reference at step " << i % 7 << "\n";
    }
  }
  auto trained = sentencepiece::SentencePieceTrainer::Train("--input=" + dir + "/corpus.txt --model_prefix=" + dir +
                                                            "/tokenizer --vocab_size=120 --model_type=bpe "
                                                            "--minloglevel=2");
  ASSERT_TRUE(trained.ok()) << trained.ToString();
  auto tokenizer = LoadTokenizer(dir);
  ASSERT_TRUE(tokenizer.has_value()) << tokenizer.error().ToString();
  EXPECT_EQ((*tokenizer)->VocabSize(), 120);
  const std::string text = "the cache keeps fixed blocks";
  std::vector<int> ids = (*tokenizer)->Encode(text);
  EXPECT_LT(ids.size(), text.size()) << "merges should make fewer tokens than bytes";
  EXPECT_EQ((*tokenizer)->Decode(ids), text);
  std::filesystem::remove_all(dir);
}

TEST(TokenizerTest, BytesAndMissingTokenizers) {
  auto bytes = ByteTokenizer();
  EXPECT_EQ(bytes->Encode("A"), std::vector<int>{65 + kByteTokenOffset});
  EXPECT_EQ(bytes->Decode(bytes->Encode("héllo")), "héllo");
  const std::string dir = TempPath("notok");
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/config.json") << "{}";
  auto missing = LoadTokenizer(dir);
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message().find("no tokenizer.model"), std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace gauntlet::worker
