#!/usr/bin/env python3
"""Compares the per-line scores of CountdownScorer and the seed's Python peer and writes the result JSON.

Expected disagreements are our documented deviations from the seed: answers with ** (power), //
(floor division) or a decimal literal score 0 in ours (verdicts power_operator, floor_division,
decimal_literal) where Python's eval may score them 1. Any other disagreement is unexpected.
"""
import argparse
import datetime
import json
import os
import platform
from collections import Counter

DEVIATIONS = {"power_operator", "floor_division", "decimal_literal"}
EXAMPLES = 5


def read_scores(path):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n").split("\t") for line in f]


def read_corpus(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def answer_excerpt(completion):
    start = completion.find("<answer>")
    text = completion[start:start + 80] if start >= 0 else completion[-80:]
    return text


def compare(corpus, ours, peer):
    if not (len(corpus) == len(ours) == len(peer)):
        raise SystemExit(f"line counts differ: corpus {len(corpus)}, ours {len(ours)}, peer {len(peer)}")
    format_diffs, expected, unexpected = 0, Counter(), []
    examples = []
    for i, (record, o, p) in enumerate(zip(corpus, ours, peer)):
        o_format, o_equation, verdict = float(o[0]), float(o[1]), o[2]
        p_format, p_equation = float(p[0]), float(p[1])
        row = {"line": i + 1, "kind": record.get("kind"), "verdict": verdict, "ours": [o_format, o_equation],
               "peer": [p_format, p_equation], "answer": answer_excerpt(record["completion"])}
        if o_format != p_format:
            format_diffs += 1
            unexpected.append(row)
        if o_equation != p_equation:
            if verdict in DEVIATIONS and o_equation == 0.0 and p_equation == 1.0:
                expected[verdict] += 1
                if sum(1 for e in examples if e["verdict"] == verdict) < 2:
                    examples.append(row)
            else:
                unexpected.append(row)
    return {
        "lines": len(corpus),
        "format": format_diffs,
        "equation": sum(expected.values()) + sum(1 for r in unexpected if r["ours"][1] != r["peer"][1]),
        "expected_deviations": sum(expected.values()),
        "expected_by_verdict": dict(sorted(expected.items())),
        "unexpected": len(unexpected),
        "unexpected_examples": unexpected[:EXAMPLES],
        "deviation_examples": examples,
    }


def machine(dotnet_version, pinning):
    cpu = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    os_name = platform.system()
    if os.path.exists("/etc/os-release"):
        with open("/etc/os-release", encoding="utf-8") as f:
            fields = dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)
        os_name = fields.get("PRETTY_NAME", os_name).strip('"')
    return {"nproc": os.cpu_count(), "cpu_model": cpu, "os": os_name, "kernel": platform.release(),
            "dotnet": dotnet_version, "python": platform.python_version(), "pinning": pinning,
            "loadavg_at_report": os.getloadavg()[0]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in ("corpus", "corpus-info", "ours", "peer", "ours-scores", "peer-scores", "output"):
        parser.add_argument(f"--{name}", required=True)
    parser.add_argument("--dotnet-version", default="unknown")
    parser.add_argument("--pinning", default="none")
    args = parser.parse_args()

    with open(args.corpus_info, encoding="utf-8") as f:
        corpus_info = json.load(f)
    corpus_info.pop("file", None)
    with open(args.ours, encoding="utf-8") as f:
        ours = json.load(f)
    with open(args.peer, encoding="utf-8") as f:
        peer = json.load(f)
    disagreements = compare(read_corpus(args.corpus), read_scores(args.ours_scores), read_scores(args.peer_scores))
    ratio = ours["completions_per_s"] / peer["completions_per_s"]
    result = {
        "benchmark": "reward-cpu: Countdown reward functions (format + equation), one thread, one core",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(args.dotnet_version, args.pinning),
        "method": "both sides load the same JSONL corpus first, then time scoring only; "
                  "completions_per_s from the best of the timed passes (median also given); "
                  "ours after a 2 s JIT warm-up",
        "corpus": corpus_info,
        "ours": ours,
        "peer": peer,
        "ratio": round(ratio, 2),
        "median_ratio": round(ours["median_completions_per_s"] / peer["median_completions_per_s"], 2),
        "target_ratio": 10,
        "meets_target": ratio >= 10,
        "disagreements": disagreements,
    }
    with open(args.output, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2, ensure_ascii=False)
        f.write("\n")
    print(f"ours {ours['completions_per_s']:.0f}/s, peer {peer['completions_per_s']:.0f}/s, ratio {ratio:.1f}x; "
          f"disagreements: {disagreements['expected_deviations']} expected, {disagreements['unexpected']} unexpected")
    return 1 if disagreements["unexpected"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
