"""Coverage of the official v3 description: every operation of `nylas-v3-openapi.yml`, implemented or not.

Starts `nylas-sim serve`, then sends each operation of the description once (path parameters filled
with a placeholder, no credentials). An operation the simulator does not route answers the router's
own `Route not found`; any other answer (401, 404 for the placeholder ID, 400...) means a route
took the request. Prints the table and `coverage: N of M operations`; with `--require N` exits
non-zero below N.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import requests
import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "Robustness"))
from simproc import SimProcess  # noqa: E402

sys.path.insert(0, str(HERE.parent / "ContractTests"))
from openapi_check import spec_path  # noqa: E402

METHODS = ("get", "put", "post", "delete", "patch")


def operations(spec: dict) -> list[tuple[str, str, str]]:
    ops = []
    for template, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                ops.append((method.upper(), template, item[method].get("operationId", "")))
    return ops


def probe(base: str, method: str, template: str) -> bool:
    path = re.sub(r"\{[^}]+\}", "coverage-probe", template)
    r = requests.request(method, base + path, timeout=10, allow_redirects=False)
    if r.status_code != 404:
        return True
    try:
        message = r.json().get("error", {}).get("message", "")
    except ValueError:
        return True
    return not message.startswith("Route not found")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--require", type=int, default=0, help="fail when fewer operations are implemented")
    ap.add_argument("--missing", action="store_true", help="print only the operations not implemented")
    args = ap.parse_args()
    spec = yaml.safe_load(spec_path().read_text())
    ops = operations(spec)
    sim = SimProcess().start()
    try:
        results = [(m, t, op, probe(sim.us_url, m, t)) for m, t, op in ops]
    finally:
        sim.stop()
    done = sum(1 for *_, ok in results if ok)
    for m, t, op, ok in results:
        if args.missing and ok:
            continue
        print(f"{'implemented' if ok else 'missing    '}  {m:6} {t}  ({op})")
    print(f"coverage: {done} of {len(results)} operations")
    return 1 if done < args.require else 0


if __name__ == "__main__":
    sys.exit(main())
