#!/usr/bin/env bash
# Fuzzing: schemathesis against the official OpenAPI description (operations the simulator implements),
# fixed seed, bounded examples per operation; fails on any 5xx or non-conforming response.
# Then the control API: schemathesis against docs/control-api.yaml (fuzz_control.py: every /__sim/ route
# but those that read files or call out), fixed seed; fails on any 5xx, crash or hang.
# NYLAS_SIM_BIN names the binary (default .build/debug/nylas-sim); FUZZ_EXAMPLES (default 20),
# FUZZ_PHASES (default examples,fuzzing) and extra arguments go to fuzz.py; FUZZ_CONTROL_EXAMPLES
# (default 50) and FUZZ_CONTROL_PHASES (default examples,coverage,fuzzing) to fuzz_control.py.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$root/.venv"

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$here/requirements.txt"

export NYLAS_SIM_BIN="${NYLAS_SIM_BIN:-$root/.build/debug/nylas-sim}"
status=0
timeout 600 "$venv/bin/python" "$here/fuzz.py" --examples "${FUZZ_EXAMPLES:-20}" "$@" || status=$?
timeout 300 "$venv/bin/python" "$here/fuzz_control.py" --examples "${FUZZ_CONTROL_EXAMPLES:-50}" || status=$?
exit "$status"
