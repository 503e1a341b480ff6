"""A whole decode step of the GPU model against its bandwidth bound.

A random model made by `make-model`: `--model large` (default) is 8 layers,
hidden 2048, 32/8 heads, MLP 5504, vocab 32000; `--model 8b` has
granite-3.3-8b's shapes (40 layers, hidden 4096, 32/8 heads, MLP 12800,
vocab 49155, 16.7 GB in bf16). For each batch and context the worker's
`benchmark` stage prefills `batch` random prompts that fill the context less
the decode steps, then times 32 decode steps (its ITL: wall time per step,
tokens back on the host). Each case runs once per mode, side by side:
  eager   each step's kernels launched one by one (GAUNTLET_GPU_GRAPHS=0)
  graph   the step replayed as a CUDA graph (the default)
  mma     the graph, with the decode GEMV off (GAUNTLET_GPU_GEMV=0): the
          plan before the GEMV existed
  unchained  the graph, each kernel waiting for the one before to end
          (GAUNTLET_GPU_PDL=0): launches before chaining existed
The bound is the bytes a step must read — every weight once, plus the KV
cache at the mean decode position — over the copy bandwidth measured in the
same run. TTFT (the graph mode's) is set beside 2·params·tokens over the
peak dense bf16 rate given by --peak-tflops (989 on an H100/H200 SXM).

    python3 bench/gpu/decode_step_bench.py path/to/gauntlet-worker [--model 8b] [--modes graph,mma] [BATCHxCONTEXT ...]

--profile then runs the first case once more, eager, under Nsight Compute
(one metric: each kernel's duration, clocks and caches left alone) and prints
where a decode step's time goes, kernel by kernel. Not a timing run: ncu
serialises the launches, so their sum against the ITL says what the gaps
between kernels and the host cost. --layers N keeps a model's shapes with
fewer layers, which loads in a fraction of the time.
"""
import csv
import io
import statistics
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile

import torch

from timing import copy_bandwidth

# layers, hidden, heads, kv heads, vocab, intermediate; the cases (batch × context) run by default.
MODELS = {
    "large": ((8, 2048, 32, 8, 32000, 5504), [(1, 1024), (8, 1024), (8, 4096), (8, 8192), (32, 8192), (8, 32768)]),
    "8b": ((40, 4096, 32, 8, 49155, 12800),
           [(b, c) for b in (1, 8, 32) for c in (1024, 4096, 8192)]),
}
MODE_ENV = {"eager": {"GAUNTLET_GPU_GRAPHS": "0"}, "graph": {}, "mma": {"GAUNTLET_GPU_GEMV": "0"},
            "unchained": {"GAUNTLET_GPU_PDL": "0"}}
STEPS = 32


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("worker")
    parser.add_argument("cases", nargs="*")
    parser.add_argument("--model", choices=MODELS, default="large")
    parser.add_argument("--modes", default="eager,graph,mma")
    parser.add_argument("--peak-tflops", type=float, default=989.0)
    parser.add_argument("--model-dir", help="reuse (or keep) the made model here")
    parser.add_argument("--layers", type=int, help="the model's shapes with fewer layers (quicker to load)")
    parser.add_argument("--profile", action="store_true", help="a per-kernel breakdown of a decode step (ncu)")
    parser.add_argument("--timeline", metavar="LIB",
                        help="kernel_timeline.so: the first case's decode steps as replayed, kernel by kernel")
    parser.add_argument("--timeline-modes", default="unchained,graph", help="the modes --timeline traces")
    parser.add_argument("--timeline-order", action="store_true",
                        help="also list a traced step's kernels in launch order, each with its median time")
    args = parser.parse_intermixed_args()
    (LAYERS, HIDDEN, HEADS, KV_HEADS, VOCAB, INTER), default_cases = MODELS[args.model]
    LAYERS = args.layers or LAYERS
    HEAD_DIM = HIDDEN // HEADS
    modes = args.modes.split(",")
    worker = args.worker
    cases = [tuple(map(int, c.split("x"))) for c in args.cases] or default_cases
    copy_bw = copy_bandwidth()
    root = tempfile.mkdtemp(prefix="gauntlet-decode-")
    model = args.model_dir or os.path.join(root, "model")
    if not os.path.exists(os.path.join(model, "config.json")):
        subprocess.run([worker, "make-model", "--out", model, "--seed", "3", "--layers", str(LAYERS), "--hidden",
                        str(HIDDEN), "--heads", str(HEADS), "--kv-heads", str(KV_HEADS), "--vocab", str(VOCAB),
                        "--intermediate", str(INTER), "--dtype", "bf16", "--max-positions", "32768"],
                       check=True, capture_output=True)
    q, kv = HEADS * HEAD_DIM, KV_HEADS * HEAD_DIM
    params = LAYERS * (HIDDEN * (q + 2 * kv) + q * HIDDEN + 3 * HIDDEN * INTER) + VOCAB * HIDDEN
    weight_bytes = 2 * params
    kv_bytes_per_token = LAYERS * 2 * kv * 2
    print(f"device: {torch.cuda.get_device_name(0)}; copy bandwidth {copy_bw / 1e12:.2f} TB/s; "
          f"weights read per step {weight_bytes / 1e9:.2f} GB")
    print(f"{'batch':>5} {'ctx':>6} {'KV GB':>6} {'bound ms':>8} " + " ".join(f"{m + ' ms':>8}" for m in modes) +
          " " + " ".join(f"{m + '/bound':>11}" for m in modes) + f" {'TTFT ms':>8} {'TTFT/bound':>10}")
    rng = random.Random(1)
    first_case = None
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
        first_case = first_case or case
        itl, ttft = {}, {}
        for mode in modes:
            proc = subprocess.run([worker, "--job", os.path.join(case, "job.json"), "--out", case], capture_output=True,
                                  text=True, env={**os.environ, **MODE_ENV[mode]})
            result = json.load(open(os.path.join(case, "result.json")))
            if result["verdict"] != "pass":
                print(f"{batch}x{context}: {result['reason']}\n{proc.stderr[-2000:]}")
                return 1
            itl[mode], ttft[mode] = result["metrics"]["itl_ms"], result["metrics"]["ttft_ms"]
        kv_read = batch * (prompt_len + STEPS / 2) * kv_bytes_per_token
        bound_ms = (weight_bytes + kv_read) / copy_bw * 1e3
        ttft_bound_ms = 2 * params * batch * prompt_len / (args.peak_tflops * 1e12) * 1e3
        shown = "graph" if "graph" in modes else modes[0]
        print(f"{batch:>5} {context:>6} {kv_read / 1e9:>6.2f} {bound_ms:>8.3f} " +
              " ".join(f"{itl[m]:>8.3f}" for m in modes) + " " +
              " ".join(f"{itl[m] / bound_ms:>11.2f}" for m in modes) +
              f" {ttft[shown]:>8.1f} {ttft[shown] / ttft_bound_ms:>10.2f}", flush=True)
    if args.timeline:
        for mode in args.timeline_modes.split(","):
            timeline(worker, first_case, args.timeline, mode, args.timeline_order)
    if args.profile:
        return profile(worker, first_case)
    return 0


def timeline(worker, case, library, mode, in_order=False):
    """The case's decode steps as the GPU ran them (CUPTI, through
    kernel_timeline.so): each kernel's time and the idle gap before it. Chained
    kernels start before their predecessor ends and wait, so only the
    unchained mode's durations are the kernels' own."""
    trace = os.path.join(case, f"timeline-{mode}.csv")
    proc = subprocess.run([worker, "--job", os.path.join(case, "job.json"), "--out", case], capture_output=True,
                          text=True, env={**os.environ, **MODE_ENV[mode], "CUDA_INJECTION64_PATH": library,
                                          "GAUNTLET_TIMELINE": trace})
    if not os.path.exists(trace):
        print(f"{mode}: {library} wrote no trace (was it loaded?)\n{proc.stderr[-1500:]}")
        return
    rows = [line.rstrip("\n").split(",", 4) for line in open(trace)]
    graphs = {graph for _, _, graph, _, _ in rows}
    print(f"\n{mode}: {len(rows)} kernels traced, graph ids {sorted(graphs)[:5]}")
    spans = []
    for start, end, graph, grid, name in rows:
        # A decode step is a graph replay; with graphs off, every kernel after the prefill.
        if graph != "0" or graphs == {"0"}:
            name = name.replace("gauntlet::worker::gpu::", "")
            spans.append((int(start), int(end), f"{name[:60]} [{grid}]"))
    spans.sort()
    # A step is a replay: its kernels run back to back, and the host's part
    # of a step (tokens back, indices up) leaves the GPU idle between them.
    steps, current = [], []
    for span in spans:
        if current and span[0] - current[-1][1] > 15_000:
            steps.append(current)
            current = []
        current.append(span)
    steps.append(current)
    size = statistics.mode(len(s) for s in steps)
    steps = [s for s in steps if len(s) == size and size > 0][-16:]  # Whole steps, after the first captures.
    if not steps:
        print(f"{mode}: no graph replays traced")
        return
    span_us = statistics.median((s[-1][1] - s[0][0]) / 1e3 for s in steps)
    busy_us = statistics.median(sum(e - b for b, e, _ in s) / 1e3 for s in steps)
    by_name = {}
    for step in steps:
        previous_end = step[0][0]
        for begin, end, name in step:
            entry = by_name.setdefault(name, [[], []])
            entry[0].append((end - begin) / 1e3)
            entry[1].append(max(0, begin - previous_end) / 1e3)
            previous_end = max(previous_end, end)
    print(f"\n{mode}: a decode step spans {span_us:.1f} us on the GPU; kernels busy {busy_us:.1f} us "
          f"({len(steps[0])} kernels)")
    print(f"{'us/step':>8} {'gaps/step':>9} {'launches':>8} {'median us':>9}  kernel")
    for name, (durations, gaps) in sorted(by_name.items(), key=lambda kv: -sum(kv[1][0])):
        print(f"{sum(durations) / len(steps):>8.1f} {sum(gaps) / len(steps):>9.1f} {len(durations) / len(steps):>8.1f} "
              f"{statistics.median(durations):>9.2f}  {name}")
    if in_order:
        # The same kernel at two places in a step (the first layer's and the
        # last's, or one launched twice) can run at different speeds.
        print(f"\n{mode}: the step in launch order\n{'#':>4} {'median us':>9} {'gap us':>7}  kernel")
        for i, (_, _, name) in enumerate(steps[0]):
            durations = [(s[i][1] - s[i][0]) / 1e3 for s in steps]
            gaps = [max(0, s[i][0] - s[i - 1][1]) / 1e3 if i else 0.0 for s in steps]
            print(f"{i:>4} {statistics.median(durations):>9.2f} {statistics.median(gaps):>7.2f}  {name}")


# ncu names its units in more than one way across versions; the 2025.3 on the GPU
# machine gave kernel durations that match the CUPTI timeline only as nanoseconds.
US_PER_UNIT = {"ns": 1e-3, "nsecond": 1e-3, "us": 1.0, "usecond": 1.0, "ms": 1e3, "msecond": 1e3}


def profile(worker, case):
    """Each kernel's share of a decode step: the kernels launched STEPS times
    or more per layer-count are the step's; prefill's run once each."""
    proc = subprocess.run(["ncu", "--clock-control", "none", "--cache-control", "none", "--metrics",
                           "gpu__time_duration.sum", "--csv",
                           "--launch-count", "20000", worker, "--job", os.path.join(case, "job.json"), "--out", case],
                          capture_output=True, text=True, env={**os.environ, **MODE_ENV["eager"]})
    rows = [r for r in csv.DictReader(io.StringIO(proc.stdout[proc.stdout.find('"ID"'):]))
            if r.get("Metric Name") == "gpu__time_duration.sum"]
    if not rows:
        print("ncu gave no kernel rows:", proc.stdout[-1500:], proc.stderr[-1500:])
        return 1
    by_name = {}
    for r in rows:
        scale = US_PER_UNIT.get(r["Metric Unit"])
        if scale is None:
            raise SystemExit(f"ncu reported durations in {r['Metric Unit']!r}, a unit this script does not know")
        name = r["Kernel Name"].split("(")[0][:60]
        by_name.setdefault((name, r["Grid Size"], r["Block Size"]), []).append(float(r["Metric Value"].replace(",", "")) * scale)
    # The decode step's kernels: launched at least STEPS times.
    step = {k: v for k, v in by_name.items() if len(v) >= STEPS}
    per_step = {k: statistics.median(v) * len(v) / STEPS for k, v in step.items()}
    total = sum(per_step.values())
    print(f"\nkernels of one decode step (ncu, serialised, caches as the previous kernel left them): "
          f"{total:.1f} us of GPU time per step")
    print(f"{'us/step':>8} {'share':>6} {'launches/step':>13} {'median us':>9}  kernel [grid] [block]")
    for key, us in sorted(per_step.items(), key=lambda kv: -kv[1]):
        print(f"{us:>8.1f} {us / total:>6.1%} {len(step[key]) / STEPS:>13.1f} {statistics.median(step[key]):>9.2f}  "
              f"{key[0]} [{key[1]}] [{key[2]}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
