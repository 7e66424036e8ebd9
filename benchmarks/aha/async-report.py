#!/usr/bin/env python3
"""Writes the on-policy / off-policy comparison of run-async-cpu.sh: one entry per max_staleness, from its run folder.

    python3 benchmarks/aha/async-report.py --out FILE.json STALENESS:RUN_FOLDER:WALL_SECONDS:EXIT_CODE ...
"""
import argparse
import datetime
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(__file__))
from report import cpu_model, read_jsonl  # noqa: E402


def spread(values):
    return {"mean": round(statistics.mean(values), 3), "std": round(statistics.stdev(values), 3) if len(values) > 1 else 0.0,
            "min": round(min(values), 3), "max": round(max(values), 3), "n": len(values)}


def entry(staleness, run, wall, code):
    metrics = read_jsonl(os.path.join(run, "metrics.jsonl"))
    evals = read_jsonl(os.path.join(run, "eval.jsonl"))
    before = next((e for e in evals if e["step"] == 0), None)
    after = evals[-1] if evals and evals[-1]["step"] > 0 else None
    # Step 1 is on-policy whatever the key says (nothing was asked for ahead), so the off-policy figures leave it out.
    later = metrics[1:]
    sampled = [m for m in later if "sampling/importance_sampling_ratio/mean" in m]
    result = {
        "max_staleness": staleness,
        "run_folder": run,
        "exit_code": code,
        "wall_seconds": wall,
        "steps": len(metrics),
        "training_seconds": round(sum(m["step_seconds"] for m in metrics), 1),
        "step_seconds": spread([m["step_seconds"] for m in later]),
        "rollout_wait_seconds": spread([m["rollout_wait_seconds"] for m in later]),
        "optimize_seconds": spread([m["optimize_seconds"] for m in later]),
        "staleness_mean": round(statistics.mean(m["staleness/mean"] for m in later), 3),
        "staleness_max": max(m["staleness/max"] for m in later),
        "importance_weight_mean": spread([m["sampling/importance_sampling_ratio/mean"] for m in sampled]),
        "importance_weight_max": max(m["sampling/importance_sampling_ratio/max"] for m in sampled),
        "truncated_fraction_mean": round(statistics.mean(m["sampling/importance_sampling_ratio/truncated_fraction"] for m in sampled), 5),
        "sampling_logp_difference_max": max(m["sampling/sampling_logp_difference/max"] for m in sampled),
        "train_success_first_5": round(statistics.mean(m["success_rate"] for m in metrics[:5]), 4),
        "train_success_last_5": round(statistics.mean(m["success_rate"] for m in metrics[-5:]), 4),
    }
    for name, e in (("held_out_before", before), ("held_out_after", after)):
        result[name] = None if e is None else {
            "step": e["step"], "tasks": e["tasks"], "sampled_success": e["sampled_success_rate"], "greedy_success": e["greedy_success_rate"]}
    if before and after:
        result["held_out_sampled_gain_points"] = round(100 * (after["sampled_success_rate"] - before["sampled_success_rate"]), 1)
        result["held_out_greedy_gain_points"] = round(100 * (after["greedy_success_rate"] - before["greedy_success_rate"]), 1)
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--note", default="", help="how the runs were made, when not all by run-async-cpu.sh")
    parser.add_argument("runs", nargs="+")
    args = parser.parse_args()
    entries = []
    for spec in args.runs:
        staleness, run, wall, code = spec.split(":")
        entries.append(entry(int(staleness), run, int(wall), int(code)))
    doc = {
        "benchmark": "aha recipe (recipes/countdown-tiny-cpu.yaml) through the AppHost, max_staleness 0 vs 1",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpu": cpu_model(), "cores": os.cpu_count()},
        "command": "bash benchmarks/aha/run-async-cpu.sh",
        "repeats": "one run per setting (each about 20 minutes); spreads are over the steps of that run, step 1 left out",
        "note": args.note,
        "runs": entries,
    }
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2)
    print(json.dumps(doc, indent=2))


if __name__ == "__main__":
    main()
