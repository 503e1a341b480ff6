#!/usr/bin/env bash
# Builds the GPU kernels with nvcc and runs their benchmarks against PyTorch.
# Meant for the GPU machine (the device tool): bash bench/gpu/run.sh [attention] [gemm] [gemv] [neighbours]
# The whole-model decode step: python3 bench/gpu/decode_step_bench.py build/bin/gauntlet-worker
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${OUT:-/tmp}"
which="${*:-attention gemm}"
nvcc -O3 -std=c++20 -gencode=arch=compute_90a,code=sm_90a -DGAUNTLET_GPU_CUDA -DGAUNTLET_GEMM_WGMMA -DGAUNTLET_GPU_SM90A -I. -shared \
  -Xcompiler -fPIC -Xptxas -v -o "$out/libgauntlet_gpu.so" worker/kernels/gpu/paged_decode_attention.cu \
  worker/kernels/gpu/gemm.cu worker/kernels/gpu/gemm_sm90.cu worker/kernels/gpu/gemv.cu worker/kernels/gpu/gemm_plan.cc \
  2> "$out/ptxas.txt"
if [[ " $which " == *" attention "* ]]; then
  echo "== decode attention"
  python3 bench/gpu/paged_attention_bench.py "$out/libgauntlet_gpu.so" | tee "$out/paged_attention.txt"
fi
if [[ " $which " == *" gemm "* ]]; then
  echo "== GEMM"
  python3 bench/gpu/gemm_bench.py "$out/libgauntlet_gpu.so" | tee "$out/gemm.txt"
fi
if [[ " $which " == *" gemv "* ]]; then
  echo "== decode GEMV on granite-3.3-8b's shapes"
  python3 bench/gpu/gemm_bench.py "$out/libgauntlet_gpu.so" decode | tee "$out/gemv.txt"
fi
if [[ " $which " == *" neighbours "* ]]; then
  echo "== the decode GEMV after each kind of kernel a step runs before it"
  python3 bench/gpu/gemv_neighbours_bench.py "$out/libgauntlet_gpu.so" | tee "$out/gemv_neighbours.txt"
fi
