#!/usr/bin/env bash
# Builds the GPU kernels with nvcc and runs their benchmarks against PyTorch.
# Meant for the GPU machine (the device tool): bash bench/gpu/run.sh [attention|gemm ...]
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${OUT:-/tmp}"
which="${*:-attention gemm}"
variants="${TOKENS_IN_FLIGHT:-2}"
# Variants side by side: tokens each half-warp keeps in flight in decode attention.
for tokens in $variants; do
  nvcc -O3 -std=c++20 -gencode=arch=compute_90,code=sm_90 -DGAUNTLET_GPU_CUDA -DGAUNTLET_TOKENS_IN_FLIGHT=$tokens \
    -I. -shared -Xcompiler -fPIC -Xptxas -v -o "$out/libgauntlet_gpu_$tokens.so" \
    worker/kernels/gpu/paged_decode_attention.cu worker/kernels/gpu/gemm.cu 2> "$out/ptxas_$tokens.txt"
  if [[ " $which " == *" attention "* ]]; then
    echo "== decode attention, $tokens tokens in flight per half-warp"
    python3 bench/gpu/paged_attention_bench.py "$out/libgauntlet_gpu_$tokens.so" | tee "$out/paged_attention_$tokens.txt"
  fi
done
if [[ " $which " == *" gemm "* ]]; then
  echo "== GEMM"
  python3 bench/gpu/gemm_bench.py "$out/libgauntlet_gpu_${variants%% *}.so" | tee "$out/gemm.txt"
fi
