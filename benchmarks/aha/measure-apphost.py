"""Runs an AppHost command to its end and measures what it costs: wall time, time to the first training step, and
the resident memory of every process it started (the AppHost, DCP, the dashboard, redis-server, the services),
summed every 2 s. The processes are found by a marker variable in their environment, which every orchestrator here
passes on to what it starts.

    python3 benchmarks/aha/measure-apphost.py --label aspire --out FILE.json -- bash -c 'CMD'
"""
import argparse, json, os, re, subprocess, sys, threading, time, uuid


def marked(needle):
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                if needle not in f.read():
                    continue
            with open(f"/proc/{pid}/status") as f:
                rss = next((int(l.split()[1]) for l in f if l.startswith("VmRSS:")), 0)
            with open(f"/proc/{pid}/comm") as f:
                yield f.read().strip(), rss * 1024
        except OSError:
            pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--label", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    marker = uuid.uuid4().hex
    needle = f"GRPO_MEASURE_MARKER={marker}\0".encode()
    samples, first_step = [], [None]
    start = time.time()
    process = subprocess.Popen(command, env=dict(os.environ, GRPO_MEASURE_MARKER=marker),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    done = threading.Event()

    def sample():
        while not done.is_set():
            by_name = {}
            for name, rss in marked(needle):
                by_name[name] = by_name.get(name, 0) + rss
            samples.append((time.time() - start, sum(by_name.values()), by_name))
            done.wait(2)

    sampler = threading.Thread(target=sample)
    sampler.start()
    for line in process.stdout:
        sys.stdout.write(line)
        if first_step[0] is None and re.search(r"step 1/\d+", line):
            first_step[0] = time.time() - start
    code = process.wait()
    done.set()
    sampler.join()
    peak = max(samples, key=lambda s: s[1]) if samples else (0, 0, {})
    training = [s[1] for s in samples if first_step[0] is not None and s[0] >= first_step[0]]
    result = {
        "label": args.label,
        "command": " ".join(command),
        "exit_code": code,
        "wall_seconds": round(time.time() - start, 1),
        "first_step_seconds": None if first_step[0] is None else round(first_step[0], 1),
        "peak_rss_mib": round(peak[1] / 2**20),
        "peak_rss_by_process_mib": {k: round(v / 2**20) for k, v in sorted(peak[2].items(), key=lambda kv: -kv[1])},
        "mean_rss_while_training_mib": round(sum(training) / len(training) / 2**20) if training else None,
        "samples": len(samples),
    }
    with open(args.out, "w") as f:
        json.dump(result, f, indent=2)
    print(json.dumps(result, indent=2))
    sys.exit(code)


if __name__ == "__main__":
    main()
