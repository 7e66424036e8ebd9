#!/usr/bin/env bash
# Runs every test of the solution on this machine, installing what the tests need first.
# Prints one closing line "N passed, N failed, N skipped" (summed over all test projects).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bash scripts/install-deps.sh

results="$root/artifacts/test-results"
rm -rf "$results"
mkdir -p "$results"

# Test projects run in parallel on few cores; libtorch's OpenMP threads would spin against each other
# (a 20x slowdown was measured on 2 busy cores), so each test process computes on one thread.
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"

status=0
dotnet test GrpoAspire.sln -c Release \
  --logger "trx" --results-directory "$results" \
  -- RunConfiguration.TestSessionTimeout=1500000 || status=$?

python3 scripts/summarize-trx.py "$results"
exit "$status"
