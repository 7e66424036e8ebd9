#!/usr/bin/env bash
# Runs on the GPU machine (device tool), from the repo root, after `bash benchmarks/gpu/pack-all.sh` (carry .gpu):
# the optimizer step per parameter against flat parameter buffers on Qwen2.5-0.5B (bf16 with float32 masters, and
# float32; model-bench optimizer-step), then a short seed step on 0.5B whose policy update checks, every optimizer step,
# that the parameters and gradients still live in the flat buffers on CUDA (FlatParameters.EnsureIntact throws if a
# backward replaced a gradient), and the training bench (forward + backward + flat AdamW). Files land in $OUT:
#   optimizer-step-0.5B-bfloat16.json, optimizer-step-0.5B-float32.json, seed-step-0.5B.json, train-0.5B.json, flat.log
set -u
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader > "$OUT/gpu.txt" 2>&1
for dtype in bfloat16 float32; do
  timeout 150 bash .gpu/on-device.sh optimizer-step --shape 0.5B --device cuda --dtype "$dtype" --steps 20 \
    --output "$OUT/optimizer-step-0.5B-$dtype.json" >> "$OUT/flat.log" 2>&1
  echo "optimizer-step $dtype rc=$?" >> "$OUT/flat.log"
done
timeout 240 bash .gpu/on-device.sh seed-step --shape 0.5B --device cuda --dtype bfloat16 --steps 2 --prompts 4 \
  --completion 128 --output "$OUT/seed-step-0.5B.json" >> "$OUT/flat.log" 2>&1
echo "seed-step rc=$?" >> "$OUT/flat.log"
timeout 150 bash .gpu/on-device.sh --shape 0.5B --device cuda --dtype bfloat16 --skip-generate --train-batch 8 \
  --train-seq 512 --output "$OUT/train-0.5B.json" >> "$OUT/flat.log" 2>&1
echo "train rc=$?" >> "$OUT/flat.log"
