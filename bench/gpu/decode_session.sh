#!/usr/bin/env bash
# The decode step's measurements in one device call (the GPU machine's lease
# is short): builds the worker and the CUPTI tracer, then runs the parts
# named, in order, writing every log under $OUT and a short summary last.
#
#   bash bench/gpu/decode_session.sh [checks] [timeline] [gemv] [neighbours] [8b CASE ...]
#
#   checks    the kernel and model checks (gpu_kernel_checks)
#   timeline  the 8B shapes with 8 layers at 1x1024 and 8x1024, unchained and
#             chained, with the replayed step kernel by kernel
#   gemv      the decode GEMM table (bench/gpu/run.sh gemv, m = 1 and 8)
#   neighbours the GEMV after each kind of kernel a step runs before it
#   8b        the whole 8B-shaped model at the cases given (BATCHxCONTEXT),
#             graph mode; each case loads the 16.7 GB model once
set -uo pipefail
cd "$(dirname "$0")/../.."
out="${OUT:-/tmp}"
cmake -S . -B build-gpu -G Ninja -DGAUNTLET_WORKER_ONLY=ON -DGAUNTLET_GPU=cuda -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$PWD/.deps/usr" > "$out/cmake.txt" 2>&1
ninja -C build-gpu > "$out/build.txt" 2>&1 || { tail -30 "$out/build.txt"; exit 1; }
cuda=$(dirname "$(dirname "$(command -v nvcc)")")
cupti=$(dirname "$(find "$cuda/" -name 'libcupti.so*' | head -1)")
tracer=/tmp/libtimeline.so
g++ -O2 -shared -fPIC -I"$cuda/include" bench/gpu/kernel_timeline.cc -L"$cupti" -Wl,-rpath,"$cupti" -lcupti \
  -o "$tracer"
worker=build-gpu/bin/gauntlet-worker

parts=("$@")
[[ $# -eq 0 ]] && parts=(checks timeline)
summary=()
while [[ ${#parts[@]} -gt 0 ]]; do
  part=${parts[0]}
  parts=("${parts[@]:1}")
  case "$part" in
    checks)
      build-gpu/bin/gpu_kernel_checks > "$out/checks.txt" 2>&1
      summary+=("checks: $(tail -1 "$out/checks.txt")")
      ;;
    timeline)
      python3 bench/gpu/decode_step_bench.py "$worker" --model 8b --layers 8 --model-dir /tmp/model-8b-8l \
        --modes unchained,graph --timeline "$tracer" 1x1024 8x1024 > "$out/timeline.txt" 2>&1
      cp /tmp/gauntlet-decode-*/1x1024/timeline-*.csv "$out/" 2>/dev/null
      summary+=("timeline: $(grep -A3 '^batch' "$out/timeline.txt" | tr '\n' ' ')")
      ;;
    gemv)
      OUT="$out" GAUNTLET_BENCH_M=1,8 bash bench/gpu/run.sh gemv > "$out/gemv-run.txt" 2>&1
      summary+=("gemv: see gemv.txt")
      ;;
    neighbours)
      OUT="$out" bash bench/gpu/run.sh neighbours > "$out/neighbours-run.txt" 2>&1
      summary+=("neighbours: see gemv_neighbours.txt")
      ;;
    8b)
      cases=()
      while [[ ${#parts[@]} -gt 0 && ${parts[0]} == *x* ]]; do
        cases+=("${parts[0]}")
        parts=("${parts[@]:1}")
      done
      python3 bench/gpu/decode_step_bench.py "$worker" --model 8b --model-dir /tmp/model-8b --modes graph \
        "${cases[@]}" > "$out/decode-8b.txt" 2>&1
      summary+=("8b: $(tail -n +2 "$out/decode-8b.txt" | tr '\n' ' ')")
      ;;
    *) echo "unknown part '$part': checks, timeline, gemv, neighbours or 8b CASE..." >&2; exit 2 ;;
  esac
done
printf '%s\n' "${summary[@]}"
