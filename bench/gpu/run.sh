#!/usr/bin/env bash
# Builds the GPU kernels with nvcc and runs their benchmarks. Meant for the
# GPU machine (the device tool): bash bench/gpu/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${OUT:-/tmp}"
# Variants side by side: tokens each half-warp keeps in flight.
for tokens in ${TOKENS_IN_FLIGHT:-2}; do
  nvcc -O3 -std=c++20 -gencode=arch=compute_90,code=sm_90 -DGAUNTLET_GPU_CUDA -DGAUNTLET_TOKENS_IN_FLIGHT=$tokens \
    -I. -shared -Xcompiler -fPIC -Xptxas -v -o "$out/libgauntlet_gpu_$tokens.so" \
    worker/kernels/gpu/paged_decode_attention.cu 2> "$out/ptxas_$tokens.txt"
  echo "== $tokens tokens in flight per half-warp: $(grep -E 'registers' "$out/ptxas_$tokens.txt" | sed -n 2p)"
  python3 bench/gpu/paged_attention_bench.py "$out/libgauntlet_gpu_$tokens.so" | tee "$out/paged_attention_$tokens.txt"
done
