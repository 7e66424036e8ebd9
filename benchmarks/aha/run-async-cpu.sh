#!/usr/bin/env bash
# The aha run through the AppHost with max_staleness 0 (on-policy, the default) and 1 (the replica samples step k+1
# while the trainer optimizes step k), one after the other on this machine, then both results side by side as
# benchmarks/results/async-cpu-<date>.json (seconds per step, rollout wait, staleness, importance weights, held-out).
#   bash benchmarks/aha/run-async-cpu.sh [STALENESS ...]     (default: 0 1)
set -euo pipefail
cd "$(dirname "$0")/../.."
levels=("$@")
[ ${#levels[@]} -eq 0 ] && levels=(0 1)
stamp=$(date -u +%Y%m%d-%H%M%S)
mkdir -p artifacts runs
bash scripts/install-deps.sh --run
dotnet build GrpoAspire.AppHost -v q -nologo >/dev/null
runs=()
for s in "${levels[@]}"; do
  # Absolute: the AppHost resolves relative paths against its project folder.
  run="$PWD/runs/async-$stamp-staleness-$s"
  recipe="$PWD/runs/async-$stamp-staleness-$s.yaml"
  # The default recipe with one key added.
  { cat recipes/countdown-tiny-cpu.yaml; printf '\nmax_staleness: %s\n' "$s"; } > "$recipe"
  log="artifacts/async-staleness-$s.log"
  start=$(date +%s)
  set +e
  dotnet run --no-build --project GrpoAspire.AppHost -- --recipe "$recipe" --output "$run" 2>&1 | tee "$log"
  code=${PIPESTATUS[0]}
  set -e
  echo "max_staleness $s: exit code $code in $(( $(date +%s) - start )) s"
  runs+=("$s:$run:$(( $(date +%s) - start )):$code")
done
out="benchmarks/results/async-cpu-$(date -u +%Y-%m-%d).json"
[ -e "$out" ] && out="benchmarks/results/async-cpu-$(date -u +%Y-%m-%d-%H%M).json"
python3 benchmarks/aha/async-report.py --out "$out" "${runs[@]}"
