#!/usr/bin/env bash
# Robustness: control-surface safety and durability (pytest), then a bounded soak (soak.py).
# NYLAS_SIM_BIN names the binary (default .build/debug/nylas-sim); SOAK_SECONDS (default 10) and
# SOAK_CLIENTS (default 64) size the soak. Exits non-zero if either part fails.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$root/.venv"

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$here/requirements.txt"

export NYLAS_SIM_BIN="${NYLAS_SIM_BIN:-$root/.build/debug/nylas-sim}"
cd "$here"
set +e
timeout 600 "$venv/bin/python" -m pytest -q -c "$here/pytest.ini" "$here"
tests=$?
timeout 600 "$venv/bin/python" "$here/soak.py" --seconds "${SOAK_SECONDS:-10}" --clients "${SOAK_CLIENTS:-64}"
soak=$?
set -e
[ "$tests" -eq 0 ] && [ "$soak" -eq 0 ]
