#!/usr/bin/env python3
"""Ours and the compiled peer (transformers' static cache + torch.compile) in turns, in one device call: Qwen2.5-0.5B-shaped
random weights, bf16, prompt 128, 256 new tokens forced, temperature 1, at batch 1 and 256.

Usage (GPU machine, repo root, after `bash benchmarks/gpu/pack-all.sh`, carry .gpu):
    python3 benchmarks/gpu/interleaved.py [--rounds 5]
The peer's model is built and compiled once per batch size (its first generate). Then every round times one peer
generate per batch size and starts one model-bench process (a fresh CUDA graph per batch, --repeats 1), so a drift of
the machine during the call reaches both sides alike. Writes $OUT/interleaved.json: per side and batch the runs in
order, median, min and max; the ratios are of the medians.
"""
import json
import os
import statistics
import subprocess
import sys
import time

import torch
from transformers import Qwen2Config, Qwen2ForCausalLM

PROMPT, NEW, BATCHES = 128, 256, (1, 256)
OUT = os.environ.get("OUT", ".")


def peer_model():
    config = Qwen2Config(vocab_size=151936, hidden_size=896, intermediate_size=4864, num_hidden_layers=24,
                         num_attention_heads=14, num_key_value_heads=2, max_position_embeddings=32768, rope_theta=1e6,
                         rms_norm_eps=1e-6, tie_word_embeddings=True, use_sliding_window=False)
    torch.manual_seed(0)
    with torch.device("cuda"):
        return Qwen2ForCausalLM._from_config(config, torch_dtype=torch.bfloat16, attn_implementation="sdpa").eval()


def peer_rate(model, ids):
    settings = dict(max_new_tokens=NEW, min_new_tokens=NEW, do_sample=True, temperature=1.0, top_p=1.0, top_k=0,
                    pad_token_id=0, cache_implementation="static")
    torch.cuda.synchronize()
    start = time.perf_counter()
    model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), **settings)
    torch.cuda.synchronize()
    return round(ids.shape[0] * NEW / (time.perf_counter() - start), 1)


def ours_round(index, log):
    output = os.path.join(OUT, f"ours-interleaved-{index}.json")
    command = ["bash", ".gpu/on-device.sh", "--shape", "0.5B", "--device", "cuda", "--dtype", "bfloat16",
               "--batches", ",".join(map(str, BATCHES)), "--prompt", str(PROMPT), "--new", str(NEW), "--skip-train",
               "--loops", "graph", "--repeats", "1", "--output", output]
    try:
        code = subprocess.call(command, stdout=log, stderr=log, timeout=180)
    except subprocess.TimeoutExpired:
        code = "timeout"
    figures = json.load(open(output)) if code == 0 and os.path.exists(output) else {}
    return {b: figures.get(f"generate_B{b}_tok_per_s") for b in BATCHES}, code


def spread(runs):
    measured = [r for r in runs if r is not None]
    if not measured:
        return {"runs": runs}
    return {"runs": runs, "median": statistics.median(measured), "min": min(measured), "max": max(measured)}


def main():
    rounds = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 5
    model = peer_model()
    prompts = {b: torch.randint(0, 150000, (b, PROMPT), device="cuda") for b in BATCHES}
    result = {"what": __doc__.split("\n\n")[0].replace("\n", " "), "rounds": rounds,
              "peer_software": f"torch {torch.__version__}, transformers {__import__('transformers').__version__}",
              "device": torch.cuda.get_device_name(0), "date": time.strftime("%Y-%m-%d", time.gmtime()),
              "peer_compile_s": {}, "ours_exit_codes": []}
    peer_runs = {b: [] for b in BATCHES}
    ours_runs = {b: [] for b in BATCHES}
    for b in BATCHES:
        start = time.perf_counter()
        peer_rate(model, prompts[b])  # compiles
        result["peer_compile_s"][b] = round(time.perf_counter() - start, 1)
        print(f"peer B={b}: first generate (compile) {result['peer_compile_s'][b]} s", flush=True)
    with open(os.path.join(OUT, "ours-interleaved.log"), "w") as log:
        for index in range(rounds):
            for b in BATCHES:
                peer_runs[b].append(peer_rate(model, prompts[b]))
            ours, code = ours_round(index, log)
            result["ours_exit_codes"].append(code)
            for b in BATCHES:
                ours_runs[b].append(ours[b])
            print(f"round {index + 1}/{rounds}: peer {[peer_runs[b][-1] for b in BATCHES]}, ours {[ours[b] for b in BATCHES]} "
                  f"tok/s at B={list(BATCHES)}", flush=True)
    result["peer_hf_static_compiled_0.5B"] = {f"B{b}": spread(peer_runs[b]) for b in BATCHES}
    result["ours_graph_0.5B"] = {f"B{b}": spread(ours_runs[b]) for b in BATCHES}
    result["ratios"] = {}
    for b in BATCHES:
        ours, peer = result["ours_graph_0.5B"][f"B{b}"], result["peer_hf_static_compiled_0.5B"][f"B{b}"]
        if "median" in ours and "median" in peer:
            result["ratios"][f"generation_b{b}_vs_hf_compiled"] = round(ours["median"] / peer["median"], 2)
    print(json.dumps(result, indent=1))
    json.dump(result, open(os.path.join(OUT, "interleaved.json"), "w"), indent=1)


if __name__ == "__main__":
    main()
