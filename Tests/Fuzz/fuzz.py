"""Fuzzing: schemathesis against the official OpenAPI description, restricted to the operations the
simulator implements, with a fixed seed and a bounded number of examples per operation.

1. Starts `nylas-sim serve` (manual clock, seeded) and creates a Google grant with a few messages.
2. Writes a working copy of the description: the allow-list's patches applied (`openapi_allowlist.py`),
   only the paths in scope, `{grant_id}` replaced by the grant's ID (its path parameter dropped), and
   the operations the simulator does not route (probed once: "Route not found") left out.
3. Runs `st run` with the seeded API key: checks `not_a_server_error` (no 5xx) and
   `nylas_openapi_conformance` (`fuzz_hooks.py`: the contract suite's response validator).
4. Prints the per-operation results, the simulator's unexpected-error log lines, and
   `fuzz: N passed, N failed`; exits non-zero on any failure.

Operations that make the simulator call out to a URL from the request (`POST /v3/webhooks`,
`PUT /v3/webhooks/{id}`, `POST /v3/webhooks/send-test-event`: endpoint challenge, test event) are
left out: negative-mode fuzzing would aim them at arbitrary hosts.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "Robustness"))
sys.path.insert(0, str(HERE.parent / "ContractTests"))
from simproc import SimProcess  # noqa: E402
import openapi_check  # noqa: E402

SCOPE = re.compile(
    r"^/v3/(applications|connectors|providers/detect|webhooks|calendars/availability"
    r"|grants(/me|/\{grantId\})?$"
    r"|scheduling/|notetakers|channels/|templates|workflows|lists|rules|policies|workspaces|admin/|domains/|migration-tools/"
    r"|grants/\{grant_id\}/(messages|threads|drafts|folders|calendars|events|contacts|attachment-uploads|resources|scheduling|notetakers"
    r"|signatures|templates|workflows|rule-evaluations)(/|$))")
# Calls the simulator out to a URL taken from the request body (see the module docstring).
OUTBOUND = {("POST", "/v3/webhooks"), ("PUT", "/v3/webhooks/{id}"), ("POST", "/v3/webhooks/send-test-event")}
METHODS = ("get", "put", "post", "delete", "patch")


def build_spec(spec: dict, grant_id: str) -> dict:
    """The description narrowed to the scope, with the grant's ID in place of `{grant_id}`."""
    out = copy.deepcopy(spec)
    params = spec.get("components", {}).get("parameters", {})

    def is_grant_param(p: dict) -> bool:
        if "$ref" in p:
            p = params.get(p["$ref"].rsplit("/", 1)[-1], {})
        return p.get("in") == "path" and p.get("name") == "grant_id"

    paths = {}
    for template, item in spec["paths"].items():
        if not SCOPE.match(template):
            continue
        item = copy.deepcopy(item)
        for method in METHODS:
            if (method.upper(), template) in OUTBOUND:
                item.pop(method, None)
        if not any(m in item for m in METHODS):
            continue
        item["parameters"] = [p for p in item.get("parameters", []) if not is_grant_param(p)]
        for method in METHODS:
            if method in item:
                item[method]["parameters"] = [p for p in item[method].get("parameters", []) if not is_grant_param(p)]
        for method in METHODS:
            if method in item:
                _loosen_body_oneof(item[method], spec)
        paths[template.replace("{grant_id}", grant_id)] = item
    out["paths"] = paths
    out["servers"] = [{"url": "/"}]
    return out


def _deref(node: dict, spec: dict) -> dict:
    while isinstance(node, dict) and "$ref" in node:
        target = spec
        for part in node["$ref"][2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def _loosen_body_oneof(op: dict, spec: dict) -> None:
    """Request bodies only (generation, not validation): a `oneOf` whose branches overlap (connectors,
    credentials) cannot be generated ("nothing satisfies oneOf"); as `anyOf` it can."""
    if "requestBody" not in op:
        return
    body = copy.deepcopy(_deref(op["requestBody"], spec))
    for media in (body.get("content") or {}).values():
        schema = _deref(media.get("schema") or {}, spec)
        if isinstance(schema, dict) and "oneOf" in schema:
            schema = dict(schema)
            schema["anyOf"] = schema.pop("oneOf")
            schema.pop("discriminator", None)
            media["schema"] = schema
    op["requestBody"] = body


def probe(spec: dict, base: str, headers: dict) -> list[tuple[str, str]]:
    """The (method, path) pairs the simulator does not route at all."""
    missing = []
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method not in item:
                continue
            url = base + re.sub(r"\{[^}]+\}", "probe", path)
            r = requests.request(method.upper(), url, headers=headers, timeout=10)
            message = (r.json().get("error") or {}).get("message", "") if "json" in r.headers.get("content-type", "") else ""
            if r.status_code == 405 or (r.status_code == 404 and message.startswith("Route not found")):
                missing.append((method, path))
    return missing


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--examples", type=int, default=int(os.environ.get("FUZZ_EXAMPLES", "12")),
                    help="examples per operation (default 12)")
    ap.add_argument("--seed", type=int, default=20261122)
    ap.add_argument("--max-time", type=int, default=int(os.environ.get("FUZZ_MAX_TIME", "0")),
                    help="time budget, seconds: schemathesis then repeats fuzzing until it is spent (default: "
                         "off, one pass of --examples per operation)")
    ap.add_argument("--phases", default=os.environ.get("FUZZ_PHASES", "examples,fuzzing"),
                    help="schemathesis phases (default examples,fuzzing; coverage adds thousands of boundary cases)")
    ap.add_argument("--keep", action="store_true", help="keep the working directory")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="nylas-fuzz-"))
    # A running clock (60 virtual seconds per second): provider rate-limit windows (Google: 600 requests
    # a minute per mailbox) roll over, as they would over a real run of this length.
    sim = SimProcess("--seed", "fuzz", "--clock", "running", "--clock-rate", "60", "--log-level", "warning",
                     workdir=str(work))
    sim.start()
    status = 1
    try:
        app = sim.apps("us", 3)[0]
        key = app["api_key"]
        grant = sim.control("POST", "/__sim/grants", {"email": "fuzz@gmail.com", "provider": "google"})
        for i in range(3):
            sim.control("POST", "/__sim/providers/mailboxes/fuzz@gmail.com/messages",
                        {"from": {"name": "Alice", "email": "alice@example.com"}, "subject": f"Fuzz seed {i}", "body": "<p>hi</p>"})
        headers = {"Authorization": f"Bearer {key}"}

        spec = build_spec(openapi_check.load_spec(), grant["id"])
        missing = probe(spec, sim.us_url, headers)
        for method, path in missing:
            spec["paths"][path].pop(method)
        spec["paths"] = {p: i for p, i in spec["paths"].items() if any(m in i for m in METHODS)}
        spec_path = work / "nylas-v3-in-scope.json"
        spec_path.write_text(json.dumps(spec))
        ops = sum(1 for i in spec["paths"].values() for m in METHODS if m in i)
        print(f"fuzz: {ops} operations in scope; documented but not routed by the simulator (left out): "
              + (", ".join(f"{m.upper()} {p.replace(grant['id'], '{grant_id}')}" for m, p in missing) or "none"), flush=True)

        junit = work / "junit.xml"
        lenient_log = work / "lenient.jsonl"
        env = dict(os.environ, SCHEMATHESIS_HOOKS="fuzz_hooks", FUZZ_LENIENT_LOG=str(lenient_log),
                   PYTHONPATH=os.pathsep.join([str(HERE), str(HERE.parent / "ContractTests"), os.environ.get("PYTHONPATH", "")]))
        cmd = [str(Path(sys.executable).parent / "st"), "run", str(spec_path), "--url", sim.us_url,
               "-H", f"Authorization: Bearer {key}",
               "--checks", "not_a_server_error,nylas_openapi_conformance",
               "--seed", str(args.seed), "--max-examples", str(args.examples), "--workers", "1",
               "--phases", args.phases, "--mode", "all", "--no-shrink",
               *(["--max-time", str(args.max_time)] if args.max_time else []), "--request-timeout", "10",
               "--suppress-health-check", "all", "--warnings", "off",
               "--report", "junit", "--report-junit-path", str(junit), "--output-truncate", "true"]
        started = time.monotonic()
        run = subprocess.run(cmd, env=env, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        elapsed = time.monotonic() - started
        output = run.stdout
        (work / "schemathesis.log").write_text(output)
        print(output[-20000:])

        passed = failed = 0
        if junit.exists():
            for case in ET.parse(junit).getroot().iter("testcase"):
                if case.find("failure") is not None or case.find("error") is not None:
                    failed += 1
                else:
                    passed += 1
        if lenient_log.exists():
            by_op: dict[str, int] = {}
            for line in lenient_log.read_text().splitlines():
                e = json.loads(line)
                key = f"{e['method']} {e['path']}"
                by_op[key] = by_op.get(key, 0) + 1
            print("fuzz: invalid input accepted with 2xx and echoed back non-conforming (input validation missing):")
            for key, n in sorted(by_op.items()):
                print(f"fuzz:   {n:4d}  {key}")
            print(f"fuzz:   details: {lenient_log}")
        server_errors = [l for l in sim.output().splitlines() if "unexpected error" in l or "Fatal" in l]
        if sim.proc.poll() is not None:
            print(f"fuzz: the simulator died (exit {sim.proc.returncode})\n{sim.output()}")
            failed += 1
        for line in server_errors:
            print(f"fuzz: simulator log: {line}")
        if run.returncode != 0 and failed == 0:
            failed = 1  # schemathesis failed without a per-operation failure (schema or internal error)
        print(f"fuzz: schemathesis exit {run.returncode}, {elapsed:.0f}s, seed {args.seed}, {args.examples} examples per operation")
        print(f"fuzz: {passed} passed, {failed} failed")
        status = 0 if failed == 0 and not server_errors else 1
    finally:
        sim.stop()
        if not args.keep and status == 0:
            import shutil
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"fuzz: working directory kept: {work}")
    return status


if __name__ == "__main__":
    sys.exit(main())
