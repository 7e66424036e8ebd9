#!/usr/bin/env bash
# Runs on the GPU machine (device tool), from the repo root, after `bash benchmarks/gpu/pack-all.sh` (carry .gpu):
# the seed's 3B GRPO step on one GPU, generation colocated (model-bench seed-step, with its split), and the 0.5B
# weight sync trainer -> replica over loopback gRPC (weight-sync-bench --device cuda). Files land in $OUT:
#   seed-step-3B.json, weight-sync-cuda.json, gpu.txt, ours.log
# report.py reads them into "seed_3b_step_s" and "weight_sync_0_5b_s". SEED_TIMEOUT, SYNC_TIMEOUT, SEED_STEPS, SYNC_FIRST.
set -u
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader > "$OUT/gpu.txt" 2>&1
python3 -c "import torch; print(torch.__version__)" >> "$OUT/gpu.txt" 2>&1
seed_step() {
  steps=${SEED_STEPS:-2}
  # GPU memory in use every half second while the step runs (nvidia-smi: the caching allocator's reserve + context).
  nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 500 > "$OUT/seed-step-memory.csv" 2>/dev/null &
  sampler=$!
  timeout ${SEED_TIMEOUT:-420} bash .gpu/on-device.sh seed-step --shape 3B --device cuda --dtype bfloat16 --steps "$steps" \
    --output "$OUT/seed-step-3B.json" >> "$OUT/ours.log" 2>&1
  echo "seed-step rc=$?" >> "$OUT/ours.log"
  kill $sampler 2>/dev/null
  nvidia-smi --query-gpu=memory.used --format=csv,noheader >> "$OUT/ours.log" 2>&1
}
weight_sync() {
  TL=$(python3 -c "import torch,os;print(os.path.dirname(torch.__file__)+'/lib')")
  app=/tmp/gpu-weight-sync
  [ -d $app ] || { mkdir -p $app && tar -xJf .gpu/app.tar.xz -C $app && tar -xJf .gpu/weight-sync.tar.xz -C $app; }
  LD_LIBRARY_PATH=$TL:${LD_LIBRARY_PATH:-} timeout ${SYNC_TIMEOUT:-150} "$app/$(cat $app/.entry)" --shape 0.5B --device cuda --repeats 5 \
    --output "$OUT/weight-sync-cuda.json" >> "$OUT/ours.log" 2>&1
  echo "weight-sync rc=$?" >> "$OUT/ours.log"
}
# SYNC_FIRST=1: the weight sync before the seed step (a call that runs out of time then loses the step, not both).
if [ "${SYNC_FIRST:-0}" = 1 ]; then weight_sync; seed_step; else seed_step; weight_sync; fi
