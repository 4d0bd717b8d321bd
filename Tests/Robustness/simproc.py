"""Runs `nylas-sim serve` as a child process for the robustness, fuzz and safety tests.

The listeners take free ports (`--us-port 0 --eu-port 0`); their URLs are read back from the start-up
banner. stdout and stderr go to two files, kept for inspection (log greps, failure reports).
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
BANNER_URL = re.compile(r"^(US|EU) region\s+(https?://\S+)", re.M)


def binary() -> str:
    path = os.environ.get("NYLAS_SIM_BIN", str(REPO_ROOT / ".build" / "debug" / "nylas-sim"))
    if not os.access(path, os.X_OK):
        raise SystemExit(f"simulator binary not found: {path} (run `swift build` or set NYLAS_SIM_BIN)")
    return path


class SimProcess:
    """One running server. `args` are extra `serve` flags."""

    def __init__(self, *args: str, workdir: str | None = None, control_token: str | None = None):
        self.args = list(args)
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="nylas-sim-proc-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.control_token = control_token
        self.proc: subprocess.Popen | None = None
        self.us_url = self.eu_url = ""
        self.starts = 0
        self.stdout_path = self.stderr_path = None

    # -- life cycle ----------------------------------------------------------------------------
    def start(self, timeout: float = 30) -> "SimProcess":
        self.starts += 1
        self.stdout_path = self.workdir / f"stdout-{self.starts}.log"
        self.stderr_path = self.workdir / f"stderr-{self.starts}.log"
        cmd = [binary(), "serve", "--us-port", "0", "--eu-port", "0", *self.args]
        if self.control_token and "--control-token" not in self.args:
            cmd += ["--control-token", self.control_token]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=open(self.stdout_path, "wb"),
                                     stderr=open(self.stderr_path, "wb"))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nylas-sim exited with {self.proc.returncode}:\n{self.output()}")
            urls = dict(BANNER_URL.findall(self.stdout_path.read_text(errors="replace")))
            if "US" in urls and "EU" in urls:
                self.us_url, self.eu_url = urls["US"], urls["EU"]
                try:
                    if requests.get(self.us_url + "/__sim/clock", headers=self.control_headers(), timeout=2).ok:
                        return self
                except requests.RequestException:
                    pass
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"nylas-sim did not start in {timeout}s:\n{self.output()}")

    def stop(self, timeout: float = 10) -> int:
        """SIGTERM (a clean shutdown), then SIGKILL if it lingers; returns the exit status."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(timeout=10)

    def kill(self) -> None:
        """SIGKILL: no chance to flush or close anything."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    @property
    def pid(self) -> int:
        return self.proc.pid if self.proc else -1

    def output(self) -> str:
        out = self.stdout_path.read_text(errors="replace") if self.stdout_path and self.stdout_path.exists() else ""
        err = self.stderr_path.read_text(errors="replace") if self.stderr_path and self.stderr_path.exists() else ""
        return f"--- stdout ---\n{out[-4000:]}\n--- stderr ---\n{err[-4000:]}"

    # -- helpers -------------------------------------------------------------------------------
    def control_headers(self) -> dict:
        return {"X-Sim-Control-Token": self.control_token} if self.control_token else {}

    def control(self, method: str, path: str, json=None, region: str = "us", **kw) -> dict:
        url = (self.us_url if region == "us" else self.eu_url) + path
        r = requests.request(method, url, json=json, headers=self.control_headers(), timeout=30, **kw)
        if r.status_code >= 300:
            raise RuntimeError(f"control {method} {path} -> {r.status_code}: {r.text[:500]}")
        return r.json()

    def state(self) -> dict:
        return self.control("GET", "/__sim/state")

    def apps(self, region: str, version: int) -> list[dict]:
        return [a for a in self.state()["regions"][region]["applications"] if a["api_version"] == version]

    def rss_kib(self) -> int:
        """VmRSS of the server process, in KiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0
