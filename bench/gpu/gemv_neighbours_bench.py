"""The decode GEMV after each kind of kernel a decode step runs before it.

In the replayed 8B decode step the gate_up GEMV (25600 × 4096) takes 75 µs,
0.65 of copy bandwidth, and the LM head's 145 µs; back to back with
themselves, on copies of the weights, the same kernels take 55 and 102 µs
(0.88). An experiment inside the worker (bench/RESULTS.md, "Why the GEMV
runs at 0.65 of copy in the step and 0.88 alone") found the cause in what
runs before it: after an mma.sync projection the GEMV is 1.39× slower,
after a small kernel it is not. This bench times each
candidate neighbour's pairs [before_i, gemv_i] over copies of the weights,
as one CUDA graph, and takes the neighbour alone away, so a theory or a fix
is tried in one device call:

    python3 bench/gpu/gemv_neighbours_bench.py path/to/libgauntlet_gpu.so

The neighbours: the step's own mma.sync down projection; a small
elementwise kernel; a plain streaming read (torch's sum over a down-sized
copy); a kernel that holds the mma's shared memory per block (40 KB, its
grid) and touches no global memory, and the same with 8 KB (if only the
first slows the GEMV, the SM's shared-memory configuration is the cause);
and tensor-core work on L2-resident operands (cuBLAS 2048³).
"""
import ctypes
import sys

import cupy
import torch

from timing import copy_bandwidth, timed_sequence

lib = ctypes.CDLL(sys.argv[1])
COPIES = 8
HIDDEN, INTER, VOCAB = 4096, 12800, 49155
# TensorCoreGemm<16, 64, 4 stages>'s dynamic shared memory and its grid for the down projection at m = 1.
MMA_SHARED_BYTES, MMA_BLOCKS = 4 * (16 + 64) * 64 * 2, 64 * 9

HOG = cupy.RawKernel(r"""
extern "C" __global__ void hog(float* sink, int rounds, int floats) {
  extern __shared__ float tile[];
  float acc = threadIdx.x;
  for (int i = threadIdx.x; i < floats; i += blockDim.x) tile[i] = acc + i;
  __syncthreads();
  for (int r = 0; r < rounds; ++r) acc += tile[(threadIdx.x * 33 + r) % floats];
  if (acc == -1.0f) sink[0] = acc;  // Never true; keeps the loop.
}
""", "hog")


def stream():
    return ctypes.c_void_p(torch.cuda.current_stream().cuda_stream)


def gemm(x, w, out):
    m, k = x.shape
    n = w.shape[0]
    return lambda: lib.gauntlet_gemm(ctypes.c_void_p(x.data_ptr()), ctypes.c_void_p(w.data_ptr()),
                                     ctypes.c_void_p(out.data_ptr()), m, n, k, 1, stream())


def hog(sink, shared_bytes):
    def run():
        with cupy.cuda.ExternalStream(torch.cuda.current_stream().cuda_stream):
            HOG((MMA_BLOCKS,), (128,), (sink, cupy.int32(2000), cupy.int32(shared_bytes // 4)),
                shared_mem=shared_bytes)
    return run


def main():
    copy_bw = copy_bandwidth()
    lib.gauntlet_gemm_mode(0)  # The model's plan: the GEMV for gate_up and the LM head, mma.sync for down.
    bf16 = dict(device="cuda", dtype=torch.bfloat16)
    gate_up = [torch.randn(2 * INTER, HIDDEN, **bf16) * 0.02 for _ in range(COPIES)]
    lm_head = [torch.randn(VOCAB, HIDDEN, **bf16) * 0.02 for _ in range(3)]
    down = [torch.randn(HIDDEN, INTER, **bf16) * 0.02 for _ in range(COPIES)]
    x_hidden, x_inter = torch.randn(1, HIDDEN, **bf16), torch.randn(1, INTER, **bf16)
    out = torch.empty(16 * VOCAB, device="cuda", dtype=torch.float32)
    down_out = torch.empty(16 * HIDDEN, device="cuda", dtype=torch.float32)
    small_in, small_out = torch.randn(HIDDEN, device="cuda"), torch.empty(HIDDEN, device="cuda")
    a, b = torch.randn(2048, 2048, **bf16), torch.randn(2048, 2048, **bf16)
    sink = cupy.empty(1, dtype=cupy.float32)

    neighbours = {
        "nothing": None,
        "the step's mma.sync down projection": lambda i: gemm(x_inter, down[i], down_out),
        "a small elementwise kernel (4096 floats)": lambda i: lambda: torch.add(small_in, 1.0, out=small_out),
        "a streaming read of a down copy (torch sum)": lambda i: lambda: down[i].sum(dtype=torch.float32),
        "40 KB of shared memory a block, mma's grid, no global traffic": lambda i: hog(sink, MMA_SHARED_BYTES),
        "8 KB of shared memory a block, mma's grid, no global traffic": lambda i: hog(sink, 8 * 1024),
        "tensor cores on L2-resident operands (cuBLAS 2048^3)": lambda i: lambda: torch.matmul(a, b),
    }
    # In the step a GEMV launched twice on the same weights was slow both times.
    same_weights = "the same GEMV on the same weights"
    print(f"device: {torch.cuda.get_device_name(0)}; copy bandwidth {copy_bw / 1e12:.2f} TB/s")
    print(f"{'GEMV':>8} {'before it':<62} {'pair us':>8} {'alone us':>8} {'GEMV us':>8} {'/copy':>6} {'vs none':>7}")
    for name, weights in (("gate_up", gate_up), ("lm_head", lm_head)):
        bytes_w = weights[0].numel() * 2
        gemvs = [gemm(x_hidden, w, out) for w in weights]
        alone_gemv = timed_sequence(gemvs)
        for label, before in {**neighbours, same_weights: lambda i: gemvs[i]}.items():
            if before is None:
                pair, alone = alone_gemv, 0.0
            else:
                befores = [before(i) for i in range(len(weights))]
                pairs = [f for i in range(len(weights)) for f in (befores[i], gemvs[i])]
                pair, alone = 2 * timed_sequence(pairs), timed_sequence(befores)
            share = pair - alone
            print(f"{name:>8} {label:<62} {pair:>8.2f} {alone:>8.2f} {share:>8.2f} "
                  f"{bytes_w / (share / 1e6) / copy_bw:>6.2f} {share / alone_gemv:>7.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
