#!/usr/bin/env bash
# One device call for everything a session measures (the device tool's run limit is 600 s), from the repo root,
# after `bash benchmarks/gpu/pack-all.sh` (carry .gpu):
#   bash benchmarks/gpu/session.sh "f60:2500:0.6:1 ..."
# 1. candidate warm starts for the aha run (benchmarks/aha/gpu-warm-start.sh; none when the argument is empty);
# 2. ours and peer_bench.py: 0.5B generation (graph loop) and training, the 3B training step (model-bench-and-peer.sh);
# 3. the 0.5B weight sync; 4. the seed's 3B GRPO step with what time is left (step-and-sync.sh).
# $OUT gets ws-NAME.tar.gz per warm start and bench.tar.gz (the files report.py reads); DEADLINE (default 585 s
# after the start) bounds the seed step so the call returns its files inside the limit.
set -u
OUT=${OUT:-/tmp/out}
start=$(date +%s)
deadline=$(( start + ${DEADLINE:-585} ))
[ -n "${1:-}" ] && SFT_TIMEOUT=${SFT_TIMEOUT:-170} bash benchmarks/aha/gpu-warm-start.sh "$1"
bench=$OUT/bench
mkdir -p "$bench"
echo "warm starts done at $(( $(date +%s) - start )) s" > "$bench/session.log"
models() {
  OUT=$bench LOOPS_0_5B=graph SKIP_GENERATE_3B=1 bash benchmarks/gpu/model-bench-and-peer.sh "${PEERS:-peer_bench.py}" "0.5B 3B"
  echo "model-bench and peers (${PEERS:-peer_bench.py}) done at $(( $(date +%s) - start )) s" >> "$bench/session.log"
}
step_and_sync() {
  left=$(( deadline - $(date +%s) - ${RESERVE:-75} ))
  [ "$left" -gt 60 ] || left=60
  OUT=$bench SYNC_FIRST=1 SYNC_TIMEOUT=70 SEED_TIMEOUT=$left bash benchmarks/gpu/step-and-sync.sh
  echo "step and sync done at $(( $(date +%s) - start )) s (seed step had $left s)" >> "$bench/session.log"
}
# STEP_FIRST=1: the weight sync and the seed step before the model benchmarks (RESERVE then holds back the seconds
# the model benchmarks and peers need); PEERS: the peer scripts (default peer_bench.py; add peer_bench2.py for the
# compiled-loop ratio, about 3 minutes more).
if [ "${STEP_FIRST:-0}" = 1 ]; then step_and_sync; models; else models; step_and_sync; fi
tar -czf "$OUT/bench.tar.gz" -C "$OUT" bench && rm -rf "$bench"
tar -xzOf "$OUT/bench.tar.gz" bench/session.log
