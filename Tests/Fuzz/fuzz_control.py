"""Fuzzing the control API: schemathesis against `docs/control-api.yaml` (every `/__sim/` route), with a
fixed seed and a bounded number of examples per operation.

1. Starts `nylas-sim serve` (manual clock, seeded) and sets up a world for the routes to act on: a Google
   grant and its mailbox with a message, an event, a contact, a room resource, a fault rule and one
   journaled v3 request (`setup_world`).
2. Writes a working copy of the description: the operations below left out, `POST /__sim/reset` moved
   last, and the path parameters that name objects (`{grant_id}`, `{message}`, `{event}`, `{contact}`,
   room `{email}`, fault `{id}`) given the set-up objects as an `enum`, so that positive cases reach
   real objects while negative cases still send arbitrary ones.
3. Runs `st run` (schemathesis, schema order, one worker): checks `not_a_server_error` (no 5xx, no
   network error or timeout). The hooks (`fuzz_control_hooks.py`) log every 5xx answer and every
   request that got no answer, and rebuild the set-up after a reset or a delete.
   Meanwhile a watchdog notices the simulator crashing (process gone) or hanging (`GET /__sim/clock`
   unanswered for 30 s: SIGQUIT for the threads' backtraces, then SIGKILL), records it and starts it
   again on the same ports with the set-up rebuilt, so that one crash does not hide the defects of the
   operations after it. Every request is traced (`trace.jsonl` in the working directory) for replays.
4. Checks that the server process is still alive and answers `GET /__sim/clock`; this and "no crash or
   hang during the run" count as one more test.
5. Stops schemathesis if it runs past `--budget` seconds (default 240; run.sh's `timeout` is 300) and
   counts that as a failure. Prints the answers' statuses per operation, the per-operation results,
   each failing request exactly (method, URL, body, answer), the crashes and hangs with their log
   lines, and `fuzz-control: N passed, N failed`; exits non-zero on any failure.

Left out, and why:
- `POST /__sim/fixtures` and `POST /__sim/fixtures/calendar`: `{"path": ...}` makes the simulator read
  any file the request names.
- `POST /__sim/scenarios`: `{"path": ...}` reads any file; a scenario (`yaml`) may load fixture files,
  start webhook receivers and make the simulator call URLs it names.

`--checks` names the schemathesis checks (default `not_a_server_error`; add e.g.
`response_schema_conformance,status_code_conformance` to hold the answers to the description as well);
`--include-path-regex` / `--exclude-path-regex` narrow the run (for triage).
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import requests
import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE.parent / "Robustness"))
from simproc import SimProcess  # noqa: E402

SPEC = REPO / "docs" / "control-api.yaml"
METHODS = ("get", "put", "post", "delete", "patch")
# Operations left out (see the module docstring).
LEFT_OUT = {
    ("POST", "/__sim/fixtures"): "reads the file named by `path`",
    ("POST", "/__sim/fixtures/calendar"): "reads the file named by `path`",
    ("POST", "/__sim/scenarios"): "reads the file named by `path`; scenarios load files and call out to URLs",
}

# A Swift runtime trap's line (`Fatal error: ...`, `Swift/Array.swift:947: Fatal error: ...`), not the register dump.
FATAL = re.compile(r"^(\S+:\s)?Fatal error:")

MAILBOX = "fuzz@gmail.com"
MESSAGE_ID = "<fuzz-1@example.com>"
EVENT_UID = "fuzz-event@example.com"
CONTACT = "ada@example.com"
ROOM = "boardroom@example.com"


# -- set-up -------------------------------------------------------------------------------------

def _call(base: str, method: str, path: str, body=None, ok=(200, 201, 202)) -> requests.Response:
    r = requests.request(method, base + path, json=body, timeout=30)
    if r.status_code not in ok:
        raise RuntimeError(f"set-up {method} {path} -> {r.status_code}: {r.text[:300]}")
    return r


def setup_world(base: str) -> dict:
    """The objects the fuzzed routes act on; idempotent (run again after a reset or a delete).
    Returns their names: grant ID, fault ID, a v3 application's client ID, a journal sequence number."""
    grant = _call(base, "POST", "/__sim/grants", {"email": MAILBOX, "provider": "google"}).json()
    messages = _call(base, "GET", f"/__sim/providers/mailboxes/{MAILBOX}/messages").json()["data"]
    if not any(m["message_id_header"] == MESSAGE_ID for m in messages):
        _call(base, "POST", f"/__sim/providers/mailboxes/{MAILBOX}/messages",
              {"from": {"name": "Alice", "email": "alice@example.com"}, "to": MAILBOX, "subject": "Fuzz seed",
               "body": "<p>hi</p>", "message_id": MESSAGE_ID})
    events = _call(base, "GET", f"/__sim/providers/mailboxes/{MAILBOX}/events").json()["data"]
    if not any(e["ical_uid"] == EVENT_UID and not e["deleted"] for e in events):
        _call(base, "POST", f"/__sim/providers/mailboxes/{MAILBOX}/events",
              {"title": "Fuzz standup", "ical_uid": EVENT_UID,
               "when": {"start_time": 1767603600, "end_time": 1767605400, "start_timezone": "Europe/Dublin"},
               "recurrence": ["RRULE:FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10"],
               "participants": [{"email": MAILBOX}, {"email": CONTACT, "name": "Ada"}]},
              ok=(201, 409))
    contacts = _call(base, "GET", f"/__sim/providers/mailboxes/{MAILBOX}/contacts").json()["data"]
    if not any(not c["deleted"] and any(e.get("email") == CONTACT for e in c.get("emails", [])) for c in contacts):
        _call(base, "POST", f"/__sim/providers/mailboxes/{MAILBOX}/contacts",
              {"given_name": "Ada", "surname": "Lovelace", "emails": [{"email": CONTACT, "type": "work"}]})
    _call(base, "POST", "/__sim/providers/resources", {"email": ROOM, "name": "Boardroom", "capacity": 12})
    faults = _call(base, "GET", "/__sim/faults").json()["data"]
    fault = next((f for f in faults if f["path"] == "/v3/__fuzz__"), None)
    if fault is None:
        fault = _call(base, "POST", "/__sim/faults", {"path": "/v3/__fuzz__", "status": 503}).json()
    state = _call(base, "GET", "/__sim/state").json()
    app = next(a for a in state["regions"]["us"]["applications"] if a["api_version"] == 3)
    # One journaled v3 request (for /__sim/requests and /__sim/ui/request).
    requests.get(base + "/v3/grants", headers={"Authorization": f"Bearer {app['api_key']}"}, timeout=30)
    return {"grant_id": grant["id"], "fault_id": fault["id"], "client_id": app["client_id"]}


# -- the working copy of the description --------------------------------------------------------

def _with_enum(param: dict, values: list[str]) -> dict:
    p = copy.deepcopy(param)
    p["schema"] = {"type": "string", "enum": values}
    p.pop("example", None)
    return p


def build_spec(spec: dict, world: dict) -> tuple[dict, list[tuple[str, str]]]:
    """The description without the left-out operations, reset last, object-naming path parameters
    narrowed to the set-up objects."""
    out = copy.deepcopy(spec)
    params = out["components"]["parameters"]
    params["GrantId"] = _with_enum(params["GrantId"], [world["grant_id"]])
    params["MailboxEmail"] = _with_enum(params["MailboxEmail"], [MAILBOX])
    params["CalendarMailboxEmail"] = _with_enum(params["CalendarMailboxEmail"], [MAILBOX])
    params["MessageRef"] = _with_enum(params["MessageRef"], [MESSAGE_ID])
    params["EventRef"] = _with_enum(params["EventRef"], [EVENT_UID])
    params["ContactRef"] = _with_enum(params["ContactRef"], [CONTACT])
    params["EntrySeq"]["example"] = 1
    left_out = []
    paths = {}
    for template, item in out["paths"].items():
        item = copy.deepcopy(item)
        for method in METHODS:
            if method in item and (method.upper(), template) in LEFT_OUT:
                item.pop(method)
                left_out.append((method.upper(), template))
        if not any(m in item for m in METHODS):
            continue
        for method in METHODS:
            op = item.get(method)
            if not op:
                continue
            for i, p in enumerate(op.get("parameters", [])):
                if "$ref" in p:
                    continue
                if template == "/__sim/providers/resources/{email}" and p["name"] == "email":
                    op["parameters"][i] = _with_enum(p, [ROOM])
                elif template == "/__sim/faults/{id}" and p["name"] == "id":
                    # The set-up's rule is made again after each delete, with the next ID.
                    first = int(world["fault_id"].split("-")[1])
                    op["parameters"][i] = _with_enum(p, [f"fault-{n}" for n in range(first, first + 40)])
                elif template == "/__sim/ui/secret" and p["name"] == "ref":
                    p["example"] = f"app:us:{world['client_id']}:api_key"
        paths[template] = item
    # The reset wipes the set-up: last, so that every other operation meets the objects first.
    reset = paths.pop("/__sim/reset", None)
    if reset:
        paths["/__sim/reset"] = reset
    out["paths"] = paths
    out["servers"] = [{"url": "/"}]
    return out, left_out


# -- the run ------------------------------------------------------------------------------------

def alive(sim: SimProcess) -> str | None:
    """None when the server runs and answers GET /__sim/clock, else why not."""
    if sim.proc is None or sim.proc.poll() is not None:
        return f"the simulator died (exit {sim.proc.returncode if sim.proc else '?'})"
    try:
        r = requests.get(sim.us_url + "/__sim/clock", timeout=10)
    except requests.RequestException as e:
        return f"GET /__sim/clock got no answer: {e}"
    if r.status_code != 200 or "now" not in r.text:
        return f"GET /__sim/clock answered {r.status_code}: {r.text[:200]}"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Watchdog(threading.Thread):
    """Notices the simulator crashing (process gone) or hanging (GET /__sim/clock unanswered for
    `hang_after` seconds), records it, and starts it again on the same ports with the set-up rebuilt,
    so that one crash does not hide the defects of the operations after it."""

    def __init__(self, sim: SimProcess, max_restarts: int = 10, hang_after: float = 30):
        super().__init__(daemon=True)
        self.sim = sim
        self.max_restarts = max_restarts
        self.hang_after = hang_after
        self.events: list[str] = []
        self.restarted_at: list[float] = []  # wall time (time.time()) of each restart
        self.halt = threading.Event()

    def _fatal_lines(self) -> list[str]:
        path = self.sim.stderr_path
        text = path.read_text(errors="replace") if path and path.exists() else ""
        return [l for l in text.splitlines() if FATAL.match(l) or "Program crashed" in l][:3]

    def _cpu_seconds(self) -> float | None:
        try:
            fields = Path(f"/proc/{self.sim.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return None

    def _restart(self, what: str) -> bool:
        self.events.append(f"{what}; log {self.sim.stderr_path}: " + (" | ".join(self._fatal_lines()) or "no fatal line"))
        if len(self.events) > self.max_restarts:
            self.events.append(f"not restarted: more than {self.max_restarts} crashes or hangs")
            return False
        self.restarted_at.append(time.time())
        try:
            self.sim.start()
            setup_world(self.sim.us_url)
        except Exception as e:  # noqa: BLE001
            self.events.append(f"restart failed: {e}")
            return False
        return True

    def run(self) -> None:
        last_ok = time.monotonic()
        last_probe = 0.0
        while not self.halt.wait(0.25):
            if self.sim.proc.poll() is not None:
                if not self._restart(f"crash: the simulator exited with {self.sim.proc.returncode}"):
                    return
                last_ok = time.monotonic()
                continue
            now = time.monotonic()
            if now - last_probe < 2:
                continue
            last_probe = now
            try:
                if requests.get(self.sim.us_url + "/__sim/clock", timeout=5).status_code == 200:
                    last_ok = time.monotonic()
            except requests.RequestException:
                pass
            if time.monotonic() - last_ok > self.hang_after:
                busy = self._cpu_seconds()
                time.sleep(2)
                busy = f"{self._cpu_seconds() - busy:.1f} CPU-s in 2 s" if busy is not None else "CPU unknown"
                # SIGQUIT: the Swift runtime prints every thread's backtrace (to the log), then SIGKILL.
                self.sim.proc.send_signal(signal.SIGQUIT)
                try:
                    self.sim.proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    pass
                self.sim.kill()
                if not self._restart(f"hang: GET /__sim/clock unanswered for {self.hang_after:.0f}s ({busy}; "
                                     "backtraced with SIGQUIT, killed)"):
                    return
                last_ok = time.monotonic()


def main() -> int:
    # `timeout` (run.sh) sends SIGTERM: unwind, so that the simulator and schemathesis are stopped too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(124))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--examples", type=int, default=int(os.environ.get("FUZZ_CONTROL_EXAMPLES", "50")),
                    help="examples per operation (default 50)")
    ap.add_argument("--seed", type=int, default=20261122)
    ap.add_argument("--phases", default=os.environ.get("FUZZ_CONTROL_PHASES", "examples,coverage,fuzzing"),
                    help="schemathesis phases (default examples,coverage,fuzzing)")
    ap.add_argument("--checks", default="not_a_server_error",
                    help="schemathesis checks (default not_a_server_error)")
    ap.add_argument("--budget", type=int, default=int(os.environ.get("FUZZ_CONTROL_BUDGET", "240")),
                    help="seconds schemathesis may take before it is stopped and the run fails (default 240)")
    ap.add_argument("--max-time", type=int, default=0,
                    help="schemathesis --max-time: repeat fuzzing until this many seconds are spent (default: one pass)")
    ap.add_argument("--include-path-regex", default=None, help="only the paths matching this regex")
    ap.add_argument("--exclude-path-regex", default=None, help="leave out the paths matching this regex")
    ap.add_argument("--keep", action="store_true", help="keep the working directory")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="nylas-fuzz-control-"))
    # Fixed ports (the later flags win), so that a restarted simulator answers at the same URL.
    sim = SimProcess("--seed", "fuzz-control", "--clock", "manual", "--log-level", "warning",
                     "--us-port", str(free_port()), "--eu-port", str(free_port()), workdir=str(work))
    sim.start()
    watchdog = Watchdog(sim)
    status = 1
    try:
        world = setup_world(sim.us_url)
        spec, left_out = build_spec(yaml.safe_load(SPEC.read_text()), world)
        spec_path = work / "control-api.json"
        spec_path.write_text(json.dumps(spec))
        ops = sum(1 for i in spec["paths"].values() for m in METHODS if m in i)
        print(f"fuzz-control: {ops} operations; left out: "
              + ", ".join(f"{m} {p} ({LEFT_OUT[(m, p)]})" for m, p in left_out), flush=True)

        (work / "schemathesis.toml").write_text(
            '[phases.examples]\noperation-ordering = "none"\n[phases.fuzzing]\noperation-ordering = "none"\n')
        junit = work / "junit.xml"
        log = work / "server-errors.jsonl"
        env = dict(os.environ, SCHEMATHESIS_HOOKS="fuzz_control_hooks", FUZZ_CONTROL_BASE=sim.us_url,
                   FUZZ_CONTROL_LOG=str(log), FUZZ_CONTROL_STATS=str(work / "statuses.txt"),
                   FUZZ_CONTROL_TRACE=str(work / "trace.jsonl"),
                   PYTHONPATH=os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]))
        cmd = [str(Path(sys.executable).parent / "st"), "--config-file", str(work / "schemathesis.toml"),
               "run", str(spec_path), "--url", sim.us_url,
               "--checks", args.checks,
               "--seed", str(args.seed), "--max-examples", str(args.examples), "--workers", "1",
               "--phases", args.phases, "--mode", "all", "--no-shrink",
               *(["--max-time", str(args.max_time)] if args.max_time else []),
               *(["--include-path-regex", args.include_path_regex] if args.include_path_regex else []),
               *(["--exclude-path-regex", args.exclude_path_regex] if args.exclude_path_regex else []),
               "--request-timeout", "10", "--suppress-health-check", "all", "--warnings", "off",
               "--report", "junit", "--report-junit-path", str(junit), "--output-truncate", "true"]
        started = time.monotonic()
        watchdog.start()
        over_budget = False
        with open(work / "schemathesis.log", "w") as out, \
                subprocess.Popen(cmd, env=env, cwd=work, stdout=out, stderr=subprocess.STDOUT) as st:
            try:
                returncode = st.wait(timeout=args.budget)
            except subprocess.TimeoutExpired:
                over_budget = True  # hangs and restarts ate the budget: report what was done
                st.terminate()
                try:
                    returncode = st.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    st.kill()
                    returncode = st.wait()
        elapsed = time.monotonic() - started
        watchdog.halt.set()
        watchdog.join(timeout=60)
        print((work / "schemathesis.log").read_text(errors="replace")[-20000:])

        stats_path = work / "statuses.txt"
        if stats_path.exists():
            by_op: dict[str, dict[str, int]] = {}
            for line in stats_path.read_text().splitlines():
                method, path, code = line.split(" ")
                counts = by_op.setdefault(f"{method} {path}", {})
                counts[code] = counts.get(code, 0) + 1
            print("fuzz-control: answers per operation (status: count):")
            for op in sorted(by_op, key=lambda o: o.split(" ")[::-1]):
                print(f"fuzz-control:   {op:70s} " + " ".join(f"{c}:{n}" for c, n in sorted(by_op[op].items())))

        passed = failed = 0
        if junit.exists():
            for case in ET.parse(junit).getroot().iter("testcase"):
                if case.find("failure") is not None or case.find("error") is not None:
                    failed += 1
                    print(f"fuzz-control: FAILED {case.get('name')}")
                else:
                    passed += 1
        if log.exists():
            entries, seen = [], set()
            for line in log.read_text().splitlines():
                if line.strip():
                    e = json.loads(line)
                    key = (e["method"], e["url"], e["body"], e["outcome"][:3])
                    if key not in seen:  # schemathesis sends a failing case again to confirm it
                        seen.add(key)
                        entries.append(e)
            # A request that got no answer after an earlier one did, before the next restart, met a
            # simulator that was already down or stuck: counted, not listed.
            epochs = [0.0, *watchdog.restarted_at, float("inf")]
            listed, collateral = [], {}
            for e in entries:
                epoch = next(i for i in range(len(epochs) - 1) if epochs[i] <= e.get("t", 0) < epochs[i + 1])
                if e["outcome"].startswith("no answer") and epoch in collateral:
                    collateral[epoch] += 1
                    continue
                if e["outcome"].startswith("no answer"):
                    collateral[epoch] = 0
                listed.append((epoch, e))
            print(f"fuzz-control: {len(entries)} request(s) answered 5xx or not at all; the first of each outage:")
            for epoch, e in listed[:30]:
                print(f"fuzz-control:   {e['method']} {e['url']}\n"
                      f"fuzz-control:     content-type: {e.get('content_type')}\n"
                      f"fuzz-control:     body: {e['body'][:1500]}{' …(cut; whole body in the log)' if len(e['body']) > 1500 else ''}\n"
                      f"fuzz-control:     -> {e['outcome']}")
                if collateral.get(epoch) and e["outcome"].startswith("no answer"):
                    print(f"fuzz-control:     (then {collateral[epoch]} more request(s) got no answer until the restart)")
            print(f"fuzz-control:   details: {log}; every request: {work / 'trace.jsonl'}")
        # One more test: the simulator survived the run (no crash, no hang) and answers GET /__sim/clock.
        for event in watchdog.events:
            print(f"fuzz-control: during the run, {event}")
        problem = alive(sim)
        if problem:
            print(f"fuzz-control: after the run, {problem}\n{sim.output()}")
        else:
            print("fuzz-control: after the run, the simulator is alive and answers GET /__sim/clock")
        if problem or watchdog.events:
            failed += 1
        else:
            passed += 1
        server_errors = []
        for i in range(1, sim.starts + 1):
            log_text = (work / f"stdout-{i}.log").read_text(errors="replace") + (work / f"stderr-{i}.log").read_text(errors="replace")
            server_errors += [l for l in log_text.splitlines() if "unexpected error" in l or FATAL.match(l)]
        for line in server_errors:
            print(f"fuzz-control: simulator log: {line}")
        if over_budget:
            print(f"fuzz-control: schemathesis stopped after the time budget ({args.budget}s); the results above are partial")
            failed += 1
        if returncode != 0 and failed == 0:
            failed = 1  # schemathesis failed without a per-operation failure (schema or internal error)
        print(f"fuzz-control: schemathesis exit {returncode}, {elapsed:.0f}s, seed {args.seed}, "
              f"{args.examples} examples per operation")
        print(f"fuzz-control: {passed} passed, {failed} failed")
        status = 0 if failed == 0 and not server_errors else 1
    finally:
        watchdog.halt.set()
        if watchdog.is_alive():
            watchdog.join(timeout=60)
        sim.stop()
        if not args.keep and status == 0:
            import shutil
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"fuzz-control: working directory kept: {work}")
    return status


if __name__ == "__main__":
    sys.exit(main())
