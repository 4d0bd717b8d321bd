"""The drift commands as a user runs them: `nylas-sim proxy` in front of an upstream that streams its
answer in chunks (as real servers do for long lists and downloads), `nylas-sim drift` on the
recording with its exit status and formats, and `--help` of each command."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import urllib.error
import urllib.request

import pytest

BIN = os.environ.get("NYLAS_SIM_BIN", str(Path(__file__).resolve().parents[2] / ".build" / "debug" / "nylas-sim"))
CHUNKS = [b'{"request_id":"r1","data":[', b'{"id":"g1","email":"zoe@gmail.com","provider":"google",',
          b'"grant_status":"valid","created_at":1,"updated_at":1,"scope":[],"settings":{}}', b'],"next_cursor":null}']


class Upstream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):
        if self.path.split("?")[0] == "/v3/grants":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for chunk in CHUNKS:  # streamed: one chunk at a time, with pauses
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
                time.sleep(0.05)
            self.wfile.write(b"0\r\n\r\n")
        else:
            body = b'{"request_id":"r2","error":{"type":"not_found_error","message":"nope"}}'
            self.send_response(404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)


def fetch(url: str, headers: dict) -> tuple[int, bytes]:
    """A GET with urllib: this upstream is not Nylas, so the suite's OpenAPI check (on requests) stays out."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def upstream():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_help_of_each_command():
    for command in ("proxy", "drift"):
        out = subprocess.run([BIN, command, "--help"], capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stderr
        assert "USAGE" in out.stdout.upper()
    assert "--upstream" in subprocess.run([BIN, "proxy", "--help"], capture_output=True, text=True).stdout
    assert "--emit-fixture" in subprocess.run([BIN, "drift", "--help"], capture_output=True, text=True).stdout


def test_proxy_passes_a_streamed_answer_and_drift_reports(upstream, tmp_path):
    record = tmp_path / "session.jsonl"
    port = free_port()
    proxy = subprocess.Popen([BIN, "proxy", "--upstream", upstream, "--record", str(record), "--port", str(port)],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        auth = {"Authorization": "Bearer nyk_v0_secretkey"}
        assert fetch(f"http://127.0.0.1:{port}/v3/grants", auth) == (200, b"".join(CHUNKS))
        assert fetch(f"http://127.0.0.1:{port}/v3/grants/g1/nothing", auth)[0] == 404
    finally:
        proxy.terminate()
        proxy.wait(timeout=10)
    text = record.read_text()
    assert "nyk_v0_secretkey" not in text and "Bearer <api-key>" in text
    lines = [json.loads(line) for line in text.splitlines()]
    assert [e["status"] for e in lines] == [200, 404]
    assert lines[0]["response_body"]["data"][0]["email"] == "zoe@gmail.com"

    # The simulator lists grants with more fields than this upstream: drift, exit status 1.
    out = subprocess.run([BIN, "drift", str(record)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "DRIFT\tGET /v3/grants" in out.stdout and "extra_key data[]." in out.stdout
    report = subprocess.run([BIN, "drift", str(record), "--format", "json"], capture_output=True, text=True, timeout=60)
    parsed = json.loads(report.stdout)
    assert parsed["replayed"] == 2 and parsed["unallowed"] == parsed["differences"] > 0
    junit = tmp_path / "drift.xml"
    subprocess.run([BIN, "drift", str(record), "--format", "junit", "--output", str(junit)], capture_output=True, timeout=60)
    assert "<testsuite name=\"nylas-sim drift\"" in junit.read_text()
    allow = tmp_path / "allow.json"
    allow.write_text(json.dumps([{"operation": "GET /v3/grants", "kind": "extra_key", "reason": "the simulator shows more"},
                                 {"operation": "GET /v3/grants", "kind": "pagination"}]))
    allowed = subprocess.run([BIN, "drift", str(record), "--allow", str(allow)], capture_output=True, text=True, timeout=60)
    assert allowed.returncode == 0, allowed.stdout
