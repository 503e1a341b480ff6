#!/usr/bin/env python3
"""The transformers runner beside the built-in GPU backend, through the
worker's llm stages exactly as a sweep runs them: the CPU reference, then
each backend's run validated against it (metrics mode, golden tokens), then
each backend's benchmark on the same prompts.

    python3 bench/gpu/runner_bench.py build-gpu/bin/gauntlet-worker [--models tiny,large]

Prints, per model, the validation figures of both runs and the TTFT/ITL of
both benchmarks with their ratio (transformers over built-in).
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUNNER = {"name": "transformers", "launcher": "none",
          "command": f"python3 {ROOT}/examples/runners/transformers_runner.py --request {{request}}"}
# layers, hidden, heads, kv heads, vocab, intermediate
MODELS = {"tiny": (4, 256, 8, 2, 512, 688), "large": (8, 2048, 32, 8, 32000, 5504)}
# Random models are near-flat: their own entropy (~2.9 nats over the top 20)
# is over any useful cross-entropy bound, so the device is judged by its KL.
VALIDATE = {"test_type": "metrics", "cross_entropy_threshold": 10, "kl_threshold": 0.01, "failure_rate_threshold": 0.01,
            "top_k": 20}


def stage(worker, folder, inputs, backend, params):
    os.makedirs(folder, exist_ok=True)
    job = {"suite": "llm", "backend": backend, "inputs": inputs, "params": params}
    with open(os.path.join(folder, "job.json"), "w") as f:
        json.dump(job, f)
    proc = subprocess.run([worker, "--job", os.path.join(folder, "job.json"), "--out", folder],
                          capture_output=True, text=True)
    with open(os.path.join(folder, "result.json")) as f:
        result = json.load(f)
    if result["verdict"] != "pass":
        print(f"{folder}: {result.get('reason')}\n{proc.stdout[-1500:]}\n{proc.stderr[-1500:]}", file=sys.stderr)
    return result


def link_inputs(case, **folders):
    inputs = os.path.join(case, "in")
    os.makedirs(inputs, exist_ok=True)
    for name, target in folders.items():
        link = os.path.join(inputs, name)
        if os.path.lexists(link):
            os.remove(link)
        os.symlink(target, link)
    return inputs


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("worker")
    parser.add_argument("--models", default="tiny,large")
    parser.add_argument("--bench", default="1x1024,8x1024", help="batch x context of the benchmarks")
    parser.add_argument("--check", action="store_true", help="exit 1 unless every validation and benchmark passes")
    args = parser.parse_args()
    failures = 0
    worker = os.path.abspath(args.worker)
    root = tempfile.mkdtemp(prefix="gauntlet-runner-bench-")
    dataset = {"type": "sharegpt", "path": os.path.join(ROOT, "examples/datasets/sharegpt-mini.json")}
    for name in args.models.split(","):
        layers, hidden, heads, kv_heads, vocab, inter = MODELS[name]
        model = os.path.join(root, name)
        subprocess.run([worker, "make-model", "--out", model, "--seed", "5", "--layers", str(layers), "--hidden",
                        str(hidden), "--heads", str(heads), "--kv-heads", str(kv_heads), "--vocab", str(vocab),
                        "--intermediate", str(inter), "--max-positions", "4096"], check=True, capture_output=True)
        base = {"model": model, "dtype": "bf16", "tp": 1, "attention": "paged", "context": 2048, "batch": 2,
                "prompt_len": 64, "max_new_tokens": 16, "dataset": dataset, "test_type": "metrics"}
        case = os.path.join(root, name + "-numerics")
        reference = stage(worker, os.path.join(case, "reference"), "", "cpu", {**base, "stage": "reference"})
        assert reference["verdict"] == "pass"
        print(f"== {name}: {layers} layers, hidden {hidden}, vocab {vocab}; 2 prompts x 16 tokens, bf16")
        print(f"{'backend':>14} {'verdict':>7} {'max CE':>7} {'mean KL':>9} {'max KL':>9} {'top-1':>6} {'failed':>6}")
        for label, backend, extra in (("built-in gpu", "gpu", {}), ("transformers", "runner", {"runner": RUNNER})):
            run_dir = os.path.join(case, "run-" + backend)
            inputs = link_inputs(os.path.join(case, backend), reference=os.path.join(case, "reference"))
            run = stage(worker, run_dir, inputs, backend, {**base, **extra, "stage": "run"})
            inputs = link_inputs(os.path.join(case, backend), run=run_dir)
            judged = stage(worker, os.path.join(case, "validate-" + backend), inputs, "cpu",
                           {**VALIDATE, "run": base, "stage": "validate"}) if run["verdict"] == "pass" else run
            failures += judged["verdict"] != "pass"
            m = judged.get("metrics", {})
            print(f"{label:>14} {judged['verdict']:>7} {m.get('max_cross_entropy', 0):>7.3f} {m.get('mean_kl', 0):>9.2e} "
                  f"{m.get('max_kl', 0):>9.2e} {m.get('top1_agreement', 0):>6.2f} {m.get('failed_steps', 0):>6.0f}")
        print(f"{'batch x ctx':>11} {'built-in TTFT':>13} {'tf TTFT':>9} {'ratio':>6} {'built-in ITL':>12} {'tf ITL':>8} {'ratio':>6}")
        rng = random.Random(1)
        for shape in args.bench.split(","):
            batch, context = map(int, shape.split("x"))
            bench = os.path.join(root, f"{name}-{shape}")
            os.makedirs(os.path.join(bench, "in", "reference"))
            prompt_len = context - 64
            prompts = [[rng.randrange(3, vocab) for _ in range(prompt_len)] for _ in range(batch)]
            with open(os.path.join(bench, "in", "reference", "prompts.json"), "w") as f:
                json.dump({"prompts": prompts}, f)
            params = {**base, "stage": "benchmark", "batch": batch, "prompt_len": prompt_len, "context": context,
                      "max_new_tokens": 32}
            figures = {}
            for backend, extra in (("gpu", {}), ("runner", {"runner": RUNNER})):
                result = stage(worker, os.path.join(bench, backend), os.path.join(bench, "in"), backend, {**params, **extra})
                figures[backend] = result.get("metrics", {})
                failures += result["verdict"] != "pass"
            g, t = figures["gpu"], figures["runner"]
            print(f"{shape:>11} {g.get('ttft_ms', 0):>11.2f}ms {t.get('ttft_ms', 0):>7.2f}ms "
                  f"{t.get('ttft_ms', 0) / max(g.get('ttft_ms', 1e-9), 1e-9):>6.2f} {g.get('itl_ms', 0):>10.3f}ms "
                  f"{t.get('itl_ms', 0):>6.3f}ms {t.get('itl_ms', 0) / max(g.get('itl_ms', 1e-9), 1e-9):>6.2f}", flush=True)
    return 1 if args.check and failures else 0


if __name__ == "__main__":
    sys.exit(main())
