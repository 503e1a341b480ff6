"""A whole decode step of the GPU model against its bandwidth bound.

The 8-layer hidden-2048 random model (32/8 heads, MLP 5504, vocab 32000,
bf16). For each batch and context: the worker's `benchmark` stage prefills
`batch` random prompts that fill the context less the decode steps, then
times 32 decode steps (its ITL: wall time per step, tokens back on the host),
once launching each step's kernels one by one (GAUNTLET_GPU_GRAPHS=0) and
once replaying them as a CUDA graph (the default).
The bound is the bytes a step must read — every weight once, plus the KV
cache at the mean decode position — over the copy bandwidth measured in the
same run.

    python3 bench/gpu/decode_step_bench.py path/to/gauntlet-worker [BATCHxCONTEXT ...]
"""
import json
import os
import random
import subprocess
import sys
import tempfile

import torch

from timing import copy_bandwidth

LAYERS, HIDDEN, HEADS, KV_HEADS, VOCAB, INTER = 8, 2048, 32, 8, 32000, 5504
HEAD_DIM = HIDDEN // HEADS
STEPS = 32
CASES = [(1, 1024), (8, 1024), (8, 4096), (8, 8192), (32, 8192), (8, 32768)]


def main():
    worker = sys.argv[1]
    cases = [tuple(map(int, c.split("x"))) for c in sys.argv[2:]] or CASES
    copy_bw = copy_bandwidth()
    root = tempfile.mkdtemp(prefix="gauntlet-decode-")
    model = os.path.join(root, "model")
    subprocess.run([worker, "make-model", "--out", model, "--seed", "3", "--layers", str(LAYERS), "--hidden",
                    str(HIDDEN), "--heads", str(HEADS), "--kv-heads", str(KV_HEADS), "--vocab", str(VOCAB),
                    "--intermediate", str(INTER), "--dtype", "bf16", "--max-positions", "32768"],
                   check=True, capture_output=True)
    q, kv = HEADS * HEAD_DIM, KV_HEADS * HEAD_DIM
    weight_bytes = 2 * (LAYERS * (HIDDEN * (q + 2 * kv) + q * HIDDEN + 3 * HIDDEN * INTER) + VOCAB * HIDDEN)
    kv_bytes_per_token = LAYERS * 2 * kv * 2
    print(f"device: {torch.cuda.get_device_name(0)}; copy bandwidth {copy_bw / 1e12:.2f} TB/s; "
          f"weights read per step {weight_bytes / 1e9:.2f} GB")
    print(f"{'batch':>5} {'ctx':>6} {'KV GB':>6} {'bound ms':>8} {'eager ms':>8} {'graph ms':>8} {'graph/bound':>11} "
          f"{'TTFT ms':>8}")
    rng = random.Random(1)
    for batch, context in cases:
        case = os.path.join(root, f"{batch}x{context}")
        os.makedirs(os.path.join(case, "inputs", "reference"))
        prompt_len = context - STEPS - 16
        prompts = [[rng.randrange(3, VOCAB) for _ in range(prompt_len)] for _ in range(batch)]
        json.dump({"prompts": prompts}, open(os.path.join(case, "inputs", "reference", "prompts.json"), "w"))
        job = {"suite": "llm", "backend": "gpu", "inputs": os.path.join(case, "inputs"),
               "params": {"stage": "benchmark", "model": model, "dtype": "bf16", "attention": "paged",
                          "context": context, "batch": batch, "prompt_len": prompt_len, "max_new_tokens": STEPS}}
        json.dump(job, open(os.path.join(case, "job.json"), "w"))
        itl = {}
        for mode in ("0", "1"):
            proc = subprocess.run([worker, "--job", os.path.join(case, "job.json"), "--out", case], capture_output=True,
                                  text=True, env={**os.environ, "GAUNTLET_GPU_GRAPHS": mode})
            result = json.load(open(os.path.join(case, "result.json")))
            if result["verdict"] != "pass":
                print(f"{batch}x{context}: {result['reason']}\n{proc.stderr[-2000:]}")
                return 1
            itl[mode] = result["metrics"]["itl_ms"]
        kv_read = batch * (prompt_len + STEPS / 2) * kv_bytes_per_token
        bound_ms = (weight_bytes + kv_read) / copy_bw * 1e3
        print(f"{batch:>5} {context:>6} {kv_read / 1e9:>6.2f} {bound_ms:>8.3f} {itl['0']:>8.3f} {itl['1']:>8.3f} "
              f"{itl['1'] / bound_ms:>11.2f} {result['metrics']['ttft_ms']:>8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
