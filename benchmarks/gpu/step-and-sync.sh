#!/usr/bin/env bash
# Runs on the GPU machine (device tool), from the repo root, after `bash benchmarks/gpu/pack-all.sh` (carry .gpu):
#   bash benchmarks/gpu/step-and-sync.sh [PART ...]   (default: seed sync)
# Parts, in the order given; files land in $OUT (gpu.txt, ours.log and):
#   sync     the 0.5B weight sync trainer -> replica over loopback gRPC (weight-sync-bench --device cuda, 5 runs after a
#            warm-up), and the transport's aggregate rate with 1, 2 and 4 replica connections at once: weight-sync-cuda.json;
#            then the same syncs with each pull split over PULL_STREAMS (3) streams and connections:
#            weight-sync-cuda-streams.json
#   replica  one trainer replica of the seed's 3 at its shapes, generation elsewhere (model-bench replica-memory; the other
#            two replicas on the CPU): replica-memory-3B.json, replica-memory.csv (nvidia-smi every 200 ms)
#   seed     the seed's 3B GRPO step on one GPU, generation colocated (model-bench seed-step, with its split):
#            seed-step-3B.json, seed-step-memory.csv
# report.py reads them into "weight_sync_0_5b_s" (and _max_s, and by pull streams), "seed_3b_trainer_replica_peak_gib",
# "seed_3b_step_s".
# SYNC_TIMEOUT, REPLICA_TIMEOUT, SEED_TIMEOUT, SEED_STEPS.
set -u
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader > "$OUT/gpu.txt" 2>&1
python3 -c "import torch; print(torch.__version__)" >> "$OUT/gpu.txt" 2>&1
# $1: the CSV of used GPU memory to write every $2 ms while the rest of the arguments run.
sampled() {
  csv=$1 interval=$2
  shift 2
  nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms "$interval" > "$OUT/$csv" 2>/dev/null &
  sampler=$!
  "$@"
  status=$?
  kill $sampler 2>/dev/null
  return $status
}
run_seed() {
  sampled seed-step-memory.csv 500 timeout ${SEED_TIMEOUT:-420} bash .gpu/on-device.sh seed-step --shape 3B --device cuda \
    --dtype bfloat16 --steps "${SEED_STEPS:-2}" --output "$OUT/seed-step-3B.json" >> "$OUT/ours.log" 2>&1
  echo "seed-step rc=$?" >> "$OUT/ours.log"
}
run_replica() {
  sampled replica-memory.csv 200 timeout ${REPLICA_TIMEOUT:-240} bash .gpu/on-device.sh replica-memory --shape 3B --device cuda \
    --dtype bfloat16 --replicas 3 --steps 2 --output "$OUT/replica-memory-3B.json" >> "$OUT/ours.log" 2>&1
  echo "replica-memory rc=$?" >> "$OUT/ours.log"
}
run_sync() {
  TL=$(python3 -c "import torch,os;print(os.path.dirname(torch.__file__)+'/lib')")
  app=/tmp/gpu-weight-sync
  [ -d $app ] || { mkdir -p $app && tar -xJf .gpu/app.tar.xz -C $app && tar -xJf .gpu/weight-sync.tar.xz -C $app; }
  LD_LIBRARY_PATH=$TL:${LD_LIBRARY_PATH:-} timeout ${SYNC_TIMEOUT:-150} "$app/$(cat $app/.entry)" --shape 0.5B --device cuda --repeats 5 \
    --connections 1,2,4 --output "$OUT/weight-sync-cuda.json" >> "$OUT/ours.log" 2>&1
  echo "weight-sync rc=$?" >> "$OUT/ours.log"
  LD_LIBRARY_PATH=$TL:${LD_LIBRARY_PATH:-} timeout ${SYNC_TIMEOUT:-150} "$app/$(cat $app/.entry)" --shape 0.5B --device cuda --repeats 5 \
    --transfer-repeats 1 --pull-streams "${PULL_STREAMS:-3}" --output "$OUT/weight-sync-cuda-streams.json" >> "$OUT/ours.log" 2>&1
  echo "weight-sync --pull-streams ${PULL_STREAMS:-3} rc=$?" >> "$OUT/ours.log"
}
for part in ${*:-seed sync}; do
  case $part in
    seed|replica|sync) run_$part ;;
    *) echo "step-and-sync.sh: unknown part '$part' (seed, replica, sync)" >&2; exit 2 ;;
  esac
done
nvidia-smi --query-gpu=memory.used --format=csv,noheader >> "$OUT/ours.log" 2>&1
