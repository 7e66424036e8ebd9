#!/usr/bin/env bash
# One device call (the device tool's run limit is 600 s), from the repo root, after `bash benchmarks/gpu/pack-all.sh`
# (carry .gpu):   bash benchmarks/gpu/session.sh ["f60:2500:0.6:1 ..."]
# 0. candidate warm starts for the aha run, when the argument names some (benchmarks/aha/gpu-warm-start.sh);
# then issue 20's acceptance figures first:
# 1. ours and the compiled peer in turns, 0.5B decoding at batch 1 and 256 (interleaved.py, ROUNDS rounds, default 5);
# 2. the 0.5B weight sync on CUDA, 5 runs, then 5 with each pull over 3 streams (step-and-sync.sh sync);
# 3. one trainer replica of the seed's 3 at its shapes (step-and-sync.sh replica), and a decode profile (profile.log);
# and with the time left (each skipped when under its need, see below):
# 4. ours and peer_bench.py (PEERS): 0.5B generation at batch 1/64/256 and training, the 3B training step;
# 5. the seed's 3B GRPO step, colocated (step-and-sync.sh seed).
# $OUT gets ws-NAME.tar.gz per warm start and bench.tar.gz (the files report.py reads, session.log saying what ran when);
# DEADLINE (default 585 s after the start) bounds the optional parts so the call returns its files inside the limit.
set -u
OUT=${OUT:-/tmp/out}
start=$(date +%s)
deadline=$(( start + ${DEADLINE:-585} ))
[ -n "${1:-}" ] && SFT_TIMEOUT=${SFT_TIMEOUT:-170} bash benchmarks/aha/gpu-warm-start.sh "$1"
bench=$OUT/bench
mkdir -p "$bench"
log() { echo "$1 at $(( $(date +%s) - start )) s" >> "$bench/session.log"; }
left() { echo $(( deadline - $(date +%s) )); }
log "warm starts done"
(OUT=$bench timeout 300 python3 benchmarks/gpu/interleaved.py --rounds "${ROUNDS:-5}" > "$bench/interleaved.log" 2>&1)
log "interleaved ours / compiled peer rc=$? done"
OUT=$bench SYNC_TIMEOUT=120 REPLICA_TIMEOUT=200 bash benchmarks/gpu/step-and-sync.sh sync replica
log "weight sync and replica memory done"
# Where a decode step's time goes (SamplerProfile: forward, pick, host read; CUDA synchronized at each mark, so the
# phases add up to more than an unprofiled step), graph and eager loops at batch 1 and 256.
GRPO_PROFILE_SAMPLER=1 timeout 90 bash .gpu/on-device.sh --shape 0.5B --device cuda --dtype bfloat16 --batches 1,256 \
  --prompt 128 --new 256 --skip-train --loops graph,eager --output "$bench/profile-0.5B.json" > "$bench/profile.log" 2>&1
log "decode profile rc=$? done"
if [ "$(left)" -gt 200 ]; then
  OUT=$bench LOOPS_0_5B=graph SKIP_GENERATE_3B=1 bash benchmarks/gpu/model-bench-and-peer.sh "${PEERS:-peer_bench.py}" "0.5B 3B"
  log "model-bench and peers (${PEERS:-peer_bench.py}) done"
fi
if [ "$(left)" -gt 120 ]; then
  OUT=$bench SEED_TIMEOUT=$(( $(left) - 30 )) bash benchmarks/gpu/step-and-sync.sh seed
  log "seed step done"
fi
tar -czf "$OUT/bench.tar.gz" -C "$OUT" bench && rm -rf "$bench"
tar -xzOf "$OUT/bench.tar.gz" bench/session.log
