#!/usr/bin/env bash
# Runs on the GPU machine right after gpu-warm-start.sh on the same (warm) machine: the aha recipe
# (recipes/countdown-tiny-cpu.yaml, same steps, batch and evaluation, only on cuda) from each warm start at each
# learning rate, all side by side, to pick the warm start and rate before the 25-minute CPU run.
#   bash benchmarks/aha/gpu-grpo-check.sh "cur f60 f70" "1e-4 3e-4"
# "cur" is the embedded models/countdown-tiny; other names are folders under /tmp/warm-start. $OUT/grpo-check.tar.gz
# holds each run's eval.jsonl, metrics.jsonl and log.
set -u
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
names=${1:?warm starts}
rates=${2:-1e-4}
work=/tmp/grpo-check
mkdir -p "$work"
for name in $names; do
  model=/tmp/warm-start/$name
  [ "$name" = cur ] && model=models/countdown-tiny
  for rate in $rates; do
    run="$name-lr$rate"
    sed -e "s/^learning_rate: .*/learning_rate: $rate/" recipes/countdown-tiny-cpu.yaml > "$work/$run.yaml"
    (
      timeout "${GRPO_TIMEOUT:-170}" bash benchmarks/aha/gpu-grpo.sh train --recipe "$work/$run.yaml" \
        --model "$model" --device cuda --output "$work/$run" > "$work/$run.log" 2>&1
      echo "grpo $run rc=$?" >> "$work/$run.log"
    ) &
  done
done
wait
(cd "$work" && tar -czf "$OUT/grpo-check.tar.gz" --exclude='checkpoint-*' --exclude='tensorboard' --exclude='*.png' \
  --exclude='completion_samples' $(ls -d */ | tr -d /) *.log)
for f in "$work"/*/eval.jsonl; do echo "$f"; cat "$f"; done
