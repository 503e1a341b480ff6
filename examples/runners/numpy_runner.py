#!/usr/bin/env python3
"""A Gauntlet runner (docs/runner-contract.md, version 1) in plain numpy.

It runs a Hugging Face llama-architecture folder (what `gauntlet-worker
make-model` writes, and granite's multipliers) on the CPU in float32, with
no KV cache: each step runs the whole sequence again. It is slow and small
on purpose: CI runs it to prove the contract end to end, and a team reads it
to see what their own runner must do.

    numpy_runner.py --request runner.json [--fault KIND]

--fault writes a broken output instead, for the contract's own tests:
shape, nan, missing, truncated, perturb (one logit row changed), exit.
"""
import argparse
import json
import os
import struct
import sys
import time

import numpy as np

SAFETENSORS_DTYPES = {"F32": np.float32, "F16": np.float16, "BF16": "bf16"}


def load_safetensors(path):
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
        data = f.read()
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        raw = data[begin:end]
        kind = SAFETENSORS_DTYPES.get(info["dtype"])
        if kind is None:
            raise SystemExit(f"{path}: tensor {name} has dtype {info['dtype']}; this runner reads F32, F16, BF16")
        if kind == "bf16":
            bits = np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16
            array = bits.view(np.float32)
        else:
            array = np.frombuffer(raw, dtype=kind).astype(np.float32)
        tensors[name] = array.reshape(info["shape"])
    return tensors


def load_model(folder):
    with open(os.path.join(folder, "config.json")) as f:
        config = json.load(f)
    weights = {}
    for name in sorted(os.listdir(folder)):
        if name.endswith(".safetensors"):
            weights.update(load_safetensors(os.path.join(folder, name)))
    if "lm_head.weight" not in weights:
        weights["lm_head.weight"] = weights["model.embed_tokens.weight"]
    return config, weights


def rms_norm(x, weight, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * weight


def rope(x, positions, theta):
    # x: [tokens, heads, head_dim], rotating the two halves (Hugging Face's rotate_half).
    half = x.shape[-1] // 2
    frequencies = theta ** (-np.arange(half, dtype=np.float64) * 2 / x.shape[-1])
    angles = positions[:, None].astype(np.float64) * frequencies[None, :]
    cos = np.cos(angles).astype(np.float32)[:, None, :]
    sin = np.sin(angles).astype(np.float32)[:, None, :]
    a, b = x[..., :half], x[..., half:]
    return np.concatenate([a * cos - b * sin, b * cos + a * sin], axis=-1)


def forward(config, w, tokens):
    """Logits [len(tokens), vocab] of one causal sequence."""
    hidden = config["hidden_size"]
    heads = config["num_attention_heads"]
    kv_heads = config.get("num_key_value_heads", heads)
    head_dim = hidden // heads
    eps = config.get("rms_norm_eps", 1e-5)
    theta = config.get("rope_theta", 10000.0)
    residual = config.get("residual_multiplier", 1.0)
    scale = config.get("attention_multiplier") or 1.0 / np.sqrt(head_dim)
    n = len(tokens)
    positions = np.arange(n)
    x = w["model.embed_tokens.weight"][np.asarray(tokens)] * config.get("embedding_multiplier", 1.0)
    mask = np.triu(np.full((n, n), -np.inf, dtype=np.float32), k=1)
    for layer in range(config["num_hidden_layers"]):
        p = f"model.layers.{layer}."
        h = rms_norm(x, w[p + "input_layernorm.weight"], eps)
        q = (h @ w[p + "self_attn.q_proj.weight"].T).reshape(n, heads, head_dim)
        k = (h @ w[p + "self_attn.k_proj.weight"].T).reshape(n, kv_heads, head_dim)
        v = (h @ w[p + "self_attn.v_proj.weight"].T).reshape(n, kv_heads, head_dim)
        q, k = rope(q, positions, theta), rope(k, positions, theta)
        group = heads // kv_heads
        k, v = np.repeat(k, group, axis=1), np.repeat(v, group, axis=1)
        scores = np.einsum("qhd,khd->hqk", q, k) * scale + mask
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        scores /= scores.sum(axis=-1, keepdims=True)
        attended = np.einsum("hqk,khd->qhd", scores, v).reshape(n, hidden)
        x = x + residual * (attended @ w[p + "self_attn.o_proj.weight"].T)
        h = rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
        gate = h @ w[p + "mlp.gate_proj.weight"].T
        up = h @ w[p + "mlp.up_proj.weight"].T
        x = x + residual * ((gate / (1 + np.exp(-gate)) * up) @ w[p + "mlp.down_proj.weight"].T)
    x = rms_norm(x, w["model.norm.weight"], eps)
    return (x @ w["lm_head.weight"].T) / config.get("logits_scaling", 1.0)


def generate(config, weights, prompts, steps, golden):
    """Tokens [batch][steps], logits [batch, steps, vocab], TTFT and per-step times in ms."""
    vocab = config["vocab_size"]
    logits = np.zeros((len(prompts), steps, vocab), dtype=np.float32)
    tokens = [[] for _ in prompts]
    start = time.perf_counter()
    sequences = [list(prompt) for prompt in prompts]
    for b, sequence in enumerate(sequences):
        logits[b, 0] = forward(config, weights, sequence)[-1]
        tokens[b].append(int(np.argmax(logits[b, 0])))
    ttft_ms = (time.perf_counter() - start) * 1000
    step_ms = []
    for step in range(1, steps):
        step_start = time.perf_counter()
        for b, sequence in enumerate(sequences):
            sequence.append(golden[b][step - 1] if golden else tokens[b][-1])
            logits[b, step] = forward(config, weights, sequence)[-1]
            tokens[b].append(int(np.argmax(logits[b, step])))
        step_ms.append((time.perf_counter() - step_start) * 1000)
    return tokens, logits, ttft_ms, step_ms


def write_outputs(out, tokens, logits, fault):
    if fault == "shape":
        logits = logits[:, :, :-1]
    elif fault == "nan":
        logits[0, min(1, logits.shape[1] - 1), 3] = np.nan
    elif fault == "perturb":
        # One step's distribution replaced: what a broken kernel on one row does.
        logits[0, logits.shape[1] - 1] = np.roll(logits[0, logits.shape[1] - 1], 7) * 4
    with open(os.path.join(out, "tokens.json"), "w") as f:
        json.dump({"tokens": tokens}, f)
    if fault == "missing":
        return
    path = os.path.join(out, "logits.npy")
    np.save(path, np.ascontiguousarray(logits, dtype=np.float32))
    if fault == "truncated":
        with open(path, "r+b") as f:
            f.truncate(os.path.getsize(path) // 2)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--request", default=os.environ.get("GAUNTLET_RUNNER_REQUEST"))
    parser.add_argument("--fault", choices=["shape", "nan", "missing", "truncated", "perturb", "exit"])
    args = parser.parse_args()
    with open(args.request) as f:
        request = json.load(f)
    if request.get("version", 1) > 1:
        sys.exit(f"runner.json is contract version {request['version']}; this runner knows version 1")
    stage, out = request["stage"], request["out"]
    print(f"numpy runner: {stage} ({request['mode']}) of {request['model']}", flush=True)
    if args.fault == "exit":
        print("numpy runner: giving up on purpose (--fault exit)", file=sys.stderr)
        sys.exit(4)
    config, weights = load_model(request["model"])
    if stage == "compile":
        # Nothing to compile: loading the weights is the check that they load.
        with open(os.path.join(out, "result.json"), "w") as f:
            json.dump({"metrics": {"tensors": len(weights)}}, f)
        return
    with open(request["prompts"]) as f:
        prompts = json.load(f)["prompts"]
    golden = None
    if request.get("golden_tokens"):
        with open(request["golden_tokens"]) as f:
            golden = json.load(f)["tokens"]
    steps = request["max_new_tokens"]
    tokens, logits, ttft_ms, step_ms = generate(config, weights, prompts, steps, golden)
    itl_ms = float(np.mean(step_ms)) if step_ms else 0.0
    result = {"metrics": {"ttft_ms": ttft_ms, "itl_ms": itl_ms}, "samples": {"itl_ms": step_ms}}
    if stage != "benchmark":
        write_outputs(out, tokens, logits, args.fault)
    with open(os.path.join(out, "result.json"), "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
