#!/usr/bin/env bash
# CPU model benchmark (issue 3): sampling tokens/s at batch 1/64/256 and training forward+backward tokens/s
# on the small Qwen2 shape, written to benchmarks/results/model-cpu.json.
# There is no CPU peer here: this machine's python3 has no torch (the GPU peers run in benchmarks/gpu/).
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-$(nproc)}
args=(--shape small --device cpu --batches 1,64,256 --prompt 64 --new 64 --train-batch 8 --train-seq 256)
dotnet build -c Release benchmarks/ModelBench -v q -nologo
dotnet run -c Release --no-build --project benchmarks/ModelBench -- "${args[@]}" --output /tmp/model-cpu.raw.json > /dev/null
python3 - "$OMP_NUM_THREADS" "${args[*]}" <<'PY'
import json, sys
r = json.load(open("/tmp/model-cpu.raw.json"))
r["omp_num_threads"] = int(sys.argv[1])
r["command"] = "bash benchmarks/run-model-bench-cpu.sh  (model-bench " + sys.argv[2] + ")"
r["peer"] = None
r["peer_note"] = "no CPU peer: python3 on this machine has no torch; GPU numbers against transformers are in benchmarks/results/model-gpu-*.json"
json.dump(r, open("benchmarks/results/model-cpu.json", "w"), indent=2)
print(json.dumps(r, indent=2))
PY
