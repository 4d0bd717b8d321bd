#!/usr/bin/env bash
# Real-browser test of the dashboard (/__sim/ui): headless Chromium from Debian, driven over the
# DevTools protocol with websocket-client, against the simulator binary named by NYLAS_SIM_BIN
# (default: .build/debug/nylas-sim, built when missing). Installs what it needs:
#   apt: chromium fonts-dejavu-core    pip (into Tests/BrowserTests/.venv, its own): websocket-client (requirements.txt)
# Saves docs/dashboard.png. Exits with the test's status.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$here/.venv"

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
dpkg -s fonts-dejavu-core >/dev/null 2>&1 || need+=(fonts-dejavu-core)
if [ ${#need[@]} -gt 0 ]; then
    echo "Installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need[@]}" >/dev/null
fi

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$here/requirements.txt"

export NYLAS_SIM_BIN="${NYLAS_SIM_BIN:-$root/.build/debug/nylas-sim}"
if [ ! -x "$NYLAS_SIM_BIN" ]; then
    (cd "$root" && swift build --product nylas-sim)
fi
exec timeout 120 "$venv/bin/python" "$here/test_dashboard.py"
