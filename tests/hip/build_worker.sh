#!/usr/bin/env bash
# Builds the worker for AMD GPUs (-DGAUNTLET_GPU=hip) with Debian's hipcc and
# checks that the binary carries device code for the target. Nothing here has
# an AMD GPU, so the HIP build is compiled, not run; this keeps the one
# kernel source building for both vendors.
#
#   tests/hip/build_worker.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
source_dir=$1
build_dir=$2
target=gfx90a

if ! command -v hipcc >/dev/null; then
  echo "hipcc is missing: run scripts/install-deps.sh (it installs Debian's hipcc and libamdhip64-dev)" >&2
  exit 1
fi
cmake -S "$source_dir" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGAUNTLET_WORKER_ONLY=ON \
  -DGAUNTLET_GPU=hip -DGAUNTLET_HIP_ARCHITECTURES="$target" >"$build_dir.configure.log" 2>&1 ||
  { cat "$build_dir.configure.log" >&2; exit 1; }
cmake --build "$build_dir" -j 2 --target gauntlet-worker gpu_kernel_checks

for binary in "$build_dir/bin/gauntlet-worker" "$build_dir/bin/gpu_kernel_checks"; do
  if ! grep -qa "amdgcn-amd-amdhsa--$target" "$binary"; then
    echo "$binary carries no $target code object" >&2
    exit 1
  fi
done
echo "the HIP worker builds, with $target code objects"
