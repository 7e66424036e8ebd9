"""Writes a task benchmark's result JSON from its runs' eval.jsonl and timings (benchmarks/tasks/run-task-cpu.sh)."""
import argparse
import json
import math
import os
import platform
import statistics
from datetime import datetime, timezone


def evaluations(run):
    with open(os.path.join(run, "eval.jsonl"), encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return rows[0], rows[-1]


def large_eval(start, run):
    """The starting model and the run's last checkpoint on the larger held-out evaluation (grpo eval)."""
    with open(run + ".eval.json", encoding="utf-8") as f:
        end = json.load(f)
    keys = ("sampled_success_rate", "greedy_success_rate", "pass_at_k")
    return {
        "tasks": end["tasks"], "samples": end["k"], "model": end["model"],
        "before": {k: start[k] for k in keys}, "after": {k: end[k] for k in keys},
        "sampled_gain": end["sampled_success_rate"] - start["sampled_success_rate"],
        "greedy_gain": end["greedy_success_rate"] - start["greedy_success_rate"],
        # Task-level binomial standard errors: the samples of one task are not independent, so tasks are the unit.
        "sampled_gain_standard_error": math.hypot(se(start["sampled_success_rate"], end["tasks"]),
                                                  se(end["sampled_success_rate"], end["tasks"])),
        "greedy_gain_standard_error": math.hypot(se(start["greedy_success_rate"], end["tasks"]),
                                                 se(end["greedy_success_rate"], end["tasks"])),
    }


def se(rate, count):
    return math.sqrt(rate * (1 - rate) / count)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipe", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--start-eval", required=True, help="grpo eval's report on the starting model")
    parser.add_argument("runs", nargs="+")
    args = parser.parse_args()
    with open(args.start_eval, encoding="utf-8") as f:
        start = json.load(f)
    results = []
    for run in args.runs:
        before, after = evaluations(run)
        with open(run + ".seconds", encoding="utf-8") as f:
            seconds = int(f.read().split()[-1])
        with open(os.path.join(run, "recipe.json"), encoding="utf-8") as f:
            seed = json.load(f).get("seed")
        results.append({
            "run": run, "seed": seed, "seconds": seconds, "steps": after["step"],
            "sampled_before": before["sampled_success_rate"], "sampled_after": after["sampled_success_rate"],
            "greedy_before": before["greedy_success_rate"], "greedy_after": after["greedy_success_rate"],
            "sampled_gain": after["sampled_success_rate"] - before["sampled_success_rate"],
            "greedy_gain": after["greedy_success_rate"] - before["greedy_success_rate"],
            "eval_tasks": after["tasks"], "eval_samples": after["samples"],
            "large_eval": large_eval(start, run),
        })
    gains = [r["sampled_gain"] for r in results]
    first = results[0]
    # One evaluation's sampling noise: the standard error of a rate over tasks x samples completions.
    n = first["eval_tasks"] * first["eval_samples"]
    p = first["sampled_before"]
    report = {
        "benchmark": "task-cpu",
        "recipe": args.recipe,
        "command": f"grpo train --recipe {args.recipe} --output RUN (one run per seed)",
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "peer": "none: no other trainer runs this task here; the baseline is the same model before training",
        "runs": results,
        "sampled_gain_mean": statistics.mean(gains),
        "sampled_gain_min": min(gains),
        "sampled_gain_max": max(gains),
        "sampled_rate_standard_error_one_eval": math.sqrt(p * (1 - p) / n),
        "large_eval_sampled_gain_mean": statistics.mean(r["large_eval"]["sampled_gain"] for r in results),
        "large_eval_greedy_gain_mean": statistics.mean(r["large_eval"]["greedy_gain"] for r in results),
        "seconds_max": max(r["seconds"] for r in results),
    }
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(report, f, indent=2)
        f.write("\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
