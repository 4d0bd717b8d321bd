"""Real-browser test of the dashboard (GET /__sim/ui) in headless Chromium, driven over the
Chrome DevTools protocol (websocket-client).

It starts the simulator binary (NYLAS_SIM_BIN, default .build/debug/nylas-sim) with a manual clock,
creates a grant, a webhook destination whose receiver answers 500 to every POST, and a second grant
(grant.created -> the first attempt fails). Then, in the browser, it clicks the page's "+72 hours"
button with real mouse events and waits for the page's live update to show the notification's
6 attempts and the destination as failed. It also reveals a masked API key by clicking, opens an
attempt's body and a request's response by clicking, delivers a
message with a hostile subject through the page's form, checks that no script error or CSP
violation happened, and saves a full-page screenshot as docs/dashboard.png.

Prints one line per check and closes with "browser: N passed, M failed"; exits 1 when any failed.
"""
from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import websocket  # websocket-client

ROOT = Path(__file__).resolve().parents[2]
SIM_BIN = os.environ.get("NYLAS_SIM_BIN") or str(ROOT / ".build" / "debug" / "nylas-sim")
SCREENSHOT = Path(os.environ.get("DASHBOARD_SCREENSHOT") or ROOT / "docs" / "dashboard.png")
HOSTILE = "<img src=x onerror=alert(1)>"
TOKEN = "browser-test-token"

results: list[tuple[str, bool, str]] = []


def check(name: str, ok: bool, detail: str = "") -> bool:
    results.append((name, bool(ok), detail))
    print(f"{'PASS' if ok else 'FAIL'} {name}{'' if ok else ': ' + detail}", flush=True)
    return bool(ok)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method: str, url: str, body=None, headers=None, timeout: float = 10) -> tuple[int, dict | str]:
    data = json.dumps(body).encode() if body is not None else None
    h = {"Content-Type": "application/json"} if data is not None else {}
    h.update(headers or {})
    req = urllib.request.Request(url, data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw, status = r.read(), r.status
    except urllib.error.HTTPError as e:
        raw, status = e.read(), e.code
    text = raw.decode("utf-8", "replace")
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


def wait_until(fn, timeout: float, interval: float = 0.2):
    """Calls fn until it returns something truthy; returns the last value."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(interval)
    return value


class Receiver:
    """A webhook endpoint: echoes the challenge on GET, answers 500 to every POST."""

    def __init__(self) -> None:
        self.posts: list[bytes] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args):
                pass

            def _answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                challenge = parse_qs(urlparse(self.path).query).get("challenge", [""])[0]
                self._answer(200 if challenge else 400, challenge.encode())

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                receiver.posts.append(self.rfile.read(length) if length else b"")
                self._answer(500, b"receiver is down")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Browser:
    """Headless Chromium and one page, over the DevTools protocol."""

    def __init__(self) -> None:
        exe = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
        if not exe:
            raise RuntimeError("chromium is not installed (apt-get install chromium)")
        self.profile = tempfile.mkdtemp(prefix="dash-chromium-")
        self.proc = subprocess.Popen(
            [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
             "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
             "--hide-scrollbars", "--window-size=1400,1000", "--remote-debugging-port=0",
             f"--user-data-dir={self.profile}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = Path(self.profile) / "DevToolsActivePort"
        if not wait_until(lambda: port_file.exists() and port_file.read_text().strip(), 20, 0.05):
            raise RuntimeError("chromium did not open its DevTools port")
        port = int(port_file.read_text().split()[0])
        _, targets = http("GET", f"http://127.0.0.1:{port}/json/list")
        page = next(t for t in targets if t.get("type") == "page")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=20, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict] = []
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable")

    def call(self, method: str, **params) -> dict:
        self.next_id += 1
        mid = self.next_id
        self.ws.send(json.dumps({"id": mid, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == mid:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)

    def eval(self, expression: str):
        r = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError(f"evaluate failed: {r['exceptionDetails']}")
        return r["result"].get("value")

    def open(self, url: str) -> None:
        self.call("Page.navigate", url=url)
        ok = wait_until(lambda: self.eval(f"document.readyState === 'complete' && location.href === {json.dumps(url)}"), 15)
        if not ok:
            raise RuntimeError(f"the page did not load: {url}")

    def click(self, selector: str) -> None:
        """A real mouse click (move, press, release) at the centre of the element."""
        point = self.eval(f"""(() => {{
            const el = document.querySelector({json.dumps(selector)});
            if (!el) return null;
            el.scrollIntoView({{block: 'center'}});
            const r = el.getBoundingClientRect();
            return [r.x + r.width / 2, r.y + r.height / 2];
        }})()""")
        if not point:
            raise RuntimeError(f"nothing to click at {selector}")
        x, y = point
        self.call("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)
        self.call("Input.dispatchMouseEvent", type="mousePressed", x=x, y=y, button="left", clickCount=1)
        self.call("Input.dispatchMouseEvent", type="mouseReleased", x=x, y=y, button="left", clickCount=1)

    def loaded_text(self, selector: str, timeout: float = 5) -> str | None:
        """The text of `selector` once it exists and is no longer "loading…"."""
        expr = f"(() => {{ const el = document.querySelector({json.dumps(selector)}); return el ? el.textContent : null; }})()"
        return wait_until(lambda: (lambda t: t if t and not t.startswith("loading") else None)(self.eval(expr)), timeout)

    def type_into(self, selector: str, text: str) -> None:
        """Focuses a field, clears it, and types `text` as keyboard input."""
        self.eval(f"(() => {{ const el = document.querySelector({json.dumps(selector)}); el.focus(); el.select(); }})()")
        self.call("Input.insertText", text=text)

    def problems(self) -> list[str]:
        """Script exceptions, console errors and CSP violations seen so far."""
        return _problems(self.events)

    def screenshot(self, path: Path) -> None:
        height = self.eval("Math.ceil(document.documentElement.scrollHeight)")
        self.call("Emulation.setDeviceMetricsOverride", width=1400, height=int(height), deviceScaleFactor=1, mobile=False)
        self.eval("window.scrollTo(0, 0)")
        shot = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))

    def close(self) -> None:
        try:
            self.ws.close()
        except Exception:
            pass
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.profile, ignore_errors=True)


STATE_JS = """(() => {
  const dest = document.querySelector('#webhooks [data-webhook]');
  if (!dest) return null;
  const n = [...dest.querySelectorAll('[data-notification]')].find(x => x.dataset.type === 'grant.created');
  return {
    status: dest.dataset.status,
    badge: dest.querySelector('.dest-status').textContent.trim(),
    attempts: n ? n.querySelectorAll('.tl-attempt').length : 0,
    codes: n ? [...n.querySelectorAll('.tl-attempt .tl-code')].map(e => e.textContent.trim()) : [],
    pending: n ? n.querySelectorAll('.tl-pending').length : 0,
    outcome: n ? n.dataset.outcome : null,
    clock: document.getElementById('clock-time').getAttribute('datetime'),
    marker: window.__dashboardTestMarker === 42,
  };
})()"""


def start_sim(*extra: str) -> tuple[subprocess.Popen, str]:
    us, eu = free_port(), free_port()
    base = f"http://127.0.0.1:{us}"
    log = tempfile.NamedTemporaryFile(prefix="nylas-sim-ui-", suffix=".log", delete=False)
    sim = subprocess.Popen([SIM_BIN, "serve", "--us-port", str(us), "--eu-port", str(eu), "--clock", "manual",
                            "--seed", "ui", "--log-level", "warning", *extra], stdout=log, stderr=subprocess.STDOUT)
    if not wait_until(lambda: sim.poll() is None and _alive(base, extra), 20, 0.1):
        sim.kill()
        raise RuntimeError(f"the simulator did not start; see {log.name}")
    return sim, base


def stop(proc: subprocess.Popen | None) -> None:
    if proc is None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def main() -> int:
    receiver = Receiver()
    browser = sim = None
    try:
        sim, base = start_sim()

        status, grant = http("POST", base + "/__sim/grants", {"email": "ui@gmail.com"})
        check("create the grant ui@gmail.com", status == 201, f"{status} {grant}")
        _, state = http("GET", base + "/__sim/state")
        app = next(a for a in state["regions"]["us"]["applications"] if a["api_version"] == 3)
        api_key = app["api_key"]
        status, hook = http("POST", base + "/v3/webhooks",
                            {"trigger_types": ["grant.created"], "webhook_url": receiver.url, "description": "browser test"},
                            {"Authorization": f"Bearer {api_key}"})
        check("create a webhook destination (challenge answered)", status == 200, f"{status} {hook}")
        secret = hook["data"]["webhook_secret"]
        status, _ = http("POST", base + "/__sim/grants", {"email": "second@gmail.com"})
        check("a second grant triggers grant.created, first attempt fails",
              status == 201 and wait_until(lambda: len(receiver.posts) >= 1, 10), f"{status}, {len(receiver.posts)} POSTs")
        start = http("GET", base + "/__sim/clock")[1]

        browser = Browser()
        browser.open(base + "/__sim/ui")
        html = browser.eval("document.documentElement.outerHTML")
        check("the page shows both regions and the grant's email",
              'data-region="us"' in html and 'data-region="eu"' in html and "ui@gmail.com" in html)
        check("no secret in the page (API key, client secret, webhook secret)",
              api_key not in html and app["client_secret"] not in html and secret not in html)
        before = browser.eval(STATE_JS)
        check("before: 1 failed attempt, a retry pending, destination failing",
              before and before["attempts"] == 1 and before["pending"] == 1 and before["status"] == "failing", str(before))

        # Reveal the API key with a click: fetched on demand, shown as text.
        ref = f"app:us:{app['client_id']}:api_key"
        browser.click(f'.secret[data-ref="{ref}"] button.reveal')
        shown = wait_until(lambda: browser.eval(
            f"document.querySelector('.secret[data-ref=\"{ref}\"] .secret-value').textContent") == api_key, 5)
        check("clicking reveal shows the API key", shown)

        # The 72-hour button, clicked like a person would; the page must update itself.
        browser.eval("window.__dashboardTestMarker = 42")
        browser.click('button[data-advance="72h"]')
        after = wait_until(lambda: (lambda s: s if s and s["attempts"] == 6 and s["status"] == "failed" else None)(
            browser.eval(STATE_JS)), 20)
        after = after or browser.eval(STATE_JS)
        check("after +72h the timeline shows 6 attempts", after and after["attempts"] == 6, str(after))
        check("every attempt failed with 500 and no retry is pending",
              after and after["codes"] == ["500"] * 6 and after["pending"] == 0 and after["outcome"] == "failed", str(after))
        check("the destination shows as failed", after and after["status"] == "failed" and after["badge"] == "failed", str(after))
        check("it was a live update (no reload) and the clock moved 72h",
              after and after["marker"] and _seconds(after["clock"]) - start["now_unix"] == 72 * 3600, str(after))
        check("the receiver got 6 POSTs", len(receiver.posts) == 6, f"{len(receiver.posts)} POSTs")
        _, hooks = http("GET", base + "/__sim/webhooks")
        check("the control API agrees: failed", hooks["data"][0]["status"] == "failed", str(hooks["data"][0]))

        # Bodies on click: the last attempt's notification, and the response of POST /v3/webhooks.
        browser.click('#webhooks details.attempts > summary')
        browser.click('#webhooks tr[data-attempt="6"] details.body > summary')
        body = browser.loaded_text('#webhooks tr[data-attempt="6"] details.body[open] pre[data-field=body]')
        check("clicking an attempt shows its body", body and '"webhook_delivery_attempt": 6' in body and "second@gmail.com" in body,
              repr(body)[:300])
        browser.click('#journal details.entry > summary')
        response = browser.loaded_text('#journal details.entry[open] pre[data-field=response_body]')
        check("clicking a request shows its response, the secret masked",
              response and hook["data"]["id"] in response and '"webhook_secret": "\u2022' in response and secret not in response,
              repr(response)[:300])

        # Deliver a message through the page's form; its hostile subject must show as text.
        browser.type_into('#deliver-form [name=mailbox]', "ui@gmail.com")
        browser.type_into('#deliver-form [name=subject]', HOSTILE)
        browser.type_into('#deliver-form [name=body]', "Sent from the dashboard")
        browser.click('#deliver-form button[type=submit]')
        subject = wait_until(lambda: browser.eval(
            "(() => { const s = document.querySelector('[data-mailbox=\"ui@gmail.com\"] .subject'); return s && s.textContent; })()"), 10)
        check("the form delivers a message, shown live as text",
              subject == HOSTILE and browser.eval("document.querySelectorAll('#mailboxes img').length") == 0, repr(subject))

        problems = browser.problems()
        check("no script error or CSP violation in the browser", not problems, "; ".join(problems))

        browser.screenshot(SCREENSHOT)
        check(f"screenshot saved to {SCREENSHOT.relative_to(ROOT) if SCREENSHOT.is_relative_to(ROOT) else SCREENSHOT}",
              SCREENSHOT.exists() and SCREENSHOT.stat().st_size > 10_000)
        stop(sim)
        sim = None

        # With --control-token: the page takes ?token=, its script sends the header.
        sim, base = start_sim("--control-token", TOKEN)
        check("with a control token, the page without it is refused", http("GET", base + "/__sim/ui")[0] == 401)
        browser.call("Emulation.clearDeviceMetricsOverride")
        seen = len(browser.events)
        browser.open(base + f"/__sim/ui?token={TOKEN}")
        start = browser.eval("document.getElementById('clock-time').getAttribute('datetime')")
        browser.click('button[data-advance="10m"]')
        moved = wait_until(lambda: browser.eval(
            "document.getElementById('clock-time').getAttribute('datetime')") != start, 10)
        message = browser.eval("document.getElementById('clock-message').textContent")
        now = browser.eval("document.getElementById('clock-time').getAttribute('datetime')")
        check("with ?token= the buttons and the live updates work",
              moved and _seconds(now) - _seconds(start) == 600 and message.startswith("advanced 10m"),
              f"clock {start} -> {now}, {message!r}")
        live = browser.eval("document.getElementById('live-status').textContent")
        check("the live status shows no error", live.startswith("live"), repr(live))
        problems = _problems(browser.events[seen:])
        check("no script error with the token", not problems, "; ".join(problems))
    except Exception as e:  # a broken step fails the run with its reason
        traceback.print_exc()
        check("the browser test ran to the end", False, f"{type(e).__name__}: {e}")
    finally:
        if browser:
            browser.close()
        receiver.close()
        stop(sim)

    passed = sum(1 for _, ok, _ in results if ok)
    failed = len(results) - passed
    print(f"browser: {passed} passed, {failed} failed")
    return 0 if failed == 0 and passed > 0 else 1


def _alive(base: str, extra=()) -> bool:
    headers = {"X-Sim-Control-Token": TOKEN} if "--control-token" in extra else {}
    try:
        return http("GET", base + "/__sim/clock", headers=headers, timeout=1)[0] == 200
    except OSError:
        return False


def _problems(events: list[dict]) -> list[str]:
    out = []
    for e in events:
        method, p = e.get("method"), e.get("params", {})
        if method == "Runtime.exceptionThrown":
            out.append("exception: " + json.dumps(p.get("exceptionDetails", {}))[:300])
        elif method == "Runtime.consoleAPICalled" and p.get("type") == "error":
            out.append("console.error: " + json.dumps(p.get("args", []))[:300])
        elif method == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            out.append("log: " + p["entry"].get("text", "")[:300])
    return out


def _seconds(iso: str) -> int:
    from datetime import datetime
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp())


if __name__ == "__main__":
    sys.exit(main())
