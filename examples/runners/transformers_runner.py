#!/usr/bin/env python3
"""A Gauntlet runner (docs/runner-contract.md, version 1) on Hugging Face
transformers and PyTorch: the "Target (vLLM-PyTorch)" column of the seeds,
measured on the same prompts and judged against the same CPU reference as
the built-in backends.

    transformers_runner.py --request runner.json [--device cuda]

The batch is left-padded and decoded together, one token per step for every
sequence, with the KV cache transformers keeps: TTFT is the batched prefill
to the first tokens, ITL a decode step, both synchronised with the device.
In metrics mode the reference's tokens are fed back (golden-token decoding).
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
from transformers import AutoModelForCausalLM

DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


def now(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter()


def decode(model, prompts, steps, golden, device, keep_logits):
    batch = len(prompts)
    longest = max(len(p) for p in prompts)
    ids = torch.zeros((batch, longest), dtype=torch.long, device=device)
    mask = torch.zeros((batch, longest), dtype=torch.long, device=device)
    for b, prompt in enumerate(prompts):
        ids[b, longest - len(prompt):] = torch.tensor(prompt, device=device)
        mask[b, longest - len(prompt):] = 1
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    logits_out = np.zeros((batch, steps, model.config.vocab_size), dtype=np.float32) if keep_logits else None
    tokens = [[] for _ in prompts]
    step_ms = []
    with torch.inference_mode():
        start = now(device)
        out = model(input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True)
        last = out.logits[:, -1, :]
        picked = last.argmax(-1)
        ttft_ms = (now(device) - start) * 1000
        past = out.past_key_values
        for step in range(steps):
            if keep_logits:
                logits_out[:, step] = last.float().cpu().numpy()
            for b in range(batch):
                tokens[b].append(int(picked[b]))
            if step + 1 == steps:
                break
            feed = torch.tensor([golden[b][step] for b in range(batch)], device=device) if golden else picked
            mask = torch.cat([mask, torch.ones((batch, 1), dtype=mask.dtype, device=device)], dim=1)
            positions = positions[:, -1:] + 1
            step_start = now(device)
            out = model(input_ids=feed[:, None], attention_mask=mask, position_ids=positions,
                        past_key_values=past, use_cache=True)
            last = out.logits[:, -1, :]
            picked = last.argmax(-1)
            step_ms.append((now(device) - step_start) * 1000)
            past = out.past_key_values
    return tokens, logits_out, ttft_ms, step_ms


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--request", default=os.environ.get("GAUNTLET_RUNNER_REQUEST"))
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--warmup", type=int, default=1, help="untimed decodes before a benchmark")
    args = parser.parse_args()
    with open(args.request) as f:
        request = json.load(f)
    if request.get("version", 1) > 1:
        sys.exit(f"runner.json is contract version {request['version']}; this runner knows version 1")
    if request["tp"] > 1:
        sys.exit("this runner drives one device; run tp > 1 with a runner that shards (vLLM, torchrun + DTensor)")
    stage, out = request["stage"], request["out"]
    dtype = DTYPES.get(request["dtype"])
    if dtype is None:
        sys.exit(f"dtype {request['dtype']}: this runner takes fp32, fp16 or bf16")
    device = torch.device(args.device)
    model = AutoModelForCausalLM.from_pretrained(request["model"], torch_dtype=dtype).to(device).eval()
    print(f"transformers runner: {stage} ({request['mode']}) of {request['model']} in {request['dtype']} on {device}",
          flush=True)
    if stage == "compile":
        with open(os.path.join(out, "result.json"), "w") as f:
            json.dump({"metrics": {"parameters": sum(p.numel() for p in model.parameters())}}, f)
        return
    with open(request["prompts"]) as f:
        prompts = json.load(f)["prompts"]
    golden = None
    if request.get("golden_tokens"):
        with open(request["golden_tokens"]) as f:
            golden = json.load(f)["tokens"]
    steps = request["max_new_tokens"]
    benchmark = stage == "benchmark"
    for _ in range(args.warmup if benchmark else 0):
        decode(model, prompts, steps, None, device, keep_logits=False)
    tokens, logits, ttft_ms, step_ms = decode(model, prompts, steps, golden, device, keep_logits=not benchmark)
    itl_ms = float(np.mean(step_ms)) if step_ms else 0.0
    if not benchmark:
        with open(os.path.join(out, "tokens.json"), "w") as f:
            json.dump({"tokens": tokens}, f)
        np.save(os.path.join(out, "logits.npy"), logits)
    with open(os.path.join(out, "result.json"), "w") as f:
        json.dump({"metrics": {"ttft_ms": ttft_ms, "itl_ms": itl_ms,
                               "tokens_per_s": 1000.0 * len(prompts) / itl_ms if itl_ms else 0.0},
                   "samples": {"itl_ms": step_ms}}, f)


if __name__ == "__main__":
    main()
