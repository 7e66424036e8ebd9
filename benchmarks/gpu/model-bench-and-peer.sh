#!/usr/bin/env bash
# Runs on the GPU machine (device tool), from the repo root, after `bash ../shared/gpu/pack.sh
# benchmarks/ModelBench/ModelBench.csproj` (and, for parity, ../shared/fixtures/hf-qwen2/qwen2-tiny-* copied to .gpu/fixtures/).
# Ours (model-bench) and a peer in ONE call, side by side; everything lands in $OUT:
#   bash benchmarks/gpu/model-bench-and-peer.sh peer_bench.py  "0.5B 3B"   # HF generate + torch training step
#   bash benchmarks/gpu/model-bench-and-peer.sh peer_bench2.py "0.5B"      # eager decode loop + HF static cache/compile
# Then: python3 benchmarks/gpu/report.py <files dir> > benchmarks/results/gpu-<device>-<date>.json
set -u
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
peer=${1:-peer_bench.py}
shapes=${2:-0.5B 3B}
train=${3:-train}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader > "$OUT/gpu.txt" 2>&1
python3 -c "import torch, transformers; print(torch.__version__, transformers.__version__)" >> "$OUT/gpu.txt" 2>&1
if [ -d .gpu/fixtures ]; then
  for f in tied untied; do
    timeout 120 bash .gpu/on-device.sh parity --model .gpu/fixtures/qwen2-tiny-$f \
      --expected .gpu/fixtures/qwen2-tiny-$f/expected.safetensors --device cuda > "$OUT/parity-cuda-$f.json" 2>> "$OUT/ours.log"
    echo "parity $f rc=$?" >> "$OUT/ours.log"
  done
fi
for shape in $shapes; do
  if [ "$shape" = "3B" ]; then tb=4; else tb=8; fi
  extra=""; [ "$train" = "train" ] || extra="--skip-train"
  timeout 240 bash .gpu/on-device.sh --shape "$shape" --device cuda --dtype bfloat16 --batches 1,64,256 \
    --prompt 128 --new 256 --train-batch $tb --train-seq 512 $extra --output "$OUT/ours-$shape.json" >> "$OUT/ours.log" 2>&1
  echo "ours $shape rc=$?" >> "$OUT/ours.log"
done
cd "$OUT" && timeout 330 python3 "$OLDPWD/.gpu/$peer" > "$OUT/${peer%.py}.log" 2>&1
echo "peer rc=$?" >> "$OUT/${peer%.py}.log"
