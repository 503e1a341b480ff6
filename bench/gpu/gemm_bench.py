"""Gauntlet's GEMM against cuBLAS (torch.matmul), in one run, on the shapes
of the 8-layer hidden-2048 model (32/8 heads, MLP 5504, vocab 32000): decode
steps (m = batch) and prefills (m = tokens), plus 4096³.

Ours writes fp32 (one slice per k split, summed by the consumer; the sum is
not timed here, it is fused into the next kernel in the model); torch writes
bf16. Timed with CUDA events, median of 30, L2 flushed before each.

    python3 bench/gpu/gemm_bench.py path/to/libgauntlet_gpu.so
"""
import ctypes
import sys

import torch

from timing import copy_bandwidth, timed

lib = ctypes.CDLL(sys.argv[1])
SMS = torch.cuda.get_device_properties(0).multi_processor_count

# GemmKernel's order in worker/kernels/gpu/gemm_plan.h.
KERNELS = ["mma16x64", "mma64x64", "mma128x128", "wgmma128x256", "wgmma128x128", "simt"]

SHAPES = {"qkv": (3072, 2048), "o": (2048, 2048), "gate_up": (11008, 2048), "down": (2048, 5504),
          "lm_head": (32000, 2048)}


def case(name, m, n, k, copy_bw):
    x = torch.randn(m, k, device="cuda", dtype=torch.bfloat16)
    w = torch.randn(n, k, device="cuda", dtype=torch.bfloat16) * 0.05
    splits = lib.gauntlet_gemm_splits(m, n, k)
    kernel = KERNELS[lib.gauntlet_gemm_kernel(m, n, k)]
    out = torch.empty(splits, m, n, device="cuda", dtype=torch.float32)
    stream = torch.cuda.current_stream().cuda_stream

    def ours():
        rc = lib.gauntlet_gemm(ctypes.c_void_p(x.data_ptr()), ctypes.c_void_p(w.data_ptr()),
                               ctypes.c_void_p(out.data_ptr()), m, n, k, 1, ctypes.c_void_p(stream))
        assert rc == 0, rc

    def theirs():
        return torch.matmul(x, w.t())

    ours()
    reference = torch.matmul(x.float(), w.float().t())
    error = ((out.sum(0) - reference).norm() / reference.norm()).item()
    ours_ms, theirs_ms = timed(ours), timed(theirs)
    flops = 2 * m * n * k
    weight_bytes = n * k * 2
    return dict(name=name, m=m, n=n, k=k, splits=splits, kernel=kernel, ours_ms=ours_ms, torch_ms=theirs_ms,
                ours_tflops=flops / ours_ms / 1e9, torch_tflops=flops / theirs_ms / 1e9,
                ours_bw=weight_bytes / (ours_ms / 1e3) / copy_bw, ratio=theirs_ms / ours_ms, error=error)


def main():
    copy_bw = copy_bandwidth()
    print(f"device: {torch.cuda.get_device_name(0)}, {SMS} SMs; copy bandwidth {copy_bw / 1e12:.2f} TB/s")
    rows = []
    for m in (1, 8, 32, 64, 512, 2048, 8192):
        for name, (n, k) in SHAPES.items():
            rows.append(case(name, m, n, k, copy_bw))
    rows.append(case("square", 4096, 4096, 4096, copy_bw))
    print(f"{'shape':>8} {'m':>5} {'n':>6} {'k':>5} {'kernel':>12} {'splits':>6} {'ours ms':>8} {'torch ms':>8} {'ours TF/s':>9} "
          f"{'torch TF/s':>10} {'W bytes/copy':>12} {'ours/cuBLAS':>11} {'rel err':>8}")
    for r in rows:
        print(f"{r['name']:>8} {r['m']:>5} {r['n']:>6} {r['k']:>5} {r['kernel']:>12} {r['splits']:>6} {r['ours_ms']:>8.4f} "
              f"{r['torch_ms']:>8.4f} {r['ours_tflops']:>9.1f} {r['torch_tflops']:>10.1f} {r['ours_bw']:>12.2f} "
              f"{r['ratio']:>11.2f} {r['error']:>8.1e}")
    bad = [r for r in rows if not r["error"] < 1e-2]
    print("correctness:", "all within 1e-2 of fp32" if not bad else f"{len(bad)} cases off")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
