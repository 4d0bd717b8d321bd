#!/usr/bin/env python3
"""Reliability benchmarks against a release `nylas-sim serve` (Benchmarks/run calls them).

  reliability.py memory --binary nylas-sim [--requests 300000] [--rounds 288]
  reliability.py stall  --binary nylas-sim [--repeats 5]

memory: RSS of the server (VmRSS) while it answers a long run of API requests (reads, writes and
404s, every one journaled), then while webhook attempts to a receiver that went away fail and are
retried over five virtual days. Both should stay flat: the request journal and the delivery journal
are bounded by bytes, not counts.

stall: latency of GETs from another client, one due every 5 ms and timed from when it was due,
while the largest requests the simulator accepts are processed (a multipart send of 100
attachments and 24 MiB to 500 recipients; a 24 MiB JSON send).

Each figure is printed as a `RESULT | name | value unit | target | PASS/MISS/info | detail` line.
Standard library only; everything on 127.0.0.1.
"""
import argparse
import base64
import http.client
import http.server
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import threading
import time


def result(name, value, unit, target, ok, detail):
    print(f"RESULT | {name} | {value} {unit} | {target} | {ok} | {detail}", flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A `nylas-sim serve` child with its two ports."""

    def __init__(self, binary, seed):
        self.us, self.eu = free_port(), free_port()
        self.proc = subprocess.Popen(
            [binary, "serve", "--us-port", str(self.us), "--eu-port", str(self.eu), "--seed", seed,
             "--log-level", "warning", "--no-rate-limits"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if self.call("GET", "/__sim/clock")[0] == 200:
                    return
            except OSError:
                time.sleep(0.05)
        raise SystemExit("nylas-sim serve did not start")

    def rss_mib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return float("nan")

    def call(self, method, path, body=None, headers=None, conn=None):
        c = conn or http.client.HTTPConnection("127.0.0.1", self.us, timeout=120)
        h = dict(headers or {})
        data = None
        if body is not None:
            data = body if isinstance(body, (bytes, bytearray)) else json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        raw = r.read()
        if conn is None:
            c.close()
        try:
            return r.status, json.loads(raw) if raw else None
        except ValueError:
            return r.status, raw

    def api_key(self):
        _, state = self.call("GET", "/__sim/state")
        return next(a["api_key"] for a in state["regions"]["us"]["applications"] if a.get("api_key"))

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def imap_message(server, mailbox):
    """The API key's auth header, and an IMAP grant (no provider rate limit in the way) with one
    message: (key, auth, grant ID, the message's path)."""
    key = server.api_key()
    status, grant = server.call("POST", "/__sim/grants", {"email": mailbox, "provider": "imap"})
    assert status == 201, grant
    server.call("POST", f"/__sim/providers/mailboxes/{mailbox}/messages",
                {"from": [{"email": "sender@example.com"}], "subject": "benchmark", "body": "<p>hello</p>"})
    server.call("POST", "/__sim/clock", {"advance": "11m"})
    _, listed = server.call("GET", f"/v3/grants/{grant['id']}/messages?limit=1", headers={"Authorization": f"Bearer {key}"})
    return key, {"Authorization": f"Bearer {key}"}, grant["id"], f"/v3/grants/{grant['id']}/messages/{listed['data'][0]['id']}"


def memory(args):
    server = Server(args.binary, "memory-bench")
    try:
        key, auth, grant, path = imap_message(server, "memory.bench@imap.example.net")
        requests = [("GET", path, None), ("PUT", path, {"unread": True}), ("GET", path, None),
                    ("GET", f"/v3/grants/{grant}/messages?limit=5", None), ("PUT", path, {"unread": False}),
                    ("GET", path, None), ("GET", f"/v3/grants/{grant}/messages/no-such-message", None),
                    ("GET", "/v3/grants/no-such-grant/messages", None), ("GET", path, None), ("GET", path, None)]
        threads_n, batch = 4, args.requests // 6
        samples = [(0, server.rss_mib())]
        errors = []

        def client(n):
            conn = http.client.HTTPConnection("127.0.0.1", server.us, timeout=60)
            for i in range(n):
                method, p, body = requests[i % len(requests)]
                status, _ = server.call(method, p, body, auth, conn)
                if status >= 500 or status == 429:  # a refused request would measure nothing
                    errors.append(status)
            conn.close()

        done = 0
        started = time.time()
        while done < args.requests:
            n = min(batch, args.requests - done)
            workers = [threading.Thread(target=client, args=(n // threads_n,)) for _ in range(threads_n)]
            for w in workers:
                w.start()
            for w in workers:
                w.join()
            done += n // threads_n * threads_n
            samples.append((done, server.rss_mib()))
            print(f"memory: {done} requests, RSS {samples[-1][1]:.1f} MiB", flush=True)
        elapsed = time.time() - started
        first_full = next(rss for n, rss in samples if n >= args.requests // 3)
        growth = samples[-1][1] - first_full
        result("memory: RSS after API requests", f"{samples[-1][1]:.1f}", "MiB", "<= 256 MiB",
               "PASS" if samples[-1][1] <= 256 and not errors else "MISS",
               f"{done} requests ({done / elapsed:.0f}/s, 4 clients, reads, writes, 404s), idle {samples[0][1]:.1f} MiB, "
               f"samples {' '.join(f'{r:.0f}' for _, r in samples)} MiB, 5xx or 429 {len(errors)}")
        result("memory: RSS growth over the last two thirds of the requests", f"{growth:+.1f}", "MiB", "<= 16 MiB",
               "PASS" if growth <= 16 else "MISS", f"from {first_full:.1f} MiB at {args.requests // 3} requests")

        # Webhook attempts that all fail: a receiver answers the challenges, then goes away. The
        # notifications are message.updated of the one message (PUT unread back and forth), so that
        # nothing but the retries and their journal can grow; destinations are set active again each
        # virtual day (else they turn failed after 72 hours and nothing more is sent).
        class Challenge(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                from urllib.parse import urlparse, parse_qs
                c = parse_qs(urlparse(self.path).query).get("challenge", [""])[0].encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(c)))
                self.end_headers()
                self.wfile.write(c)

            def log_message(self, *a):
                pass

        receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Challenge)
        threading.Thread(target=receiver.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
        hooks = []
        for i in range(args.destinations):
            status, created = server.call("POST", "/v3/webhooks", {"trigger_types": ["message.updated"], "webhook_url": f"{url}{i}"}, auth)
            assert status == 200, created
            hooks.append(created["data"]["id"])
        receiver.shutdown()
        receiver.server_close()  # from now on every attempt is refused
        rss = [(0, server.rss_mib())]
        last_seq, attempts = 0, 0
        started = time.time()
        rounds_per_day = 24 * 6
        for r in range(args.rounds):
            for g in range(args.events_per_round):
                status, _ = server.call("PUT", path, {"unread": (r + g) % 2 == 0}, auth)
                assert status == 200, status
            status, _ = server.call("POST", "/__sim/clock", {"advance": "10m"})
            assert status == 200
            if (r + 1) % rounds_per_day == 0:
                for hook in hooks:
                    server.call("PUT", f"/v3/webhooks/{hook}", {"status": "active"}, auth)
            _, d = server.call("GET", f"/__sim/webhooks/deliveries?bodies=false&after={last_seq}")
            if d["data"]:
                attempts += len(d["data"])
                last_seq = max(x["seq"] for x in d["data"])
            if (r + 1) % (rounds_per_day // 2) == 0:
                rss.append(((r + 1) / 6, server.rss_mib()))
                print(f"memory: {(r + 1) / 6:.0f} virtual hours, {attempts} failed attempts, RSS {rss[-1][1]:.1f} MiB", flush=True)
        elapsed = time.time() - started
        hours = args.rounds / 6
        # Retry chains last 72 hours: after that as many end as begin, and RSS should hold.
        steady = next((m for h, m in rss if h >= 72), rss[len(rss) // 2][1])
        result("memory: RSS after failing webhook retries", f"{rss[-1][1]:.1f}", "MiB", "<= 384 MiB",
               "PASS" if rss[-1][1] <= 384 else "MISS",
               f"{attempts} failed attempts to {args.destinations} destinations over {hours:.0f} virtual hours "
               f"({elapsed:.0f} s), RSS every 12 h {' '.join(f'{x:.0f}' for _, x in rss)} MiB")
        result("memory: RSS growth after 72 virtual hours of retries", f"{rss[-1][1] - steady:+.1f}", "MiB", "<= 16 MiB",
               "PASS" if rss[-1][1] - steady <= 16 else "MISS",
               f"from {steady:.1f} MiB at 72 h to {hours:.0f} h: retry chains last 72 h, then as many end as begin")
    finally:
        server.stop()


def timed_gets(port, path, auth, seconds, out, stop=None, interval=0.005):
    """One GET every 5 ms, its latency measured from when it was due: a GET that could not start
    because the one before it was held counts its wait too (no coordinated omission). Run in a
    process of its own, so that the sending client's work never delays it."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    start = time.perf_counter()
    end = start + seconds
    k = 0
    while time.perf_counter() < end and not (stop is not None and stop.is_set()):
        due = start + k * interval
        k += 1
        now = time.perf_counter()
        if now < due:
            time.sleep(due - now)
        conn.request("GET", path, headers=auth)
        r = conn.getresponse()
        r.read()
        out.append(((time.perf_counter() - due) * 1000, r.status))
    conn.close()


def gets_process(port, path, auth, stop, results):
    out = []
    timed_gets(port, path, auth, 600, out, stop)
    results.put(out)


def stall(args):
    server = Server(args.binary, "stall-bench")
    try:
        key, auth, _, path = imap_message(server, "stall.bench@imap.example.net")
        status, sender = server.call("POST", "/__sim/grants", {"email": "stall.sender@gmail.com", "provider": "google"})
        send_path = f"/v3/grants/{sender['id']}/messages/send"
        recipients = {"to": [{"email": f"to{i}@example.com"} for i in range(300)],
                      "cc": [{"email": f"cc{i}@example.com"} for i in range(150)],
                      "bcc": [{"email": f"bcc{i}@example.com"} for i in range(50)]}
        metadata = {f"k{i}": "v" * 500 for i in range(50)}
        # 1. multipart: the message and 100 attachments, 24 MiB in all.
        boundary = "stallBoundary"
        message = dict(recipients, subject="largest multipart", body="<p>big</p>", metadata=metadata)
        parts = [f"--{boundary}\r\nContent-Disposition: form-data; name=\"message\"\r\nContent-Type: application/json\r\n\r\n".encode()
                 + json.dumps(message).encode() + b"\r\n"]
        chunk = os.urandom(240 * 1024)
        for i in range(100):
            parts.append(f"--{boundary}\r\nContent-Disposition: form-data; name=\"file{i}\"; filename=\"f{i}.bin\"\r\n"
                         f"Content-Type: application/octet-stream\r\n\r\n".encode() + chunk + b"\r\n")
        multipart = b"".join(parts) + f"--{boundary}--\r\n".encode()
        # 2. JSON: a 24 MiB HTML body (JSON attachments stop at 3 MB).
        big_json = json.dumps(dict(recipients, subject="largest JSON", metadata=metadata,
                                   body="<p>" + "x" * (24 * 1024 * 1024 - 400_000) + "</p>")).encode()
        loads = [("multipart send, 100 attachments, 500 recipients", multipart,
                  {"Content-Type": f"multipart/form-data; boundary={boundary}"}),
                 ("JSON send, 24 MiB body, 500 recipients", big_json, {"Content-Type": "application/json"})]

        def p(values, q):
            s = sorted(values)
            return s[min(len(s) - 1, int(len(s) * q))] if s else float("nan")

        base = []
        timed_gets(server.us, path, auth, 3, base)
        base_ms = [ms for ms, _ in base]
        result("stall: GET p99 without load", f"{p(base_ms, 0.99):.2f}", "ms", "-", "info",
               f"{len(base)} GETs, p50 {p(base_ms, 0.5):.2f} ms, max {max(base_ms):.2f} ms")
        for name, body, headers in loads:
            stop, results = multiprocessing.Event(), multiprocessing.Queue()
            reader = multiprocessing.Process(target=gets_process, args=(server.us, path, auth, stop, results))
            sizes, durations = len(body), []
            reader.start()
            time.sleep(0.5)
            for _ in range(args.repeats):
                conn = http.client.HTTPConnection("127.0.0.1", server.us, timeout=300)
                t = time.perf_counter()
                conn.request("POST", send_path, body=body, headers=dict(headers, **{"Authorization": f"Bearer {key}"}))
                r = conn.getresponse()
                answer = r.read()  # not parsed: the client's own work stays out of the figure
                durations.append(time.perf_counter() - t)
                conn.close()
                assert r.status in (200, 202), (r.status, answer[:300])
            time.sleep(0.2)
            stop.set()
            lat = results.get()
            reader.join()
            ms = [m for m, _ in lat]
            bad = sum(1 for _, s in lat if s != 200)
            worst = p(ms, 0.99)
            result(f"stall: GET p99 during {name}", f"{worst:.2f}", "ms", "<= 50 ms", "PASS" if worst <= 50 else "MISS",
                   f"{len(lat)} GETs beside {args.repeats} sends of {sizes / 1048576:.1f} MiB "
                   f"(each {sum(durations) / len(durations) * 1000:.0f} ms), p50 {p(ms, 0.5):.2f} ms, max {max(ms):.2f} ms, non-200 {bad}")
    finally:
        server.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["memory", "stall"])
    ap.add_argument("--binary", required=True)
    ap.add_argument("--requests", type=int, default=300_000)
    ap.add_argument("--destinations", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=720, help="10-minute rounds of failing retries (720: 120 virtual hours)")
    ap.add_argument("--events-per-round", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    {"memory": memory, "stall": stall}[args.what](args)


if __name__ == "__main__":
    main()
