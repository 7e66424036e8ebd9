#!/usr/bin/env bash
# Runs on the GPU machine (device tool), from the repo root, after `bash benchmarks/gpu/pack-all.sh` (carry .gpu).
# Ours (model-bench) and the peers in ONE call, one after the other; everything lands in $OUT:
#   bash benchmarks/gpu/model-bench-and-peer.sh "peer_bench.py peer_bench2.py" "0.5B 3B"
# peer_bench.py: HF generate() and a PyTorch training step (0.5B and 3B); peer_bench2.py: an eager decode loop and
# HF static cache + torch.compile (0.5B). Ours: generation with the decode loops in LOOPS_0_5B / LOOPS_3B (the first
# is the headline figure; default graph,eager and graph), each figure the median of REPEATS runs (default 3), and the
# training step at the peer's shapes (3B with gradient checkpointing, as the peer; SKIP_GENERATE_3B=1 leaves out 3B
# generation). Then: python3 benchmarks/gpu/report.py <files dir> > benchmarks/results/gpu-<device>-<date>.json
set -u
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
peers=${1:-peer_bench.py}
shapes=${2:-0.5B 3B}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader > "$OUT/gpu.txt" 2>&1
python3 -c "import torch, transformers; print(torch.__version__, transformers.__version__)" >> "$OUT/gpu.txt" 2>&1
for shape in $shapes; do
  if [ "$shape" = "3B" ]; then
    train="--train-batch 4 --train-seq 512 --gradient-checkpointing"; loops=${LOOPS_3B:-graph}
    # SKIP_GENERATE_3B=1: the 3B training step alone (its generation is no acceptance figure)
    [ "${SKIP_GENERATE_3B:-0}" = 1 ] && train="$train --skip-generate"
  else
    train="--train-batch 8 --train-seq 512"; loops=${LOOPS_0_5B:-graph,eager}
  fi
  start=$(date +%s)
  timeout 240 bash .gpu/on-device.sh --shape "$shape" --device cuda --dtype bfloat16 --batches 1,64,256 \
    --prompt 128 --new 256 --repeats "${REPEATS:-3}" $train --loops "$loops" --output "$OUT/ours-$shape.json" >> "$OUT/ours.log" 2>&1
  echo "ours $shape rc=$? in $(( $(date +%s) - start )) s" >> "$OUT/ours.log"
done
for peer in $peers; do
  start=$(date +%s)
  (cd "$OUT" && timeout 330 python3 "$OLDPWD/.gpu/$peer" > "$OUT/${peer%.py}.log" 2>&1)
  echo "peer rc=$? in $(( $(date +%s) - start )) s" >> "$OUT/${peer%.py}.log"
done
grep -h "rc=" "$OUT"/*.log
