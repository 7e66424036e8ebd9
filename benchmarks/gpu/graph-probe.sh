#!/usr/bin/env bash
# Runs on the GPU machine (device tool), from the repo root, after `bash benchmarks/gpu/pack-all.sh` (carry .gpu):
# a short check that CUDA graphs work from TorchSharp (CudaGraph over libtorch's at::cuda::CUDAGraph), before the long
# runs. Lists the C++ symbols CudaGraph looks for, then times the 0.5B decode loops (eager, fixed, graph) at batch 1 and
# 256 with the greedy agreement of the loops. Files land in $OUT: symbols.txt, probe-0.5B.json, probe.log, gpu.txt.
set -u
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader > "$OUT/gpu.txt" 2>&1
python3 - > "$OUT/symbols.txt" 2>&1 <<'PY'
import ctypes, os, torch
lib = os.path.dirname(torch.__file__) + '/lib'
print(torch.__version__, torch.version.cuda)
for so, names in [('libtorch_cuda.so', ['_ZN2at4cuda9CUDAGraphC1Eb', '_ZN2at4cuda9CUDAGraphC1Ev', '_ZN2at4cuda9CUDAGraphD1Ev',
                   '_ZN2at4cuda9CUDAGraph13capture_beginESt4pairIyyE21cudaStreamCaptureMode', '_ZN2at4cuda9CUDAGraph13capture_beginESt4pairIyyE',
                   '_ZN2at4cuda9CUDAGraph11capture_endEv', '_ZN2at4cuda9CUDAGraph6replayEv']),
                  ('libc10_cuda.so', ['_ZN3c104cuda17getStreamFromPoolEba', '_ZN3c104cuda17getStreamFromPoolEia',
                   '_ZN3c104cuda20getCurrentCUDAStreamEa', '_ZN3c104cuda20setCurrentCUDAStreamENS0_10CUDAStreamE'])]:
    handle = ctypes.CDLL(os.path.join(lib, so))
    for name in names:
        print(so, name, hasattr(handle, name))
PY
timeout ${PROBE_TIMEOUT:-240} bash .gpu/on-device.sh --shape 0.5B --device cuda --dtype bfloat16 --batches ${PROBE_BATCHES:-1,256} \
  --prompt 128 --new 256 --skip-train --loops eager,fixed,graph --output "$OUT/probe-0.5B.json" > "$OUT/probe.log" 2>&1
echo "probe rc=$?" >> "$OUT/probe.log"
tail -n 30 "$OUT/probe.log"
cat "$OUT/symbols.txt"
