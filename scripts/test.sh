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

status=0
dotnet test GrpoAspire.sln -c Release \
  --logger "trx" --results-directory "$results" \
  -- RunConfiguration.TestSessionTimeout=1500000 || status=$?

python3 scripts/summarize-trx.py "$results"
exit "$status"
