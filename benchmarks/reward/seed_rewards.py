#!/usr/bin/env python3
"""The seed recipe's Countdown reward functions (mini-R1), as the benchmark peer of CountdownScorer.

Re-implemented from the recipe's description: format_reward_func and equation_reward_func take the
batch as lists, prepend the "<think>" prefill, and use re + eval exactly as the seed does. The seed's
format reward also writes a 10% sample of completions to disk; that I/O is left out here.

Usage: seed_rewards.py --input CORPUS.jsonl [--repeat R] [--scores-out FILE]
Prints {"completions", "seconds", "completions_per_s", ...}; the time covers scoring only (the best of
R passes, as timeit reports, and their median), after the JSONL file is loaded and parsed.
SyntaxWarnings that eval prints for answers such as "2(3 + 4)" are silenced: they cost stderr writes
the seed would pay too, but they would drown the report.
"""
import argparse
import json
import platform
import re
import statistics
import time
import warnings


def format_reward_func(completions, target, **kwargs):
    """1.0 when the completion is "<think>...</think>\\n<answer>...</answer>", else 0.0."""
    rewards = []
    for completion in completions:
        try:
            completion = "<think>" + completion
            regex = r"^<think>([^<]*(?:<(?!/?think>)[^<]*)*)<\/think>\n<answer>([\s\S]*?)<\/answer>$"
            match = re.search(regex, completion, re.DOTALL)
            if match is None or len(match.groups()) != 2:
                rewards.append(0.0)
            else:
                rewards.append(1.0)
        except Exception:
            rewards.append(0.0)
    return rewards


def equation_reward_func(completions, target, nums, **kwargs):
    """1.0 when the first answer uses every number once and evaluates to the target (within 1e-5)."""
    rewards = []
    for completion, gt, numbers in zip(completions, target, nums):
        try:
            completion = "<think>" + completion
            match = re.search(r"<answer>(.*?)<\/answer>", completion)
            if match is None:
                rewards.append(0.0)
                continue
            equation = match.group(1).strip()
            used_numbers = [int(n) for n in re.findall(r"\d+", equation)]
            if sorted(used_numbers) != sorted(numbers):
                rewards.append(0.0)
                continue
            allowed_pattern = r"^[\d+\-*/().\s]+$"
            if not re.match(allowed_pattern, equation):
                rewards.append(0.0)
                continue
            result = eval(equation, {"__builtins__": None}, {})
            if abs(float(result) - float(gt)) < 1e-5:
                rewards.append(1.0)
            else:
                rewards.append(0.0)
        except Exception:
            rewards.append(0.0)
    return rewards


def load(path):
    completions, targets, nums = [], [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            record = json.loads(line)
            completions.append(record["completion"])
            targets.append(record["target"])
            nums.append(record["nums"])
    return completions, targets, nums


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", required=True)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--scores-out")
    args = parser.parse_args()

    warnings.simplefilter("ignore", SyntaxWarning)
    completions, targets, nums = load(args.input)
    runs = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        formats = format_reward_func(completions, targets)
        equations = equation_reward_func(completions, targets, nums)
        runs.append(time.perf_counter() - start)

    if args.scores_out:
        with open(args.scores_out, "w", encoding="utf-8") as f:
            for fmt, eq in zip(formats, equations):
                f.write(f"{fmt}\t{eq}\n")

    best = min(runs)
    median = statistics.median(runs)
    print(json.dumps({
        "implementation": "seed reward functions (Python re + eval)",
        "completions": len(completions),
        "seconds": round(best, 4),
        "completions_per_s": round(len(completions) / best, 1),
        "median_seconds": round(median, 4),
        "median_completions_per_s": round(len(completions) / median, 1),
        "repeats": args.repeat,
        "runs_s": [round(r, 4) for r in runs],
        "checksum_total": sum(formats) + sum(equations),
        "runtime": f"{platform.python_implementation()} {platform.python_version()}",
    }))


if __name__ == "__main__":
    main()
