#!/usr/bin/env python3
"""`grpo score` against the seed's Python reward functions as whole processes, on the same JSONL corpus.

Each repeat runs both, one after the other (ours first on odd repeats, the peer first on even ones), and times
each from start to exit: start-up, reading and parsing the file, scoring, writing the results.
- ours: `grpo score --input CORPUS --output FILE` (one JSON line per input line).
- peer: `seed_rewards.py --input CORPUS --repeat 1 --scores-out FILE` (loads the file with json, scores with
  the seed's functions, writes one "format<TAB>equation" line per completion: less output than ours).

Our output is checked against the SHA-256 of what the previous, single-threaded `grpo score` wrote for the
default corpus (200,000 completions, seed 7): the exit status is 1 when it differs.
"""
import argparse
import datetime
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time

# `grpo score` output on `RewardBench make-corpus --count 200000 --seed 7`, as the single-threaded implementation
# (TextReader/TextWriter, last in commit a3e7ce7) wrote it.
PINNED = {(200000, 7): "04df2b413ca16a9a2190f9b6ecd203a3d39f66ce1681319230df554d9734798c"}


def timed(command):
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def summary(runs):
    return {"median_s": round(statistics.median(runs), 3), "min_s": round(min(runs), 3),
            "max_s": round(max(runs), 3), "runs_s": [round(r, 3) for r in runs]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grpo", required=True, help="the built grpo program")
    parser.add_argument("--grpo-build", required=True, help="how it was built, for the results")
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--work", required=True)
    parser.add_argument("--output", required=True)
    args = parser.parse_args()

    ours_out = os.path.join(args.work, "grpo-score.jsonl")
    peer_out = os.path.join(args.work, "peer-whole.tsv")
    here = os.path.dirname(os.path.abspath(__file__))
    ours_cmd = [args.grpo, "score", "--input", args.corpus, "--output", ours_out]
    peer_cmd = [sys.executable, os.path.join(here, "seed_rewards.py"), "--input", args.corpus, "--repeat", "1",
                "--scores-out", peer_out]
    ours, peer = [], []
    for i in range(args.repeat):
        if i % 2 == 0:
            ours.append(timed(ours_cmd))
            peer.append(timed(peer_cmd))
        else:
            peer.append(timed(peer_cmd))
            ours.append(timed(ours_cmd))

    digest = sha256(ours_out)
    pinned = PINNED.get((args.count, args.seed))
    result = {
        "benchmark": "reward-score-process-cpu: grpo score against the seed's Python reward functions, whole processes",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"nproc": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "loadavg_at_start_of_report": os.getloadavg()[0]},
        "corpus": {"path": args.corpus, "completions": args.count, "seed": args.seed,
                   "bytes": os.path.getsize(args.corpus)},
        "method": __doc__.split("\n\n")[1].strip(),
        "ours": {"command": " ".join(ours_cmd[1:]), "build": args.grpo_build, **summary(ours)},
        "peer": {"command": "python3 seed_rewards.py --input CORPUS --repeat 1 --scores-out FILE", **summary(peer)},
        "ratio_median": round(statistics.median(peer) / statistics.median(ours), 2),
        "ratio_worst": round(min(peer) / max(ours), 2),
        "target_ratio": 10,
        "output_sha256": digest,
        "output_identical_to_previous": None if pinned is None else digest == pinned,
    }
    with open(args.output, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    print(json.dumps({k: result[k] for k in ("ratio_median", "ratio_worst", "output_identical_to_previous")}))
    if pinned is not None and digest != pinned:
        sys.exit(f"grpo score's output differs from the pinned one ({digest} != {pinned})")


if __name__ == "__main__":
    main()
