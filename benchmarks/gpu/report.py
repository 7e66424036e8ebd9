#!/usr/bin/env python3
"""Builds benchmarks/results/gpu-*.json from one device call's files (ours-*.json, peer_bench*.json, gpu.txt, and where
they were run interleaved.json, weight-sync-cuda.json, replica-memory-3B.json, seed-step-3B.json).

Usage: python3 benchmarks/gpu/report.py DIR [--call-note TEXT] > benchmarks/results/gpu-<device>-<date>.json
Ratios are only computed between figures of the same call (the files of DIR).
"""
import json
import os
import sys


def load(path):
    return json.load(open(path)) if os.path.exists(path) else None


def ratio(a, b):
    return round(a / b, 2) if a is not None and b else None


def main():
    folder = sys.argv[1]
    note = sys.argv[sys.argv.index("--call-note") + 1] if "--call-note" in sys.argv else ""
    ours = {shape: load(os.path.join(folder, f"ours-{shape}.json")) for shape in ("0.5B", "3B")}
    peer = load(os.path.join(folder, "peer_bench.json")) or {}
    peer2 = load(os.path.join(folder, "peer_bench2.json")) or {}
    gpu = open(os.path.join(folder, "gpu.txt")).read().strip().splitlines()
    sync = load(os.path.join(folder, "weight-sync-cuda.json")) or {}
    split_sync = load(os.path.join(folder, "weight-sync-cuda-streams.json")) or {}
    replica = load(os.path.join(folder, "replica-memory-3B.json")) or {}
    interleaved = load(os.path.join(folder, "interleaved.json"))
    o5 = ours["0.5B"] or {}
    o3 = ours["3B"] or {}
    result = {
        "benchmark": "model generation and training step, bf16, random weights, prompt 128, 256 new tokens forced, temperature 1",
        "device": gpu[0] if gpu else None,
        "peer_software": gpu[1] if len(gpu) > 1 else None,
        "date": o5.get("date") or o3.get("date"),
        "note": note,
        "ours": {k: v for k, v in (("0.5B", ours["0.5B"]), ("3B", ours["3B"])) if v},
        "peer_bench": peer or None,
        "peer_bench2": peer2 or None,
        "ratios": {
            "generation_b256_vs_hf_generate": ratio(o5.get("generate_B256_tok_per_s"), peer.get("hf_generate_0.5B_B256_tok_per_s")),
            "generation_b256_vs_hf_compiled": ratio(o5.get("generate_B256_tok_per_s"), peer2.get("hf_static_compiled_0.5B_B256_tok_per_s")),
            "generation_b1_vs_hf_generate": ratio(o5.get("generate_B1_tok_per_s"), peer.get("hf_generate_0.5B_B1_tok_per_s")),
            "generation_b64_vs_hf_generate": ratio(o5.get("generate_B64_tok_per_s"), peer.get("hf_generate_0.5B_B64_tok_per_s")),
            "generation_3b_b256_vs_hf_generate": ratio(o3.get("generate_B256_tok_per_s"), peer.get("hf_generate_3B_B256_tok_per_s")),
            "generation_b256_vs_eager_loop": ratio(o5.get("generate_B256_tok_per_s"), peer2.get("eager_loop_0.5B_B256_tok_per_s")),
            "generation_eager_loop_b256_vs_hf_generate": ratio(o5.get("generate_eager_B256_tok_per_s"), peer.get("hf_generate_0.5B_B256_tok_per_s")),
            "generation_eager_loop_b1_vs_hf_generate": ratio(o5.get("generate_eager_B1_tok_per_s"), peer.get("hf_generate_0.5B_B1_tok_per_s")),
            "generation_b1_vs_hf_compiled": ratio(o5.get("generate_B1_tok_per_s"), peer2.get("hf_static_compiled_0.5B_B1_tok_per_s")),
            "training_vs_torch_eager": ratio(o5.get("train_B8_T512_tok_per_s"), peer.get("torch_train_0.5B_B8_T512_tok_per_s")),
            "training_3b_vs_torch_eager_checkpointed": ratio(o3.get("train_B4_T512_tok_per_s"), peer.get("torch_train_3B_B4_T512_tok_per_s")),
        },
        "weight_sync_0_5b_s": sync.get("weight_sync_0_5b_s"),
        "weight_sync_0_5b_min_s": sync.get("weight_sync_0_5b_min_s"),
        "weight_sync_0_5b_max_s": sync.get("weight_sync_0_5b_max_s"),
        "weight_sync_0_5b_runs_s": [run["total"] for run in sync.get("runs_s", [])] or None,
        "weight_transport_gb_per_s_by_connections": sync.get("concurrent_connections_gb_per_s"),
        # The same syncs with each pull split over several streams and connections (Generation:WeightStreams).
        "weight_sync_0_5b_by_pull_streams": {
            str(run.get("pull_streams", 1)): {
                "median_s": run.get("weight_sync_0_5b_s"), "min_s": run.get("weight_sync_0_5b_min_s"),
                "max_s": run.get("weight_sync_0_5b_max_s"), "pull_median_s": run.get("median_s", {}).get("pull")}
            for run in (sync, split_sync) if run} or None,
        "seed_3b_trainer_replica_peak_gib": replica.get("replica_peak_gib"),
        "seed_3b_trainer_replica_split_gib": replica_split(replica),
        "seed_3b_step_s": (load(os.path.join(folder, "seed-step-3B.json")) or {}).get("seed_step_s"),
        "seed_3b_step_split": ((load(os.path.join(folder, "seed-step-3B.json")) or {}).get("steps") or [None])[-1],
    }
    if interleaved:
        # Ours and the compiled peer in turns (interleaved.py): medians of several runs each, in place of the single runs.
        result["ratios"].update(interleaved.get("ratios", {}))
        result["generation_vs_hf_compiled_interleaved"] = {
            side: interleaved.get(side) for side in ("ours_graph_0.5B", "peer_hf_static_compiled_0.5B", "rounds", "peer_software")}
    result["ratios"] = {k: v for k, v in result["ratios"].items() if v is not None}
    if result["seed_3b_step_s"] is None:
        logged = logged_seed_steps(os.path.join(folder, "ours.log"))
        if logged:
            # The run died before writing its JSON: the steps it finished, from its progress lines, and why it stopped.
            result["seed_3b_step_s"] = logged[-1]["step_s"]
            result["seed_3b_step_split"] = logged[-1]
            result["seed_3b_steps_completed"] = len(logged)
            result["seed_3b_step_failure"] = first_error(os.path.join(folder, "ours.log"))
    # nvidia-smi's samples while each ran (the caching allocator's reserve and the CUDA context included).
    for csv, key in (("seed-step-memory.csv", "seed_3b_step_peak_gpu_memory_mib"),
                     ("replica-memory.csv", "seed_3b_trainer_replica_sampled_peak_mib")):
        memory = os.path.join(folder, csv)
        if os.path.exists(memory):
            used = [int(line.split()[0]) for line in open(memory) if line.strip() and line.split()[0].isdigit()]
            result[key] = max(used) if used else None
    profile = os.path.join(folder, "profile.log")
    if os.path.exists(profile):
        # SamplerProfile's lines, one per generate call in the order run (model-bench: per loop, warm-up then timed, per batch).
        result["decode_profile"] = [line.strip() for line in open(profile) if line.startswith(("sampler profile:", "generate ["))]
    print(json.dumps(result, indent=2))


def replica_split(replica):
    """One trainer replica's GiB by what holds them (ReplicaMemoryBench): tensors held, CUDA context, the rest."""
    if "replica_peak_gib" not in replica:
        return None
    split = dict(replica.get("held_gib", {}))
    split["cuda_context"] = replica.get("cuda_context_gib")
    split["activations_and_allocator_reserve"] = replica.get("activations_and_allocator_reserve_gib")
    return split


def logged_seed_steps(log):
    """The split of each 'seed step N/M (3B): step_s 33.15, generate_s 11.87, ...' line of model-bench's log."""
    steps = []
    for line in open(log) if os.path.exists(log) else []:
        if line.startswith("seed step ") and "): " in line:
            pairs = (item.split(" ") for item in line.split("): ", 1)[1].strip().split(", "))
            steps.append({key: float(value) for key, value in pairs})
    return steps


def first_error(log):
    for line in open(log) if os.path.exists(log) else []:
        if line.startswith("Unhandled exception."):
            return line.strip()[:400]
    return None


if __name__ == "__main__":
    main()
