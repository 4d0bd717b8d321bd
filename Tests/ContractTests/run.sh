#!/usr/bin/env bash
# Runs the official-SDK contract suite (nylas==6.18.0 + pytest) against the simulator binary
# named by NYLAS_SIM_BIN (default: .build/debug/nylas-sim). Extra arguments go to pytest.
# Exits with pytest's status.
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
"$venv/bin/python" -m pytest -q -c "$here/pytest.ini" "$@"
status=$?
exit $status
