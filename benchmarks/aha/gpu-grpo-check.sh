#!/usr/bin/env bash
# Runs on the GPU machine right after gpu-warm-start.sh on the same (warm) machine: the aha recipe from each warm start
# at each learning rate (the recipe's cosine schedule, beta 0), all side by side; gpu-grpo-grid.sh runs them.
#   bash benchmarks/aha/gpu-grpo-check.sh "cur f60 f70" "1e-4 3e-4"
set -u
names=${1:?warm starts}
rates=${2:-1e-4}
specs=""
for name in $names; do
  for rate in $rates; do
    specs="$specs $name-lr$rate=$name:learning_rate=$rate"
  done
done
exec bash "$(dirname "$0")/gpu-grpo-grid.sh" "$specs"
