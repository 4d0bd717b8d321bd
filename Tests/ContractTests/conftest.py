"""Contract tests: the unmodified official Python SDK (nylas==6.18.0) against a standalone simulator.

The session fixture starts the binary named by NYLAS_SIM_BIN (default: the debug build) on two free
loopback ports (US and EU) with a manual clock, and stops it at the end. Every test gets a freshly
reset simulator through the `reset` fixture (requested by the fixtures below), so tests are independent.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from nylas import Client

# Every v3 response the tests receive is validated against the official OpenAPI description.
pytest_plugins = ["openapi_check"]

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BIN = REPO_ROOT / ".build" / "debug" / "nylas-sim"
CALLBACK = "http://localhost:3000/callback"
SEED = "contract-tests"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class App:
    """One seeded v3 application of a region."""

    region: str
    base_url: str
    application_id: str
    client_id: str
    client_secret: str
    api_key: str

    def client(self, api_key: str | None = None) -> Client:
        return Client(api_key=api_key or self.api_key, api_uri=self.base_url)


class Sim:
    """A running simulator: base URLs, control helpers and the seeded v3 applications."""

    def __init__(self, proc: subprocess.Popen, us_url: str, eu_url: str, log_path: str):
        self.proc = proc
        self.us_url = us_url
        self.eu_url = eu_url
        self.log_path = log_path
        self.http = requests.Session()
        self.us: App | None = None
        self.eu: App | None = None

    # -- control API -------------------------------------------------------------------------
    def control(self, method: str, path: str, json=None) -> dict:
        r = self.http.request(method, self.us_url + path, json=json, timeout=10)
        assert r.status_code < 300, f"control {method} {path} -> {r.status_code}: {r.text}"
        return r.json()

    def state(self) -> dict:
        return self.control("GET", "/__sim/state")

    def reset(self) -> None:
        self.load_apps(self.control("POST", "/__sim/reset"))

    def advance(self, duration: str) -> dict:
        return self.control("POST", "/__sim/clock", {"advance": duration})

    def now(self) -> int:
        return self.control("GET", "/__sim/clock")["now_unix"]

    def create_grant(self, email: str, provider: str, region: str = "us") -> dict:
        return self.control("POST", "/__sim/grants", {"region": region, "email": email, "provider": provider})

    def journal(self, method: str, path: str, region: str = "us") -> list[dict]:
        """The request journal entries of one method and path prefix, oldest first."""
        r = self.http.get(self.us_url + "/__sim/requests", timeout=10,
                          params={"region": region, "method": method, "path": path})
        assert r.status_code == 200, r.text
        return r.json()["data"]

    def last_status(self, method: str, path: str, region: str = "us") -> int:
        entries = self.journal(method, path, region)
        assert entries, f"no {method} {path} in the journal"
        return entries[-1]["status"]

    def consent(self, mode: str) -> None:
        self.control("POST", "/__sim/oauth/consent", {"mode": mode})

    def load_apps(self, state: dict) -> None:
        for region in ("us", "eu"):
            v3 = [a for a in state["regions"][region]["applications"] if a["api_version"] == 3]
            assert v3, f"no seeded v3 application in {region}"
            a = v3[0]
            app = App(region=region, base_url=self.us_url if region == "us" else self.eu_url,
                      application_id=a["application_id"], client_id=a["client_id"],
                      client_secret=a["client_secret"], api_key=a["api_key"])
            setattr(self, region, app)

    # -- hosted OAuth ------------------------------------------------------------------------
    def follow_auth_url(self, url: str) -> dict:
        """GETs a hosted-auth URL (no redirects followed); returns the callback's query parameters."""
        r = self.http.get(url, allow_redirects=False, timeout=10)
        assert r.status_code == 302, f"GET {url} -> {r.status_code}: {r.text}"
        location = r.headers["Location"]
        assert location.startswith(CALLBACK + "?"), location
        return {k: v[0] for k, v in parse_qs(urlparse(location).query).items()}


def _start(binary: str) -> Sim:
    last_error = None
    for _attempt in range(3):
        us_port, eu_port = _free_port(), _free_port()
        if us_port == eu_port:
            continue
        log = tempfile.NamedTemporaryFile(prefix="nylas-sim-", suffix=".log", delete=False)
        proc = subprocess.Popen(
            [binary, "serve", "--us-port", str(us_port), "--eu-port", str(eu_port), "--seed", SEED,
             "--clock", "manual", "--log-level", "warning",
             # The fixtures the suite loads by path live in the repository, not under the working directory.
             "--file-root", str(REPO_ROOT)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        sim = Sim(proc, f"http://127.0.0.1:{us_port}", f"http://127.0.0.1:{eu_port}", log.name)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                r = requests.get(sim.us_url + "/__sim/state", timeout=1)
                requests.get(sim.eu_url + "/__sim/state", timeout=1).raise_for_status()
                if r.status_code == 200:
                    sim.load_apps(r.json())
                    return sim
            except requests.RequestException as exc:
                last_error = exc
            time.sleep(0.05)
        _stop(proc)
        last_error = f"{last_error}; log:\n{Path(log.name).read_text(errors='replace')}"
    raise RuntimeError(f"nylas-sim did not start: {last_error}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


@pytest.fixture(scope="session")
def sim():
    binary = os.environ.get("NYLAS_SIM_BIN", str(DEFAULT_BIN))
    if not os.access(binary, os.X_OK):
        pytest.exit(f"simulator binary not found: {binary} (run `swift build` or set NYLAS_SIM_BIN)", returncode=2)
    s = _start(binary)
    try:
        yield s
    finally:
        _stop(s.proc)


@pytest.fixture
def reset(sim):
    """A freshly reset simulator (empty grants, re-seeded applications, clock rewound, consent approve)."""
    sim.reset()
    return sim


@pytest.fixture
def us(reset) -> App:
    return reset.us


@pytest.fixture
def eu(reset) -> App:
    return reset.eu


@pytest.fixture
def nylas(us) -> Client:
    """SDK client of the US application, authenticated with its API key."""
    return us.client()
