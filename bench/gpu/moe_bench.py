"""The moe kernel suite's GPU method beside a MoE written with plain torch ops.

Runs gauntlet-worker's kernel.moe in benchmark mode (every method checked
against the CPU reference first) on the seed's shape and a Mixtral-like one,
then times, the same way (warm, CUDA events, median), a torch MoE on the same
shapes: per expert index_select, two torch.matmul, SiLU-and-mul, index_add_.
Prints ours over torch and the weight bandwidth over the device's copy
bandwidth.

    python3 bench/gpu/moe_bench.py build-gpu/bin/gauntlet-worker [--check]

--check runs a small shape at a few token counts, without the torch timing:
the method against the reference, for ctest -L gpu.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile

import torch

sys.path.insert(0, os.path.dirname(__file__))
from timing import copy_bandwidth  # noqa: E402

SHAPES = [  # name, experts, topk, inter (N), hidden (K), token counts
    ("qwen3-30b-a3b/8", 128, 8, 96, 2048, [1, 16, 64, 1024, 2048, 4096, 8192]),
    ("mixtral-8x7b", 8, 2, 14336, 4096, [1, 16, 64, 256]),
]


def torch_moe_ms(experts, topk, inter, hidden, tokens, repeats=20):
    w1 = torch.randn(experts, 2 * inter, hidden, device="cuda", dtype=torch.bfloat16) / hidden ** 0.5
    w2 = torch.randn(experts, hidden, inter, device="cuda", dtype=torch.bfloat16) / inter ** 0.5
    x = torch.randn(tokens, hidden, device="cuda", dtype=torch.bfloat16)
    logits = torch.randn(tokens, experts, device="cuda")
    weights, ids = torch.topk(torch.softmax(logits, dim=-1), topk, dim=-1)
    weights = (weights / weights.sum(-1, keepdim=True)).to(torch.bfloat16)

    def forward():
        y = torch.zeros(tokens, hidden, device="cuda", dtype=torch.bfloat16)
        for e in range(experts):
            token, slot = torch.nonzero(ids == e, as_tuple=True)
            if token.numel() == 0:
                continue
            h = torch.matmul(x.index_select(0, token), w1[e].t())
            act = torch.nn.functional.silu(h[:, :inter]) * h[:, inter:]
            y.index_add_(0, token, torch.matmul(act, w2[e].t()) * weights[token, slot, None])
        return y

    for _ in range(3):
        forward()
    times = []
    for _ in range(repeats):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        forward()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def main():
    worker = sys.argv[1]
    check = "--check" in sys.argv[2:]
    shapes = [("small", 8, 2, 64, 256, [1, 16, 64, 200])] if check else SHAPES
    bandwidth = copy_bandwidth()
    print(f"copy bandwidth {bandwidth / 1e12:.2f} TB/s")
    failures = 0
    for name, experts, topk, inter, hidden, tokens in shapes:
        work = tempfile.mkdtemp(prefix="moe-")
        params = {"mode": "benchmark", "method": "naive,fused", "input_token": ",".join(map(str, tokens)),
                  "experts": experts, "topk": topk, "inter_dim": inter, "hidden_size": hidden, "repeats": 20}
        job = {"version": 1, "job_id": 1, "attempt_id": 1, "suite": "kernel.moe", "backend": "gpu", "devices": [0],
               "inputs": "", "params": params}
        with open(os.path.join(work, "job.json"), "w") as f:
            json.dump(job, f)
        out = os.path.join(work, "out")
        env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMP_NUM_THREADS="16")
        run = subprocess.run(["mpirun", "-np", "1", "--bind-to", "none", worker, "--job", os.path.join(work, "job.json"),
                              "--out", out], env=env, capture_output=True, text=True)
        result = json.load(open(os.path.join(out, "result.json")))
        print(f"\n{name}: E={experts} topk={topk} N={inter} K={hidden}: worker exit {run.returncode}, verdict "
              f"{result['verdict']} {result.get('reason', '')}")
        failures += result["verdict"] != "pass"
        metrics = result["metrics"]
        print(f"{'tokens':>7} {'method':>6} {'ours ms':>9} {'torch ms':>9} {'torch/ours':>10} {'weights GB/s':>12} "
              f"{'of copy bw':>10} {'TFLOP/s':>8} {'rel err':>8}")
        for count in tokens:
            theirs = float("nan") if check else torch_moe_ms(experts, topk, inter, hidden, count)
            for method in ("naive", "fused"):
                key = f"{method}.t{count}."
                if key + "time_ms" not in metrics:
                    print(f"{count:>7} {method:>6} FAIL")
                    continue
                ours = metrics[key + "time_ms"]
                gbps = metrics[key + "weight_gbps"]
                print(f"{count:>7} {method:>6} {ours:9.4f} {theirs:9.4f} {theirs / ours:10.2f} {gbps:12.1f} "
                      f"{gbps * 1e9 / bandwidth:10.2f} {metrics[key + 'tflops']:8.1f} "
                      f"{metrics[key + 'relative_error']:8.1e}")
    return 1 if failures else 0


sys.exit(main())
