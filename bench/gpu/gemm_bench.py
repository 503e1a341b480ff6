"""Gauntlet's GEMM against cuBLAS (torch.matmul), in one run.

Default: the shapes of the 8-layer hidden-2048 model (32/8 heads, MLP 5504,
vocab 32000): decode steps (m = batch) and prefills (m = tokens), plus 4096³.
`decode`: the decode GEMV on granite-3.3-8b's shapes at m = 1, 4, 8, 16,
beside the mma.sync 16×64 kernel (`gauntlet_gemm_mode`: 2 forces the GEMV,
1 forbids it) and cuBLAS, and which of the two the plan picks; "/copy" is
the weight bytes over time, as a fraction of copy bandwidth.

Ours writes fp32 (one slice per k split, summed by the consumer; the sum is
not timed here, it is fused into the next kernel in the model); torch writes
bf16. Timed with CUDA events, median of 30, L2 flushed before each.

    python3 bench/gpu/gemm_bench.py path/to/libgauntlet_gpu.so [decode]
"""
import ctypes
import os
import sys

import torch

from timing import copy_bandwidth, timed, timed_sequence

lib = ctypes.CDLL(sys.argv[1])
SMS = torch.cuda.get_device_properties(0).multi_processor_count

# GemmKernel's order in worker/kernels/gpu/gemm_plan.h.
KERNELS = ["mma16x64", "mma64x64", "mma128x128", "wgmma128x256", "wgmma128x128", "gemv", "simt"]

SHAPES = {"qkv": (3072, 2048), "o": (2048, 2048), "gate_up": (11008, 2048), "down": (2048, 5504),
          "lm_head": (32000, 2048)}
SHAPES_8B = {"qkv": (6144, 4096), "o": (4096, 4096), "gate_up": (25600, 4096), "down": (4096, 12800),
             "lm_head": (49155, 4096)}


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


def decode(copy_bw):
    """The GEMV, the previous mma.sync plan and cuBLAS on each 8B shape, each
    timed over back-to-back calls on copies of w worth 1.2 GB, as a decode
    step meets them (timing.timed_sequence)."""
    stream = lambda: ctypes.c_void_p(torch.cuda.current_stream().cuda_stream)
    print(f"{'shape':>8} {'m':>3} {'n':>6} {'k':>6} {'splits':>6} {'gemv us':>8} {'mma us':>8} {'torch us':>8} "
          f"{'gemv/copy':>9} {'mma/copy':>8} {'torch/copy':>10} {'vs mma':>6} {'vs cuBLAS':>9} {'rel err':>8} {'plan':>8}")
    bad = 0
    # GAUNTLET_BENCH_FOOTPRINT_GB: the copies' total (a whole 8B model is 16.7 GB); GAUNTLET_BENCH_M: batch sizes.
    footprint = float(os.environ.get("GAUNTLET_BENCH_FOOTPRINT_GB", "1.2")) * 1e9
    batches = [int(b) for b in os.environ.get("GAUNTLET_BENCH_M", "1,4,8,16").split(",")]
    for m in batches:
        for name, (n, k) in SHAPES_8B.items():
            bytes_w = n * k * 2
            copies = max(3, -(-int(footprint) // bytes_w))
            ws = [torch.randn(n, k, device="cuda", dtype=torch.bfloat16) * 0.05 for _ in range(copies)]
            x = torch.randn(m, k, device="cuda", dtype=torch.bfloat16)
            lib.gauntlet_gemm_mode(1)
            most_splits = lib.gauntlet_gemm_splits(m, n, k)
            lib.gauntlet_gemm_mode(2)
            most_splits = max(most_splits, lib.gauntlet_gemm_splits(m, n, k))
            out = torch.empty(most_splits, m, n, device="cuda", dtype=torch.float32)

            def ours(w):
                return lambda: lib.gauntlet_gemm(ctypes.c_void_p(x.data_ptr()), ctypes.c_void_p(w.data_ptr()),
                                                 ctypes.c_void_p(out.data_ptr()), m, n, k, 1, stream())

            lib.gauntlet_gemm_mode(1)
            mma_us = timed_sequence([ours(w) for w in ws])
            lib.gauntlet_gemm_mode(2)
            splits, kernel = lib.gauntlet_gemm_splits(m, n, k), KERNELS[lib.gauntlet_gemm_kernel(m, n, k)]
            gemv_us = timed_sequence([ours(w) for w in ws])
            lib.gauntlet_gemm_mode(0)
            picked = KERNELS[lib.gauntlet_gemm_kernel(m, n, k)]
            lib.gauntlet_gemm_mode(2)
            torch_us = timed_sequence([(lambda w=w: torch.matmul(x, w.t())) for w in ws])
            ours(ws[0])()
            reference = torch.matmul(x.float(), ws[0].float().t())
            error = ((out[:splits].sum(0) - reference).norm() / reference.norm()).item()
            bad += not (error < 1e-2 and kernel == "gemv")
            fraction = lambda us: bytes_w / (us / 1e6) / copy_bw
            print(f"{name:>8} {m:>3} {n:>6} {k:>6} {splits:>6} {gemv_us:>8.2f} {mma_us:>8.2f} {torch_us:>8.2f} "
                  f"{fraction(gemv_us):>9.2f} {fraction(mma_us):>8.2f} {fraction(torch_us):>10.2f} "
                  f"{mma_us / gemv_us:>6.2f} {torch_us / gemv_us:>9.2f} {error:>8.1e} {picked:>8}", flush=True)
            if m == 1:
                read_us = timed_sequence([(lambda w=w: w.sum(dtype=torch.float32)) for w in ws])
                print(f"{'':>8} the same copies read by torch's sum: {fraction(read_us):.2f} of copy")
            del ws
            torch.cuda.empty_cache()
    lib.gauntlet_gemm_mode(0)
    print("correctness:", "all within 1e-2 of fp32, all on the GEMV" if not bad else f"{bad} cases off")
    return 1 if bad else 0


def main():
    copy_bw = copy_bandwidth()
    if sys.argv[2:] == ["decode"]:
        print(f"device: {torch.cuda.get_device_name(0)}, {SMS} SMs; copy bandwidth {copy_bw / 1e12:.2f} TB/s")
        return decode(copy_bw)
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
