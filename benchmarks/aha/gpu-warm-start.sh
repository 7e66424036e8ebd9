#!/usr/bin/env bash
# Runs on the GPU machine (device tool), from the repo root, after `bash benchmarks/gpu/pack-all.sh` (carry .gpu):
# candidate warm starts for the aha run, trained side by side on the one GPU (a 4.5M-parameter model leaves it
# mostly idle), each continuing the embedded models/countdown-tiny with `grpo sft --init`. A variant is
#   NAME:STEPS:IMPERFECT_FRACTION:GIVE_UP_EARLY(0|1)[:LR[:TRACE_STYLE]]
# e.g. bash benchmarks/aha/gpu-warm-start.sh "f60:3000:0.6:1 s60:2400:0.6:1:5e-4:stepwise"
# Each variant's folder (bf16 model.safetensors, config.json, tokenizer.json, sft_metrics.jsonl, its log) comes back
# as $OUT/ws-NAME.tar.gz; its last held-out evaluation (500 tasks, greedy + 2 samples) is in the log's last lines.
set -u
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
variants=${1:?variants, e.g. "f60:3000:0.6:1"}
work=/tmp/warm-start
mkdir -p "$work"
for variant in $variants; do
  IFS=: read -r name steps fraction early lr style <<< "$variant"
  flags=""
  [ "$early" = 1 ] && flags="--give-up-early"
  [ -n "${style:-}" ] && flags="$flags --trace-style $style"
  (
    timeout "${SFT_TIMEOUT:-300}" bash benchmarks/aha/gpu-grpo.sh sft --init models/countdown-tiny \
      --output "$work/$name" --device cuda --steps "$steps" --batch-size 64 --lr "${lr:-${SFT_LR:-3e-4}}" --warmup-ratio 0.02 \
      --seed "${SFT_SEED:-43}" --imperfect-fraction "$fraction" $flags --eval-tasks 500 --eval-samples 2 \
      --log-every 500 > "$work/$name.log" 2>&1
    echo "sft $name rc=$?" >> "$work/$name.log"
  ) &
done
wait
for variant in $variants; do
  name=${variant%%:*}
  dir="$work/$name"
  # Ship bf16 weights, as the embedded default is shipped (the float32 file would exceed the 16 MiB a returned file may have).
  [ -f "$dir/model.safetensors" ] && python3 - "$dir" <<'EOF'
import sys, torch
from safetensors.torch import load_file, save_file
path = sys.argv[1] + "/model.safetensors"
tensors = load_file(path)
save_file({k: v.to(torch.bfloat16).contiguous() for k, v in tensors.items()}, path, metadata={"format": "pt"})
EOF
  cp "$work/$name.log" "$dir/" 2>/dev/null
  tar -czf "$OUT/ws-$name.tar.gz" -C "$work" --exclude='checkpoint-*' "$name"
  tail -3 "$work/$name.log"
done
