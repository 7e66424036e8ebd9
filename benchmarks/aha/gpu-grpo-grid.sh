#!/usr/bin/env bash
# Runs on the GPU machine right after gpu-warm-start.sh on the same (warm) machine: the aha recipe
# (recipes/countdown-tiny-cpu.yaml, same steps and batch, only on cuda) once per run spec, all side by side, to pick a
# warm start and recipe before the 25-minute CPU run. A run spec is NAME=WARM_START[:KEY=VALUE,...], the keys being
# recipe keys to override, e.g.
#   bash benchmarks/aha/gpu-grpo-grid.sh "base=cur w2=g80:learning_rate=2e-4,warmup_ratio=0.1,beta=0.04"
# "cur" is the embedded models/countdown-tiny; other warm starts are folders under /tmp/warm-start.
# EVAL_SAMPLES (default: the recipe's 2) sets the samples per held-out task: more samples, less noise in before/after.
# GRID_WORK (default /tmp/grpo-check) is the work folder, so that two grids can run at once; $OUT/<its name>.tar.gz holds each run's eval.jsonl, metrics.jsonl, completion samples and log.
set -u
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
specs=${1:?run specs, e.g. "base=cur w2=cur:learning_rate=2e-4"}
work=${GRID_WORK:-/tmp/grpo-check}
mkdir -p "$work"
rm -f "$work/runs"
for spec in $specs; do
  run=${spec%%=*}
  rest=${spec#*=}
  warm=${rest%%:*}
  overrides=""
  [ "$rest" != "$warm" ] && overrides=${rest#*:}
  [ -n "${EVAL_SAMPLES:-}" ] && overrides="eval_samples=$EVAL_SAMPLES${overrides:+,$overrides}"
  model=/tmp/warm-start/$warm
  [ "$warm" = cur ] && model=models/countdown-tiny
  cp recipes/countdown-tiny-cpu.yaml "$work/$run.yaml"
  for pair in ${overrides//,/ }; do
    key=${pair%%=*}
    grep -q "^$key:" "$work/$run.yaml" || { echo "run $run: no recipe key $key" >&2; exit 2; }
    sed -i -e "s|^$key: .*|$key: ${pair#*=}|" "$work/$run.yaml"
  done
  echo "$run $model" >> "$work/runs"
done
# every spec checked before any run starts
while read -r run model; do
  (
    timeout "${GRPO_TIMEOUT:-170}" bash benchmarks/aha/gpu-grpo.sh train --recipe "$work/$run.yaml" \
      --model "$model" --device cuda --output "$work/$run" > "$work/$run.log" 2>&1
    echo "grpo $run rc=$?" >> "$work/$run.log"
  ) &
done < "$work/runs"
wait
(cd "$work" && tar -czf "$OUT/$(basename "$work").tar.gz" --exclude='checkpoint-*' --exclude='tensorboard' --exclude='*.png' \
  $(ls -d */ | tr -d /) *.log *.yaml)
for f in "$work"/*/eval.jsonl; do echo "$f"; cat "$f"; done
