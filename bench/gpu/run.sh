#!/usr/bin/env bash
# Builds the GPU kernels with nvcc and runs their benchmarks. Meant for the
# GPU machine (the device tool): bash bench/gpu/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${OUT:-/tmp}"
nvcc -O3 -std=c++20 -gencode=arch=compute_90,code=sm_90 -DGAUNTLET_GPU_CUDA -I. -shared -Xcompiler -fPIC \
  -Xptxas -v -o "$out/libgauntlet_gpu.so" worker/kernels/gpu/paged_decode_attention.cu 2> "$out/ptxas.txt"
grep -E "registers|spill" "$out/ptxas.txt" | head -6
python3 bench/gpu/paged_attention_bench.py "$out/libgauntlet_gpu.so" | tee "$out/paged_attention.txt"
