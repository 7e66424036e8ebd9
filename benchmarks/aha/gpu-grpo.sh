#!/usr/bin/env bash
# Runs the packed `grpo` CLI on the GPU machine (after `bash benchmarks/gpu/pack-all.sh`, carry .gpu) against that
# machine's own PyTorch libtorch: model-bench's publish with the CLI's own files over it. Arguments go to grpo.
set -euo pipefail
TL=$(python3 -c "import torch,os;print(os.path.dirname(torch.__file__)+'/lib')")
app=/tmp/gpu-cli
# Several runs start side by side: the first unpacks, the others wait for it.
(
  flock 9
  [ -f $app/.unpacked ] || { mkdir -p $app && tar -xJf .gpu/app.tar.xz -C $app && tar -xJf .gpu/cli.tar.xz -C $app && touch $app/.unpacked; }
) 9> /tmp/gpu-cli.lock
LD_LIBRARY_PATH=$TL:${LD_LIBRARY_PATH:-} exec "$app/grpo" "$@"
