#!/usr/bin/env bash
# The aha run as the README's first command runs it (the AppHost with no recipe option, so
# recipes/countdown-tiny-cpu.yaml), timed from `dotnet run` to exit, then its result as
# benchmarks/results/aha-cpu-<date>[-<time>].json and the curves as docs/aha-curves.png.
#   bash benchmarks/aha/run-aha-cpu.sh [RUN_FOLDER]
set -euo pipefail
cd "$(dirname "$0")/../.."
run=${1:-runs/aha-$(date -u +%Y%m%d-%H%M%S)}
mkdir -p artifacts
log=artifacts/aha-apphost.log
bash scripts/install-deps.sh --run
dotnet build GrpoAspire.AppHost -v q -nologo >/dev/null
start=$(date +%s)
set +e
dotnet run --no-build --project GrpoAspire.AppHost -- --output "$run" 2>&1 | tee "$log"
code=${PIPESTATUS[0]}
set -e
end=$(date +%s)
echo "apphost exit code $code"
# a result of the same day is kept: the new one gets the time too
out="benchmarks/results/aha-cpu-$(date -u +%Y-%m-%d).json"
[ -e "$out" ] && out="benchmarks/results/aha-cpu-$(date -u +%Y-%m-%d-%H%M).json"
python3 benchmarks/aha/report.py --run "$run" --log "$log" --seconds "$((end - start))" --exit-code "$code" \
  --command "dotnet run --project GrpoAspire.AppHost" --out "$out"
mkdir -p docs && cp "$run/curves.png" docs/aha-curves.png
exit "$code"
