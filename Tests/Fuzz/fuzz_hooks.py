"""Schemathesis hooks for the fuzz run (loaded through SCHEMATHESIS_HOOKS=fuzz_hooks).

Registers the check `nylas_openapi_conformance`: every response is validated with the contract
suite's checker (`Tests/ContractTests/openapi_check.py`) against the official description, with the
same allow-list (`openapi_allowlist.py`), so the fuzz run and the SDK suite judge responses alike.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

import schemathesis

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ContractTests"))
import openapi_check  # noqa: E402

_checker = None


def _get_checker():
    global _checker
    if _checker is None:
        _checker = openapi_check.OpenAPIChecker(openapi_check.load_spec())
    return _checker


def _header(headers, name: str) -> str:
    for k, v in dict(headers).items():
        if k.lower() == name.lower():
            return v[0] if isinstance(v, (list, tuple)) else v
    return ""


def _negative(case) -> bool:
    meta = getattr(case, "meta", None)
    return bool(meta is not None and meta.generation.mode.is_negative)


@schemathesis.check
def nylas_openapi_conformance(ctx, response, case):
    """The response matches its operation's documented response (allow-list applied).

    For a request generated to break the description (negative mode) only a refusal (4xx) is held to
    the description: a 2xx there means the simulator accepted invalid input, and what it echoes back
    is then invalid too. Those cases are recorded (FUZZ_LENIENT_LOG, summarised by fuzz.py) rather
    than failed: the bug is the missing input validation, reported on its own.
    """
    request = response.request
    path = urlsplit(request.url).path
    problems = _get_checker().check(request.method, path, response.status_code,
                                    _header(response.headers, "content-type"), response.content or b"")
    if problems and _negative(case) and response.status_code < 400:
        log = os.environ.get("FUZZ_LENIENT_LOG")
        if log:
            with open(log, "a", encoding="utf-8") as f:
                f.write(json.dumps({"method": request.method, "path": path, "status": response.status_code,
                                    "problems": [str(p) for p in problems[:3]],
                                    "body": (request.body.decode("utf-8", "replace") if isinstance(request.body, bytes)
                                             else str(request.body or ""))[:400]}) + "\n")
        return
    if problems:
        raise AssertionError("\n".join(str(p) for p in problems[:10]))
