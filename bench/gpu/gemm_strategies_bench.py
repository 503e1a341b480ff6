"""The gemm kernel suite on the GPU backend, side by side with cuBLAS.

Runs gauntlet-worker's kernel.gemm (ASTRA-Sim's strategies, docs/gemm-strategies.md)
under mpirun on an 8B-model-shaped mnk CSV, then times torch.matmul (cuBLAS,
bf16) on every shard shape the suite measured, the same way (warm, CUDA
events, median), and prints ours over cuBLAS per layer and pass.

    python3 bench/gpu/gemm_strategies_bench.py build-gpu/bin/gauntlet-worker [--ranks 1] [--parallel DATA]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

import torch

# granite-3.3-8b's projections at 2048 tokens: qkv, o, gate_up, down.
MNK = """Layer,m,n,k
qkv,2048,6144,4096
o,2048,4096,4096
gate_up,2048,25600,4096
down,2048,4096,12800
"""


def cublas_ms(m, k, n, repeats=20):
    a = torch.randn(m, k, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(k, n, device="cuda", dtype=torch.bfloat16)
    for _ in range(3):
        torch.matmul(a, b)
    times = []
    for _ in range(repeats):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        torch.matmul(a, b)
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("worker")
    parser.add_argument("--ranks", type=int, default=1)
    parser.add_argument("--parallel", default="DATA")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--share-gpu", action="store_true",
                        help="ranks share the visible GPUs (GAUNTLET_SHARE_GPUS=1), on a machine with fewer GPUs")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="gemm-strategies-")
    job = {"version": 1, "job_id": 1, "attempt_id": 1, "suite": "kernel.gemm", "backend": "gpu",
           "devices": list(range(args.ranks)), "inputs": "",
           "params": {"mnk_csv": MNK, "mnk": "granite8b.csv", "parallel": args.parallel, "num_npus": args.ranks,
                      "num_packages": 1, "datatype_size": 2, "repeats": args.repeats, "clock_ghz": 1.98}}
    with open(os.path.join(work, "job.json"), "w") as f:
        json.dump(job, f)
    out = os.path.join(work, "out")
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMP_NUM_THREADS="8")
    if args.share_gpu:
        env["GAUNTLET_SHARE_GPUS"] = "1"
    command = ["mpirun", "-np", str(args.ranks), "--oversubscribe", "--bind-to", "none", args.worker,
               "--job", os.path.join(work, "job.json"), "--out", out]
    run = subprocess.run(command, env=env, capture_output=True, text=True)
    result = json.load(open(os.path.join(out, "result.json")))
    print(f"worker exit {run.returncode}, verdict {result['verdict']} {result.get('reason', '')}")
    if run.returncode != 0:
        print(run.stdout[-3000:], run.stderr[-3000:])
    rows = result["details"]["measurements"]
    print(f"{'layer':<8} {'pass':<12} {'m x k x n':<22} {'ours ms':>8} {'cuBLAS ms':>9} {'ours/cuBLAS':>11} "
          f"{'ours TFLOP/s':>12} {'rel err':>8}")
    ratios = []
    for row in rows:
        theirs = cublas_ms(row["m"], row["k"], row["n"])
        ours = row["compute_ms_median"]
        tflops = 2 * row["m"] * row["k"] * row["n"] / (ours * 1e9)
        ratios.append(theirs / ours)
        print(f"{row['layer']:<8} {row['pass']:<12} {str(row['m']) + 'x' + str(row['k']) + 'x' + str(row['n']):<22} "
              f"{ours:8.3f} {theirs:9.3f} {theirs / ours:11.2f} {tflops:12.1f} {row['relative_error']:8.1e}")
    print(f"cuBLAS time over ours: min {min(ratios):.2f}, median {statistics.median(ratios):.2f}, max {max(ratios):.2f}")
    for row in rows:
        if row["collective"] != "NONE":
            print(f"{row['layer']:<8} {row['pass']:<12} {row['collective']:<14} {row['bytes']:>11} bytes over "
                  f"{row['group_size']} ranks: {row['comm_ms_median']:.3f} ms, bus {row['busbw_gbps']:.1f} GB/s")
    print(open(os.path.join(out, f"workload_{args.parallel}.txt")).read())
    return 0 if result["verdict"] == "pass" else 1


sys.exit(main())
