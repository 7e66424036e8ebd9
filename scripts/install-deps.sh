#!/usr/bin/env bash
# Installs the system packages the project needs when they are missing (Debian / Ubuntu, as root
# or with sudo). Safe to run again: it does nothing when everything is there.
#   bash scripts/install-deps.sh         what the tests need (redis-server, gcc, chromium, python3)
#   bash scripts/install-deps.sh --run   only what running needs (redis-server for the AppHost, gcc for the build)
set -euo pipefail

run_only=false
case "${1:-}" in
  --run) run_only=true ;;
  "") ;;
  *) echo "usage: bash scripts/install-deps.sh [--run]" >&2; exit 2 ;;
esac

need=()
command -v dotnet >/dev/null || { echo "install the .NET 10 SDK first: https://dotnet.microsoft.com/download" >&2; exit 1; }
# The AppHost (and the coordination tests) start their own redis-server on a loopback port.
command -v redis-server >/dev/null || need+=(redis-server)
# The build compiles a small C library that closes a TorchSharp Scalar lifetime race (build/native).
command -v cc >/dev/null || need+=(gcc libc6-dev)
if ! $run_only; then
  command -v python3 >/dev/null || need+=(python3)
  # The dashboard's browser test drives Debian's chromium through Playwright (no browser download).
  [[ -x /usr/bin/chromium ]] || need+=(chromium)
fi

if ((${#need[@]})); then
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  echo "installing: ${need[*]}" >&2
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${need[@]}" >/dev/null
fi
