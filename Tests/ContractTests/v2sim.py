"""The v2 side of the contract suite: a standalone simulator served over TLS for the official
legacy SDK (`nylas-legacy==5.15.0`, module `nylas_legacy`), which refuses any API server that is
not `https://`.

`start_tls()` runs the binary with `--tls --tls-dir <tmpdir>` on its own pair of free ports (the v3
suites keep their plain-http server from conftest.py); every client of it must trust `<tmpdir>/ca.pem`.
The v2 tests point `REQUESTS_CA_BUNDLE` at that CA (per test, with monkeypatch), which covers the
SDK's two `requests.Session`s and the module-level `requests.post` of `revoke_token`.
"""
from __future__ import annotations

import base64
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import requests
from nylas_legacy import APIClient

from conftest import CALLBACK, SEED, _free_port, _stop


@dataclass
class V2App:
    """One seeded v2 application of a region."""

    region: str
    base_url: str
    client_id: str
    client_secret: str

    def client(self, access_token: str | None = None) -> APIClient:
        """An SDK client: without a token it is the application's (management) client."""
        return APIClient(self.client_id, self.client_secret, access_token, api_server=self.base_url)

    def basic(self) -> str:
        """The application's `Authorization` header for `/a/<client_id>/...` (secret as user name)."""
        return "Basic " + base64.b64encode(f"{self.client_secret}:".encode()).decode()


class TLSSim:
    """A simulator running with `--tls`: base URLs, the CA path, control helpers, the v2 apps."""

    def __init__(self, proc: subprocess.Popen, us_url: str, eu_url: str, ca: str, log_path: str, tls_dir):
        self.proc = proc
        self.us_url = us_url
        self.eu_url = eu_url
        self.ca = ca
        self.log_path = log_path
        self._tls_dir = tls_dir  # keeps the TemporaryDirectory alive
        self.http = requests.Session()
        self.http.verify = ca
        self.us: V2App | None = None
        self.eu: V2App | None = None
        self.journal: list[dict] = []

    # -- control API -------------------------------------------------------------------------
    def control(self, method: str, path: str, json=None) -> dict:
        r = self.http.request(method, self.us_url + path, json=json, timeout=10)
        assert r.status_code < 300, f"control {method} {path} -> {r.status_code}: {r.text}"
        return r.json()

    def journal_since_reset(self) -> list[dict]:
        """The v2 requests since the last reset, with bodies, from the control API's journal."""
        return self.control("GET", "/__sim/requests?api=v2&bodies=true&limit=100000")["data"]

    def reset(self) -> None:
        # Keep the suite's v2 calls across resets: the migration report test reads them all.
        self.journal.extend(self.journal_since_reset())
        self.load_apps(self.control("POST", "/__sim/reset"))

    def advance(self, duration: str) -> dict:
        return self.control("POST", "/__sim/clock", {"advance": duration})

    def now(self) -> int:
        return self.control("GET", "/__sim/clock")["now_unix"]

    def consent(self, mode: str) -> None:
        self.control("POST", "/__sim/oauth/consent", {"mode": mode})

    def deliver(self, mailbox: str, **message) -> dict:
        """Mail arrives in a provider mailbox (as the world's mail server would deliver it)."""
        return self.control("POST", f"/__sim/providers/mailboxes/{mailbox}/messages", message)

    def mailbox(self, mailbox: str) -> list[dict]:
        return self.control("GET", f"/__sim/providers/mailboxes/{mailbox}/messages")["data"]

    def load_apps(self, state: dict) -> None:
        for region in ("us", "eu"):
            v2 = [a for a in state["regions"][region]["applications"] if a["api_version"] == 2]
            assert v2, f"no seeded v2 application in {region}"
            a = v2[0]
            setattr(self, region, V2App(region=region, base_url=self.us_url if region == "us" else self.eu_url,
                                        client_id=a["client_id"], client_secret=a["client_secret"]))

    # -- raw HTTP (for what the SDK does not wrap, and for wire-level checks) ------------------
    def raw(self, method: str, path: str, *, region: str = "us", token: str | None = None,
            authorization: str | None = None, **kwargs) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if authorization is not None:
            headers["Authorization"] = authorization
        base = self.us_url if region == "us" else self.eu_url
        return self.http.request(method, base + path, headers=headers, timeout=10, **kwargs)

    def follow_auth_url(self, url: str, redirect: str = CALLBACK) -> dict:
        """GETs a hosted-auth URL without following redirects; returns the callback's query parameters."""
        r = self.http.get(url, allow_redirects=False, timeout=10)
        assert r.status_code == 302, f"GET {url} -> {r.status_code}: {r.text}"
        location = r.headers["Location"]
        assert location.startswith(redirect + "?"), location
        return {k: v[0] for k, v in parse_qs(urlparse(location).query).items()}


def start_tls(binary: str) -> TLSSim:
    last_error = None
    for _attempt in range(3):
        us_port, eu_port = _free_port(), _free_port()
        if us_port == eu_port:
            continue
        tls_dir = tempfile.TemporaryDirectory(prefix="nylas-sim-tls-")
        ca = str(Path(tls_dir.name) / "ca.pem")
        log = tempfile.NamedTemporaryFile(prefix="nylas-sim-tls-", suffix=".log", delete=False)
        proc = subprocess.Popen(
            [binary, "serve", "--us-port", str(us_port), "--eu-port", str(eu_port), "--seed", SEED,
             "--clock", "manual", "--log-level", "warning", "--tls", "--tls-dir", tls_dir.name],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        sim = TLSSim(proc, f"https://127.0.0.1:{us_port}", f"https://127.0.0.1:{eu_port}", ca, log.name, tls_dir)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if Path(ca).exists():
                    r = requests.get(sim.us_url + "/__sim/state", timeout=1, verify=ca)
                    requests.get(sim.eu_url + "/__sim/state", timeout=1, verify=ca).raise_for_status()
                    if r.status_code == 200:
                        sim.load_apps(r.json())
                        return sim
            except requests.RequestException as exc:
                last_error = exc
            time.sleep(0.05)
        _stop(proc)
        tls_dir.cleanup()
        last_error = f"{last_error}; log:\n{Path(log.name).read_text(errors='replace')}"
    raise RuntimeError(f"nylas-sim (--tls) did not start: {last_error}")


def stop_tls(sim: TLSSim) -> None:
    _stop(sim.proc)
    sim._tls_dir.cleanup()
