#!/usr/bin/env bash
# Packs every GPU benchmark for one device call (run from the repo root, ../shared beside it):
#   .gpu/app.tar.xz          model-bench: generation, training step, seed-step, continuous (run by .gpu/on-device.sh)
#   .gpu/weight-sync.tar.xz  weight-sync-bench, only the files model-bench's publish lacks or has otherwise (the two
#                            self-contained publishes share the runtime and TorchSharp; both whole would pass the
#                            device tool's 64 MiB carry); step-and-sync.sh unpacks app.tar.xz and then this over it
#   .gpu/cli.tar.xz          the grpo CLI (sft, train, eval), the same way; benchmarks/aha/gpu-warm-start.sh uses it
# Then, with the device tool: run(command: "bash benchmarks/gpu/session.sh", carry: [".gpu"]) (or its parts:
# interleaved.py, model-bench-and-peer.sh, step-and-sync.sh); python3 benchmarks/gpu/report.py on the files.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
bash ../shared/gpu/pack.sh benchmarks/ModelBench/ModelBench.csproj
base=$(mktemp -d)
pub=$(mktemp -d)
trap 'rm -rf "$base" "$pub"' EXIT
tar -xJf .gpu/app.tar.xz -C "$base"
# A self-contained publish of $1 as .gpu/$3.tar.xz (entry $2), holding only the files model-bench's lacks or has otherwise.
delta() {
  rm -rf "$pub" && mkdir -p "$pub"
  dotnet publish "$1" -c Release -r linux-x64 --self-contained true -p:TorchBackend=external -o "$pub" >&2
  echo "$2" > "$pub/.entry"
  (cd "$pub" && find . -type f | sort) | while read -r f; do
    cmp -s "$pub/$f" "$base/$f" || echo "$f"
  done > "$base.list"
  tar -cJf ".gpu/$3.tar.xz" -C "$pub" -T "$base.list"
  echo "$2: $(wc -l < "$base.list") files beyond model-bench's" >&2
  rm -f "$base.list"
}
delta benchmarks/WeightSyncBench/WeightSyncBench.csproj weight-sync-bench weight-sync
delta src/GrpoAspire.Cli/GrpoAspire.Cli.csproj grpo cli
du -ch .gpu/*.tar.xz
