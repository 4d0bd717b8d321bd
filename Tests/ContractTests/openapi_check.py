"""Response conformance: every v3 response the contract tests receive is checked against the
official OpenAPI description (`shared/reference/nylas-v3-openapi.yml`, OpenAPI 3.1).

How it hooks in: `requests.Session.send` is wrapped once per pytest session, so everything that goes
through `requests` (the official SDK, `requests.get(...)` in a test, `sim.http`) is seen. Only
responses to loopback hosts under `/v3/` are checked (the control API `/__sim/` and v2 are not in
the description). Each response is matched to its operation (method + path template), then to the
documented response for its status (exact, `4XX`-style, or `default`), and its JSON body is validated
with `jsonschema` (draft 2020-12, the dialect of OpenAPI 3.1) against that response's schema, with
`$ref`s resolved inside the description.

A test whose traffic broke the description fails after its body ran, with one line per problem:
the operation, the status, the field (as a path such as `data[0].when.start_time`) and the rule
(the JSON Schema keyword and its value). Places where the description itself is wrong, and the
SDKs prove it, are patched or waived in `openapi_allowlist.py` (each entry says why).

Environment:
- `NYLAS_OPENAPI_SPEC`: path of the description (default: `shared/reference/` beside the repository).
- `NYLAS_OPENAPI_CHECK`: `fail` (default), `report` (print every problem at the end, fail nothing),
  or `off`.
- `NYLAS_OPENAPI_DUMP`: a file to which the bodies of non-conforming responses are appended.
"""
from __future__ import annotations

import copy
import json
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

try:  # the allow-list sits beside this file
    import openapi_allowlist as allowlist
except ImportError:  # pragma: no cover - imported as part of a package
    from . import openapi_allowlist as allowlist  # type: ignore

REPO_ROOT = Path(__file__).resolve().parents[2]
SPEC_CANDIDATES = [
    REPO_ROOT.parent / "shared" / "reference" / "nylas-v3-openapi.yml",
    Path("/work/shared/reference/nylas-v3-openapi.yml"),
]
SPEC_URI = "urn:nylas:v3-openapi"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


def spec_path() -> Path:
    given = os.environ.get("NYLAS_OPENAPI_SPEC")
    if given:
        return Path(given)
    for candidate in SPEC_CANDIDATES:
        if candidate.exists():
            return candidate
    return SPEC_CANDIDATES[0]


def load_spec(path: Path | None = None) -> dict:
    """The description as a dict, with the allow-list's patches applied."""
    import yaml

    path = path or spec_path()
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(path, encoding="utf-8") as f:
        spec = yaml.load(f, Loader=loader)
    allowlist.normalize(spec)
    for patch in allowlist.SPEC_PATCHES:
        _apply_patch(spec, patch)
    return spec


def _pointer_parts(pointer: str) -> list[str]:
    return [p.replace("~1", "/").replace("~0", "~") for p in pointer.lstrip("/").split("/")] if pointer else []


def _apply_patch(spec: dict, patch) -> None:
    parts = _pointer_parts(patch.pointer)
    node = spec
    for p in parts[:-1]:
        node = node[int(p)] if isinstance(node, list) else node[p]
    last = parts[-1]
    if isinstance(node, list):
        last = int(last)
    elif patch.op == "add" and last in node:
        raise KeyError(f"openapi_allowlist: {patch.pointer} is already in the description (stale patch?)")
    elif patch.op != "add" and last not in node:
        raise KeyError(f"openapi_allowlist: {patch.pointer} is not in the description (stale patch?)")
    if patch.op == "remove":
        del node[last]
    elif patch.op == "rename":
        node[patch.value] = node.pop(last)
    else:
        node[last] = copy.deepcopy(patch.value)


@dataclass
class Violation:
    """One way a response broke the description."""

    method: str
    template: str
    operation_id: str
    status: int
    field: str
    rule: str
    message: str

    def __str__(self) -> str:
        op = f"{self.operation_id} ({self.method} {self.template})" if self.operation_id else f"{self.method} {self.template}"
        return f"{op} -> {self.status}: field `{self.field}`: rule {self.rule}: {self.message}"


@dataclass
class Operation:
    method: str
    template: str
    regex: re.Pattern
    params: int
    spec: dict
    pointer: str  # JSON pointer of the operation object in the description

    @property
    def operation_id(self) -> str:
        return self.spec.get("operationId", "")


class OpenAPIChecker:
    """Matches a response to its documented operation and validates it."""

    def __init__(self, spec: dict):
        from jsonschema import Draft202012Validator
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT202012

        self.spec = spec
        self._validator_cls = Draft202012Validator
        self._registry = Registry().with_resource(SPEC_URI, Resource(contents=spec, specification=DRAFT202012))
        self._validators: dict[str, object] = {}
        self.operations: list[Operation] = []
        for template, item in spec.get("paths", {}).items():
            regex = re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$")
            params = template.count("{")
            for method in METHODS:
                if method in item:
                    esc = template.replace("~", "~0").replace("/", "~1")
                    self.operations.append(Operation(method.upper(), template, regex, params, item[method],
                                                     f"/paths/{esc}/{method}"))
        # Literal routes win over templated ones (/v3/grants/me before /v3/grants/{grantId}).
        self.operations.sort(key=lambda o: (o.params, -len(o.template)))

    # -- matching ----------------------------------------------------------------------------
    def operation(self, method: str, path: str) -> tuple[Operation | None, bool]:
        """The operation for `method path`, and whether the path itself is documented."""
        path_known = False
        for op in self.operations:
            if op.regex.match(path):
                path_known = True
                if op.method == method:
                    return op, True
        return None, path_known

    def _deref(self, node: dict, pointer: str) -> tuple[dict, str]:
        seen = 0
        while isinstance(node, dict) and "$ref" in node and seen < 20:
            ref = node["$ref"]
            assert ref.startswith("#/"), ref
            pointer = ref[1:]
            node = self.spec
            for p in _pointer_parts(pointer):
                node = node[p]
            seen += 1
        return node, pointer

    def response_spec(self, op: Operation, status: int) -> tuple[dict | None, str]:
        responses = op.spec.get("responses", {})
        for key in (str(status), f"{status // 100}XX", f"{status // 100}xx", "default"):
            if key in responses:
                return self._deref(responses[key], f"{op.pointer}/responses/{key}")
        return None, ""

    # -- validation --------------------------------------------------------------------------
    def check(self, method: str, path: str, status: int, content_type: str, body: bytes) -> list[Violation]:
        """Every problem of one response; empty when it conforms (or is waived)."""
        method = method.upper()
        head = method == "HEAD"  # answered as GET, without a body
        op, path_known = self.operation("GET" if head else method, path)
        template = op.template if op else path
        if op is None:
            if allowlist.undocumented(method, path):
                return []
            if status >= 400 and not path_known:
                return []  # an error for a path the API does not have (404 route not found)
            if status >= 400 and path_known:
                return []  # a method the API does not have on a documented path, refused
            return [Violation(method, path, "", status, "(operation)", "undocumented-operation",
                              "no operation of the description matches this method and path")]
        violations = self._check_response(op, status, content_type, b"" if head else body, head=head)
        return [v for v in violations if not allowlist.waived(v)]

    def _check_response(self, op: Operation, status: int, content_type: str, body: bytes,
                        head: bool = False) -> list[Violation]:
        def violation(field: str, rule: str, message: str) -> Violation:
            return Violation(op.method, op.template, op.operation_id, status, field, rule, message)

        response, pointer = self.response_spec(op, status)
        if response is None:
            if status >= 400:
                # Statuses an operation does not list (404 on an unknown grant, 405, 413...) still
                # must carry the documented error envelope of that status, if the API documents one.
                generic = self.spec.get("components", {}).get("responses", {}).get(str(status))
                if generic is None:
                    generic, pointer = self.spec["components"]["responses"]["400"], "/components/responses/400"
                else:
                    pointer = f"/components/responses/{status}"
                response = generic
            else:
                documented = ", ".join(sorted(op.spec.get("responses", {}).keys()))
                return [violation("(status)", "undocumented-status", f"status {status} is not documented (documented: {documented})")]
        content = response.get("content") or {}
        if not content:
            return []
        mime = (content_type or "").split(";")[0].strip().lower()
        media_key = mime if mime in content else None
        if media_key is None:
            json_keys = [k for k in content if k.endswith("json")]
            if mime.endswith("json") and json_keys:
                media_key = json_keys[0]
            elif "*/*" in content:
                media_key = "*/*"
            else:
                return [violation("(content-type)", "content-type",
                                  f"Content-Type {content_type or '(none)'} is not documented ({', '.join(content)})")]
        media = content[media_key] or {}
        schema = media.get("schema")
        if schema is None or not media_key.endswith("json") or head:
            return []
        try:
            instance = json.loads(body.decode("utf-8")) if body else None
        except (UnicodeDecodeError, ValueError) as exc:
            return [violation("(body)", "json", f"the body is not JSON: {exc}")]
        esc = media_key.replace("~", "~0").replace("/", "~1")
        ref = f"{SPEC_URI}#{pointer}/content/{esc}/schema"
        validator = self._validators.get(ref)
        if validator is None:
            validator = self._validator_cls({"$ref": ref}, registry=self._registry)
            self._validators[ref] = validator
        out = []
        for error in validator.iter_errors(instance):
            for leaf in _leaves(error):
                out.append(violation(_field(leaf.absolute_path), _rule(leaf), _short(leaf.message)))
        return _dedupe(out)


def _leaves(error):
    """The most specific errors under an anyOf/oneOf: those of the branch the instance's
    discriminator names, else of the branch that came closest; else the error itself."""
    if error.validator in ("anyOf", "oneOf") and error.context:
        from jsonschema.exceptions import best_match

        branch = _discriminated_branch(error)
        if branch is not None:
            chosen = [e for e in error.context if e.relative_schema_path and e.relative_schema_path[0] == branch]
            if chosen:
                return [leaf for e in chosen for leaf in _leaves(e)]
        best = best_match(error.context)
        return _leaves(best) if best is not None and best is not error else [error]
    return [error]


def _discriminated_branch(error) -> int | None:
    schema, instance = error.schema, error.instance
    disc = schema.get("discriminator") if isinstance(schema, dict) else None
    if not disc or not isinstance(instance, dict):
        return None
    target = (disc.get("mapping") or {}).get(instance.get(disc.get("propertyName", "")))
    if target is None:
        return None
    for i, branch in enumerate(schema.get(error.validator, [])):
        if isinstance(branch, dict) and branch.get("$ref") == target:
            return i
    return None


def _field(path) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(root)"


def _rule(error) -> str:
    value = json.dumps(error.validator_value, default=str) if not isinstance(error.validator_value, dict) else "{…}"
    if len(value) > 80:
        value = value[:77] + "…"
    return f"{error.validator}={value}"


def _short(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _dedupe(violations: list[Violation]) -> list[Violation]:
    seen, out = set(), []
    for v in violations:
        key = (v.field, v.rule, v.message)
        if key not in seen:
            seen.add(key)
            out.append(v)
    return out


# -- the pytest plugin -------------------------------------------------------------------------

_checker: OpenAPIChecker | None = None
_lock = threading.Lock()
_current: list[str] = []  # violations of the test under way, as text
_all: list[tuple[str, str]] = []  # (test id, violation) for report mode
_counts = {"responses": 0, "checked": 0}
_original_send = requests.Session.send


def checker() -> OpenAPIChecker:
    global _checker
    with _lock:
        if _checker is None:
            _checker = OpenAPIChecker(load_spec())
        return _checker


def _observe(request: requests.PreparedRequest, response: requests.Response) -> None:
    parts = urlsplit(request.url or "")
    if (parts.hostname or "") not in LOOPBACK or not parts.path.startswith("/v3/"):
        return
    _counts["responses"] += 1
    content_type = response.headers.get("Content-Type", "")
    is_json = "json" in content_type.lower()
    body = response.content if is_json or not content_type else b""
    # Matched raw: a template segment is `[^/]+`, so percent-encoded IDs match as they are.
    problems = checker().check(request.method or "GET", parts.path, response.status_code, content_type, body)
    _counts["checked"] += 1
    if problems and os.environ.get("NYLAS_OPENAPI_DUMP"):
        with open(os.environ["NYLAS_OPENAPI_DUMP"], "a", encoding="utf-8") as f:
            f.write(f"{request.method} {request.url} -> {response.status_code}\n{body.decode('utf-8', 'replace')}\n\n")
    with _lock:
        _current.extend(str(p) for p in problems)


def _send(self, request, **kwargs):
    response = _original_send(self, request, **kwargs)
    try:
        _observe(request, response)
    except Exception as exc:  # a bug here must not look like an SDK failure: record it
        with _lock:
            _current.append(f"openapi_check could not check {request.method} {request.url}: {exc!r}")
    return response


def _mode() -> str:
    return os.environ.get("NYLAS_OPENAPI_CHECK", "fail").lower()


def pytest_configure(config):
    if _mode() == "off":
        return
    path = spec_path()
    if not path.exists():
        raise pytest.UsageError(f"openapi_check: the OpenAPI description is missing at {path} "
                                "(set NYLAS_OPENAPI_SPEC, or NYLAS_OPENAPI_CHECK=off)")
    checker()
    requests.Session.send = _send


def pytest_unconfigure(config):
    requests.Session.send = _original_send


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    with _lock:
        _current.clear()
    try:
        result = yield
    finally:
        with _lock:
            found = list(dict.fromkeys(_current))
            _current.clear()
        if found and _mode() == "report":
            _all.extend((item.nodeid, f) for f in found)
            found = []
        elif found:
            item.add_report_section("call", "openapi", "\n".join(found))
    if found:
        lines = "\n  ".join(found[:25]) + (f"\n  … and {len(found) - 25} more" if len(found) > 25 else "")
        raise AssertionError(f"responses that break the official OpenAPI description:\n  {lines}")
    return result


def pytest_terminal_summary(terminalreporter):
    if _mode() == "off":
        return
    tr = terminalreporter
    tr.write_line(f"openapi_check: {_counts['checked']} v3 responses checked against {spec_path().name}")
    if _all:
        tr.section("openapi_check report (NYLAS_OPENAPI_CHECK=report)")
        for test, v in _all:
            tr.write_line(f"{test}: {v}")
