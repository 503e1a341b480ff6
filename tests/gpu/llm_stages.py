"""The worker's LLM stages as the farm runs them, on the GPU machine.

For each case: make a random model, run the `reference` stage on the CPU
(fp32), the `run` stage on the GPU (golden-token decoding), then `validate`
(metrics). The cross-entropy threshold is the reference's own worst top-k
entropy plus 0.05 nats, so a step fails when the GPU's distribution is more
than 0.05 nats of KL divergence from the CPU's (random models have nearly flat
distributions, so an absolute threshold says nothing). A `benchmark` stage
reports TTFT and ITL. The `run` stage runs twice, with and without chained
launches (GAUNTLET_GPU_PDL=0), and their logits must agree bit for bit.

    python3 tests/gpu/llm_stages.py build/bin/gauntlet-worker examples/datasets/sharegpt-mini.json [case ...]

`8b-bf16` (granite-3.3-8b's shapes, 16.7 GB) runs only when named; with
GAUNTLET_STAGES_MODEL_DIR it takes the model made there instead of making one.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

TINY = ["--layers", "4", "--hidden", "256", "--heads", "8", "--kv-heads", "2", "--vocab", "512"]
LARGE = ["--layers", "8", "--hidden", "2048", "--heads", "32", "--kv-heads", "8", "--vocab", "32000",
         "--dtype", "bf16", "--max-positions", "16384"]
EIGHT_B = ["--layers", "40", "--hidden", "4096", "--heads", "32", "--kv-heads", "8", "--vocab", "49155",
           "--intermediate", "12800", "--dtype", "bf16", "--max-positions", "32768"]
CASES = {
    "tiny-bf16": dict(model=TINY, dtype="bf16", attention="paged", batch=4, prompt_len=64, context=4096),
    "tiny-fp16": dict(model=TINY, dtype="fp16", attention="paged", batch=4, prompt_len=64, context=4096),
    "tiny-fp8kv": dict(model=TINY, dtype="bf16", attention="paged_fp8", batch=4, prompt_len=64, context=4096),
    "large-bf16": dict(model=LARGE, dtype="bf16", attention="paged", batch=2, prompt_len=256, context=16384),
    "large-fp8kv": dict(model=LARGE, dtype="bf16", attention="paged_fp8", batch=2, prompt_len=256, context=16384),
    "8b-bf16": dict(model=EIGHT_B, dtype="bf16", attention="paged", batch=2, prompt_len=64, context=4096, heavy=True),
}
STEPS, TOP_K = 16, 20


def stage(worker, root, name, backend, params, inputs=None, env=None):
    out = os.path.join(root, name)
    os.makedirs(out, exist_ok=True)
    job = {"suite": "llm", "params": params, "backend": backend}
    if inputs:
        job["inputs"] = inputs
    with open(os.path.join(out, "job.json"), "w") as f:
        json.dump(job, f)
    proc = subprocess.run([worker, "--job", os.path.join(out, "job.json"), "--out", out], capture_output=True, text=True,
                          env={**os.environ, **(env or {})})
    result = json.load(open(os.path.join(out, "result.json")))
    if result["verdict"] != "pass" and params["stage"] != "validate":
        raise SystemExit(f"{name} failed: {result['reason']}\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
    return out, result


def top_k_entropy(logits):
    """Per-step entropy of the reference's softmax over its own top-k, as validation takes it."""
    flat = logits.reshape(-1, logits.shape[-1]).astype(np.float64)
    top = np.sort(flat, axis=1)[:, -TOP_K:]
    p = np.exp(top - top.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    return -(p * np.log(p)).sum(axis=1)


def run_case(worker, dataset, root, name, case):
    model = os.path.join(root, "model")
    made = os.environ.get("GAUNTLET_STAGES_MODEL_DIR") if case.get("heavy") else None
    if made and os.path.exists(os.path.join(made, "config.json")):
        model = made
    else:
        subprocess.run([worker, "make-model", "--out", model, "--seed", "3", *case["model"]], check=True,
                       capture_output=True)
    base = {"model": model, "batch": case["batch"], "prompt_len": case["prompt_len"],
            "dataset": {"type": "sharegpt", "path": dataset}, "homogeneous": False, "max_new_tokens": STEPS}
    reference, _ = stage(worker, root, "reference", "cpu", {**base, "stage": "reference"})
    device = {**base, "dtype": case["dtype"], "attention": case["attention"], "context": case["context"],
              "test_type": "metrics"}
    inputs = os.path.join(root, "inputs")
    os.makedirs(inputs, exist_ok=True)
    os.symlink(reference, os.path.join(inputs, "reference"))
    run, _ = stage(worker, root, "run", "gpu", {**device, "stage": "run"}, inputs)
    os.symlink(run, os.path.join(inputs, "run"))
    ref_logits = np.load(os.path.join(reference, "logits.npy"))
    gpu_logits = np.load(os.path.join(run, "logits.npy"))
    # Chained launches (kernels that start before their predecessor ends) move
    # no data: a race would show here as a changed bit.
    unchained, _ = stage(worker, root, "run-unchained", "gpu", {**device, "stage": "run"}, inputs,
                         env={"GAUNTLET_GPU_PDL": "0"})
    if not np.array_equal(gpu_logits, np.load(os.path.join(unchained, "logits.npy"))):
        print(f"{name}: the logits with chained launches differ from those without (GAUNTLET_GPU_PDL=0)")
        return False
    entropy = top_k_entropy(ref_logits)
    threshold = float(entropy.max()) + 0.05
    _, verdict = stage(worker, root, "validate", "cpu",
                       {"stage": "validate", "test_type": "metrics", "top_k": TOP_K,
                        "cross_entropy_threshold": threshold, "failure_rate_threshold": 0.1}, inputs)
    ref_tokens = np.array(json.load(open(os.path.join(reference, "tokens.json")))["tokens"])
    gpu_tokens = ref_logits.argmax(-1) == gpu_logits.argmax(-1)
    _, bench = stage(worker, root, "benchmark", "gpu", {**device, "stage": "benchmark"}, inputs)
    m = verdict["metrics"]
    print(f"{name:12} {case['dtype']:5} {case['attention']:9} ctx {case['context']:5} batch {case['batch']} "
          f"prompt {case['prompt_len']:4}: {verdict['verdict']:4}  failed steps {int(m['failed_steps'])}/{int(m['steps'])}, "
          f"mean CE {m['mean_cross_entropy']:.4f} (ref entropy {entropy.mean():.4f}, max KL ≈ "
          f"{m['max_cross_entropy'] - entropy.max():+.4f}), argmax agrees {gpu_tokens.mean():.3f}; "
          f"TTFT {bench['metrics']['ttft_ms']:.2f} ms, ITL {bench['metrics']['itl_ms']:.3f} ms "
          f"({ref_tokens.shape[0]} sequences)")
    return verdict["verdict"] == "pass"


def main():
    worker, dataset = sys.argv[1], sys.argv[2]
    names = sys.argv[3:] or [name for name, case in CASES.items() if not case.get("heavy")]
    ok = True
    for name in names:
        with tempfile.TemporaryDirectory(prefix=f"gauntlet-{name}-") as root:
            ok = run_case(worker, dataset, root, name, CASES[name]) and ok
    print("all passed" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
