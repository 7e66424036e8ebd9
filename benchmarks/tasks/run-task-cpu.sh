#!/usr/bin/env bash
# A task's CPU recipe trained once per seed with `grpo train` (in one process), each run timed from start to exit,
# then benchmarks/results/task-<task>-cpu-<date>.json: held-out success before and after each run, the gains' spread
# over the seeds, and the sampling noise of one evaluation.
#   bash benchmarks/tasks/run-task-cpu.sh recipes/countdown-nearest-cpu.yaml 42 43
set -euo pipefail
cd "$(dirname "$0")/../.."
recipe=$1
shift
seeds=("${@:-42}")
dotnet build src/GrpoAspire.Cli -c Release -v q -nologo >/dev/null
grpo=src/GrpoAspire.Cli/bin/Release/net10.0/grpo
stamp=$(date -u +%Y%m%d-%H%M%S)
runs=()
for seed in "${seeds[@]}"; do
  run=runs/task-$stamp-seed$seed
  seeded=$(mktemp --suffix=.yaml -p "$(dirname "$recipe")" .seeded-XXXXXX) # beside it: template files resolve as for the recipe
  sed -E "s/^seed: .*/seed: $seed/" "$recipe" > "$seeded"
  start=$(date +%s)
  "$grpo" train --recipe "$seeded" --output "$run"
  echo "$run $(( $(date +%s) - start ))" >> "$run.seconds"
  rm -f "$seeded"
  runs+=("$run")
done
task=$(sed -nE 's/^task: *([a-z0-9_-]+).*/\1/p' "$recipe")
out="benchmarks/results/task-${task:-countdown}-cpu-$(date -u +%Y-%m-%d).json"
python3 benchmarks/tasks/report.py --recipe "$recipe" --out "$out" "${runs[@]}"
