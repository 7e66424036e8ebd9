#!/usr/bin/env bash
# Packs every GPU benchmark for one device call (run from the repo root, ../shared beside it):
#   .gpu/app.tar.xz          model-bench: generation, training step, seed-step, continuous (run by .gpu/on-device.sh)
#   .gpu/weight-sync.tar.xz  weight-sync-bench (run by benchmarks/gpu/step-and-sync.sh)
# Then, with the device tool: run(command: "bash benchmarks/gpu/model-bench-and-peer.sh ...", carry: [".gpu"]) and
# run(command: "bash benchmarks/gpu/step-and-sync.sh", carry: [".gpu"]); python3 benchmarks/gpu/report.py on the files.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
bash ../shared/gpu/pack.sh benchmarks/WeightSyncBench/WeightSyncBench.csproj
mv .gpu/app.tar.xz .gpu/weight-sync.tar.xz.partial
bash ../shared/gpu/pack.sh benchmarks/ModelBench/ModelBench.csproj
mv .gpu/weight-sync.tar.xz.partial .gpu/weight-sync.tar.xz
du -h .gpu/*.tar.xz
