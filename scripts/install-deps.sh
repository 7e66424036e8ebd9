#!/usr/bin/env bash
# Installs the system packages the project needs when they are missing (Debian / Ubuntu, as root
# or with sudo). Safe to run again: it does nothing when everything is there.
set -euo pipefail

need=()
command -v dotnet >/dev/null || { echo "install the .NET 10 SDK first: https://dotnet.microsoft.com/download" >&2; exit 1; }
command -v python3 >/dev/null || need+=(python3)
# Coordination tests (and the local AppHost) start their own redis-server on a free loopback port.
command -v redis-server >/dev/null || need+=(redis-server)
# The dashboard's browser test drives Debian's chromium through Playwright (no browser download).
[[ -x /usr/bin/chromium ]] || need+=(chromium)

if ((${#need[@]})); then
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  echo "installing: ${need[*]}" >&2
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${need[@]}" >/dev/null
fi
