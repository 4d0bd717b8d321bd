#!/usr/bin/env bash
# The coverage figure: every operation of the official v3 description, implemented or not, probed
# against the binary named by NYLAS_SIM_BIN. Fails below the required count (default: all 208).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$root/.venv"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$root/Tests/ContractTests/requirements.txt"
fi
export NYLAS_SIM_BIN="${NYLAS_SIM_BIN:-$root/.build/debug/nylas-sim}"
exec "$venv/bin/python" "$here/coverage.py" --require "${COVERAGE_REQUIRE:-208}" "$@"
