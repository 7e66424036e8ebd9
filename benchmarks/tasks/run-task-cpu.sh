#!/usr/bin/env bash
# A task's CPU recipe trained once per seed with `grpo train` (in one process), each run timed from start to exit;
# then a larger held-out evaluation (`grpo eval`, EVAL_TASKS x EVAL_SAMPLES, default 500 x 4) of the starting model
# and of each run's last checkpoint; then benchmarks/results/task-<task>-cpu-<date>.json: held-out success before and
# after each run (the run's own evaluations and the larger one), the gains' spread over the seeds, and the noise.
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
template=$(sed -nE 's/^prompt_template: *([A-Za-z0-9_.-]+).*/\1/p' "$recipe")
tokens=$(sed -nE 's/^max_completion_length: *([0-9]+).*/\1/p' "$recipe")
model=$(sed -nE 's/^model_name_or_path: *([A-Za-z0-9_.-]+).*/\1/p' "$recipe")
evaluate() { # MODEL_DIR OUTPUT
  "$grpo" eval --model "$1" --task "${task:-countdown}" --generate "${EVAL_TASKS:-500}" --samples "${EVAL_SAMPLES:-4}" \
    ${template:+--template "$template"} ${tokens:+--max-new-tokens "$tokens"} --output "$2" > /dev/null
}
evaluate "$(dirname "$grpo")/models/$model" "runs/task-$stamp-start.eval.json"
for run in "${runs[@]}"; do
  last=$(ls -d "$run"/checkpoint-* | sort -t- -k2 -n | tail -1)
  evaluate "$last" "$run.eval.json"
done
out="benchmarks/results/task-${task:-countdown}-cpu-$(date -u +%Y-%m-%d).json"
python3 benchmarks/tasks/report.py --recipe "$recipe" --out "$out" --start-eval "runs/task-$stamp-start.eval.json" "${runs[@]}"
