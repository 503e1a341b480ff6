"""Paged decode attention: Gauntlet's kernel against PyTorch, in one run.

GQA 32/8 heads, head dim 128, bf16, KV block size 16. For each batch and
context: our kernel reads K/V through a shuffled block table; PyTorch's
scaled_dot_product_attention(..., enable_gqa=True) reads a contiguous cache of
the same values. Both are checked against each other, timed with CUDA events
(median of 30, L2 flushed before each), and reported as achieved bandwidth
(K+V bytes / time) over the device's measured copy bandwidth.

    python3 bench/gpu/paged_attention_bench.py path/to/libgauntlet_gpu.so
"""
import ctypes
import sys

import torch
import torch.nn.functional as F

from timing import copy_bandwidth, timed

HEADS, KV_HEADS, HEAD_DIM, BLOCK = 32, 8, 128, 16
lib = ctypes.CDLL(sys.argv[1])
lib.gauntlet_paged_decode.restype = ctypes.c_int
lib.gauntlet_paged_decode_scratch_floats.restype = ctypes.c_longlong
props = torch.cuda.get_device_properties(0)
SMS = props.multi_processor_count


def case(batch, context, copy_bw):
    torch.manual_seed(batch * 100003 + context)
    blocks = context // BLOCK
    q = torch.randn(batch, HEADS, HEAD_DIM, device="cuda", dtype=torch.bfloat16)
    k = torch.randn(batch, KV_HEADS, context, HEAD_DIM, device="cuda", dtype=torch.bfloat16)
    v = torch.randn_like(k)
    # The same values, paged: each sequence's blocks scattered over the pool.
    perm = torch.randperm(batch * blocks, device="cuda")
    def paged(x):
        cache = torch.empty(batch * blocks, KV_HEADS, BLOCK, HEAD_DIM, device="cuda", dtype=torch.bfloat16)
        cache[perm] = x.view(batch, KV_HEADS, blocks, BLOCK, HEAD_DIM).permute(0, 2, 1, 3, 4).reshape(
            batch * blocks, KV_HEADS, BLOCK, HEAD_DIM)
        return cache
    k_cache, v_cache = paged(k), paged(v)
    table = perm.view(batch, blocks).to(torch.int32).contiguous()
    lens = torch.full((batch,), context, device="cuda", dtype=torch.int32)
    out = torch.empty_like(q)
    scratch = torch.empty(lib.gauntlet_paged_decode_scratch_floats(batch, HEADS, context, SMS),
                          device="cuda", dtype=torch.float32)
    scale = HEAD_DIM ** -0.5
    stream = torch.cuda.current_stream().cuda_stream

    def ours():
        rc = lib.gauntlet_paged_decode(
            ctypes.c_void_p(q.data_ptr()), ctypes.c_void_p(k_cache.data_ptr()), ctypes.c_void_p(v_cache.data_ptr()),
            ctypes.c_void_p(table.data_ptr()), ctypes.c_void_p(lens.data_ptr()), ctypes.c_void_p(out.data_ptr()),
            ctypes.c_void_p(scratch.data_ptr()), batch, HEADS, KV_HEADS, blocks, context, ctypes.c_float(scale), SMS,
            ctypes.c_void_p(stream))
        assert rc == 0, f"launch failed: {rc}"

    q4 = q.unsqueeze(2)
    def theirs():
        return F.scaled_dot_product_attention(q4, k, v, enable_gqa=True)

    ours()
    reference = theirs().squeeze(2).float()
    error = ((out.float() - reference).norm() / reference.norm()).item()
    # fp64 on two sequences: the whole batch would not fit next to the caches.
    exact = F.scaled_dot_product_attention(q4[:2].double(), k[:2].double(), v[:2].double(), enable_gqa=True).squeeze(2)
    error_exact = ((out[:2].double() - exact).norm() / exact.norm()).item()
    del exact
    ours_ms, theirs_ms = timed(ours), timed(theirs)
    kv_bytes = 2 * k.numel() * k.element_size()
    return dict(batch=batch, context=context, ours_ms=ours_ms, torch_ms=theirs_ms,
                ours_frac=kv_bytes / (ours_ms / 1e3) / copy_bw, torch_frac=kv_bytes / (theirs_ms / 1e3) / copy_bw,
                speedup=theirs_ms / ours_ms, err_vs_torch=error, err_vs_fp64=error_exact)


def main():
    if len(sys.argv) > 3:  # profile one case: LIB BATCH CONTEXT
        case(int(sys.argv[2]), int(sys.argv[3]), 3.0e12)
        return 0
    copy_bw = copy_bandwidth()
    print(f"device: {props.name}, {SMS} SMs; copy bandwidth {copy_bw / 1e12:.2f} TB/s (read + write)")
    rows = []
    for batch in (8, 32, 64):
        for context in (4096, 8192, 32768):
            rows.append(case(batch, context, copy_bw))
            torch.cuda.empty_cache()
    print(f"{'batch':>5} {'ctx':>6} {'ours ms':>9} {'torch ms':>9} {'ours/copy':>9} {'torch/copy':>10} "
          f"{'torch/ours':>10} {'err vs torch':>12} {'err vs fp64':>11}")
    for r in rows:
        print(f"{r['batch']:>5} {r['context']:>6} {r['ours_ms']:>9.4f} {r['torch_ms']:>9.4f} {r['ours_frac']:>9.2f} "
              f"{r['torch_frac']:>10.2f} {r['speedup']:>10.2f} {r['err_vs_torch']:>12.2e} {r['err_vs_fp64']:>11.2e}")
    bad = [r for r in rows if not r["err_vs_fp64"] < 1e-2]
    print("correctness:", "all within 1e-2 of fp64" if not bad else f"{len(bad)} cases off")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
