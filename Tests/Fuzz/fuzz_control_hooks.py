"""Schemathesis hooks for the control-API fuzz run (SCHEMATHESIS_HOOKS=fuzz_control_hooks, see fuzz_control.py).

- Every request is traced (FUZZ_CONTROL_TRACE: time, method, URL, body, status or "no answer"), so that a
  crash or hang that needs the requests before it can be replayed; every answer's status is counted per
  operation (FUZZ_CONTROL_STATS).
- Every answer with a 5xx status and every request that got no answer (connection closed, timeout) is
  appended to FUZZ_CONTROL_LOG as one JSON line: method, URL, Content-Type, body and outcome, so that the
  report can name each failing request exactly.
- After a successful `POST /__sim/reset` or DELETE the set-up objects are rebuilt (`setup_world`), so that
  the operations after it still meet real objects.
- Before each request, while the simulator is down (fuzz_control.py's watchdog is restarting it after a
  crash or a hang), the request waits for it (up to 60 s) instead of failing with "connection refused".
"""
from __future__ import annotations

import json
import os
import socket
import time
from urllib.parse import urlsplit

import schemathesis

import fuzz_control


def _body(request) -> str:
    body = getattr(request, "body", None)
    if body is None:
        return "(none)"
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    return str(body)


def _log(entry: dict) -> None:
    entry["t"] = round(time.time(), 3)
    path = os.environ.get("FUZZ_CONTROL_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")


def _trace(request, outcome) -> None:
    path = os.environ.get("FUZZ_CONTROL_TRACE")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"t": round(time.time(), 3), "method": request.method, "url": request.url,
                                "content_type": request.headers.get("Content-Type"), "body": _body(request),
                                "outcome": outcome}) + "\n")


def _listening(base: str) -> bool:
    u = urlsplit(base)
    try:
        with socket.create_connection((u.hostname, u.port), timeout=1):
            return True
    except OSError:
        return False


@schemathesis.hook
def before_call(context, case, kwargs):
    base = os.environ.get("FUZZ_CONTROL_BASE")
    if not base or _listening(base):
        return
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not _listening(base):
        time.sleep(0.2)
    time.sleep(1)  # the restarted simulator's set-up


@schemathesis.hook
def after_call(context, case, response):
    request = response.request
    _trace(request, response.status_code)
    stats = os.environ.get("FUZZ_CONTROL_STATS")
    if stats:
        with open(stats, "a", encoding="utf-8") as f:
            f.write(f"{case.operation.method.upper()} {case.operation.path} {response.status_code}\n")
    if response.status_code >= 500:
        _log({"method": request.method, "url": request.url, "content_type": request.headers.get("Content-Type"),
              "body": _body(request), "outcome": f"{response.status_code} {(response.text or '')[:500]}"})
    if response.status_code < 300 and (request.method == "DELETE" or case.operation.path == "/__sim/reset"):
        base = os.environ.get("FUZZ_CONTROL_BASE")
        if base:
            try:
                fuzz_control.setup_world(base)
            except Exception as e:  # the server may be gone: the run reports that
                _log({"method": "SETUP", "url": base, "content_type": None, "body": "(setup_world)",
                      "outcome": f"set-up after {request.method} {request.url} failed: {e}"[:500]})


@schemathesis.hook
def after_network_error(context, case, request):
    _trace(request, "no answer")
    _log({"method": request.method, "url": request.url, "content_type": request.headers.get("Content-Type"),
          "body": _body(request), "outcome": "no answer (connection closed or timed out)"})
