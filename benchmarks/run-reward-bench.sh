#!/usr/bin/env bash
# Reward-function throughput on CPU: CountdownScorer (C#) against the seed's Python reward functions,
# each on one pinned core, over the same generated corpus; checks that both give the same per-line
# scores (except our documented deviations), and that the task catalog's Countdown scores every line as
# CountdownScorer does (it stops here if not), and writes benchmarks/results/reward-cpu.json. Then
# `grpo score` and the seed's functions as whole processes on all cores (start-up, parsing, scoring,
# writing), grpo published as README's install step does, its output checked against the pinned one:
# benchmarks/results/reward-score-process-cpu.json.
# Settings: COUNT (200000), SEED (7), REPEAT (5), WORK (/tmp/grpo-reward-bench), CORE (0), RID (this machine's, e.g.
# linux-x64: the runtime grpo is published for).
set -euo pipefail
cd "$(dirname "$0")/.."

COUNT=${COUNT:-200000}
SEED=${SEED:-7}
REPEAT=${REPEAT:-5}
WORK=${WORK:-/tmp/grpo-reward-bench}
CORE=${CORE:-0}
RID=${RID:-linux-$(uname -m | sed 's/x86_64/x64/; s/aarch64/arm64/')}
mkdir -p "$WORK" benchmarks/results

echo "building RewardBench (Release)..." >&2
dotnet build benchmarks/RewardBench -c Release -nologo -v quiet >&2
bench=(dotnet benchmarks/RewardBench/bin/Release/net10.0/RewardBench.dll)

pin=()
pinning="none (taskset not found)"
if command -v taskset >/dev/null 2>&1; then
  pin=(taskset -c "$CORE")
  pinning="taskset -c $CORE"
fi

echo "making a corpus of $COUNT completions (seed $SEED)..." >&2
"${bench[@]}" make-corpus --count "$COUNT" --seed "$SEED" --output "$WORK/corpus.jsonl" > "$WORK/corpus-info.json"

echo "checking that the task catalog (reward service, trainer) scores every line as CountdownScorer does..." >&2
"${bench[@]}" compare-catalog --input "$WORK/corpus.jsonl" | tee "$WORK/catalog-check.json" >&2

echo "timing CountdownScorer ($pinning)..." >&2
"${pin[@]}" "${bench[@]}" score --input "$WORK/corpus.jsonl" --repeat "$REPEAT" \
  --scores-out "$WORK/ours-scores.tsv" > "$WORK/ours.json"

echo "timing the seed's Python reward functions ($pinning)..." >&2
"${pin[@]}" python3 benchmarks/reward/seed_rewards.py --input "$WORK/corpus.jsonl" --repeat "$REPEAT" \
  --scores-out "$WORK/peer-scores.tsv" > "$WORK/peer.json"

python3 benchmarks/reward/report.py \
  --corpus "$WORK/corpus.jsonl" --corpus-info "$WORK/corpus-info.json" \
  --ours "$WORK/ours.json" --peer "$WORK/peer.json" \
  --ours-scores "$WORK/ours-scores.tsv" --peer-scores "$WORK/peer-scores.tsv" \
  --dotnet-version "$(dotnet --version)" --pinning "$pinning" \
  --output benchmarks/results/reward-cpu.json

echo "publishing grpo as README's install step does (ReadyToRun, $RID)..." >&2
rm -rf "$WORK/grpo"
dotnet publish src/GrpoAspire.Cli -c Release -r "$RID" -o "$WORK/grpo" -nologo -v quiet >&2

echo "timing grpo score and the seed's functions as whole processes..." >&2
python3 benchmarks/reward/whole_process.py --grpo "$WORK/grpo/grpo" \
  --grpo-build "dotnet publish src/GrpoAspire.Cli -c Release -r $RID (ReadyToRun)" \
  --corpus "$WORK/corpus.jsonl" --count "$COUNT" --seed "$SEED" --repeat "$REPEAT" --work "$WORK" \
  --output benchmarks/results/reward-score-process-cpu.json
