#!/usr/bin/env bash
# Weight sync benchmark (issue 8): Qwen2.5-0.5B-shaped model in bf16, trainer -> replica through the real
# WeightsGrpcService on a loopback Kestrel and the real WeightsClient (capture, transfer, assembly, digest
# verification, apply), written to benchmarks/results/weight-sync-<device>-<date>.json.
# Both sides run in one process here, so on a small CPU they share its cores; extra arguments go to the program
# (e.g. --device cuda, --repeats 9).
set -euo pipefail
cd "$(dirname "$0")/.."
device=cpu
for ((i = 1; i <= $#; i++)); do
  if [[ ${!i} == --device ]]; then j=$((i + 1)); device=${!j}; fi
done
date=$(date -u +%F)
out="benchmarks/results/weight-sync-${device%%:*}-$date.json"
load_before=$(cut -d' ' -f1 /proc/loadavg)
dotnet build -c Release benchmarks/WeightSyncBench -v q -nologo
dotnet run -c Release --no-build --project benchmarks/WeightSyncBench -- --shape 0.5B --repeats 5 "$@" --output /tmp/weight-sync.raw.json > /dev/null
python3 - "$out" "$load_before" "$*" <<'PY'
import json, sys
out, load_before, extra = sys.argv[1], sys.argv[2], sys.argv[3]
r = json.load(open("/tmp/weight-sync.raw.json"))
r["command"] = ("bash benchmarks/run-weight-sync-bench.sh " + extra).strip()
r["load_average_1m"] = {"before": float(load_before), "after": float(open("/proc/loadavg").read().split()[0])}
r["acceptance"] = "weight_sync_0_5b_s <= 1.5 (issue 8)"
json.dump(r, open(out, "w"), indent=2)
print(json.dumps(r, indent=2))
print("written to " + out, file=sys.stderr)
PY
