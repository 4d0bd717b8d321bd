"""A bounded soak of `nylas-sim serve`: many concurrent clients, mixed reads and writes across both
regions and both API versions, then a full account of what was written.

  python soak.py --seconds 60 --clients 64

Load (all on 127.0.0.1): v3 (API key) message lists, threads, folders, drafts, grants, application;
v2 (account token, application secret) messages, drafts, /account, /a/{client_id}/accounts; writes:
mail delivered into the grants' mailboxes (POST /__sim/providers/mailboxes/.../messages), v3 and v2
drafts, redirect URIs. One webhook destination (US, `message.created`) points at a local receiver.

The server runs with a data directory and a running clock (60 virtual seconds per second, so the
per-mailbox provider rate limits roll over as in a real run). Afterwards it checks: zero 5xx and zero connection errors; zero lost writes (every delivered message,
draft and redirect URI is listed); lists consistent with the writes (exactly the written objects,
no more); every `message.created` accounted for (one delivery per US message, no stray ones); RSS
flat after warm-up (VmRSS of the server sampled from /proc). Prints requests/s, p50/p99 latency and
RSS figures; exits non-zero on any failed check.
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "ContractTests"))
from simproc import SimProcess  # noqa: E402
from receiver import Receiver  # noqa: E402

GRANTS_PER_REGION = 4
V2_ACCOUNTS_PER_REGION = 2


class World:
    """The credentials and objects the clients work with, and the record of acknowledged writes."""

    def __init__(self, sim: SimProcess):
        self.sim = sim
        self.lock = threading.Lock()
        self.base = {"us": sim.us_url, "eu": sim.eu_url}
        self.key: dict[str, str] = {}
        self.v2: dict[str, dict] = {}
        self.grants: dict[str, list[dict]] = {}
        self.accounts: dict[str, list[dict]] = {}
        # acknowledged writes
        self.mail: dict[tuple[str, str], set[str]] = defaultdict(set)  # (region, grant id) -> subjects
        self.drafts: dict[tuple[str, str], set[str]] = defaultdict(set)  # (region, grant id) -> draft ids
        self.v2_drafts: dict[tuple[str, str], set[str]] = defaultdict(set)  # (region, account id) -> ids
        self.redirects: dict[str, set[str]] = defaultdict(set)  # region -> ids

    def setup(self) -> None:
        for region in ("us", "eu"):
            self.key[region] = self.sim.apps(region, 3)[0]["api_key"]
            self.v2[region] = self.sim.apps(region, 2)[0]
            self.grants[region] = [
                self.sim.control("POST", "/__sim/grants", {"region": region, "email": f"soak{i}-{region}@gmail.com",
                                                           "provider": "google"}) for i in range(GRANTS_PER_REGION)]
            self.accounts[region] = []
            for i in range(V2_ACCOUNTS_PER_REGION):
                base, app = self.base[region], self.v2[region]
                code = requests.post(base + "/connect/authorize", timeout=10, json={
                    "client_id": app["client_id"], "name": "Soak", "email_address": f"soakv2-{i}-{region}@gmail.com",
                    "provider": "gmail", "settings": {"google_client_id": "a", "google_client_secret": "b",
                                                      "google_refresh_token": "c"}}).json()["code"]
                t = requests.post(base + "/connect/token", timeout=10, json={
                    "client_id": app["client_id"], "client_secret": app["client_secret"], "code": code}).json()
                self.accounts[region].append({"id": t["account_id"], "token": t["access_token"]})


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.statuses: Counter = Counter()
        self.by_op: Counter = Counter()
        self.server_errors: list[str] = []
        self.connection_errors: list[str] = []

    def record(self, op: str, status: int, seconds: float, detail: str = "") -> None:
        with self.lock:
            self.latencies.append(seconds)
            self.statuses[status] += 1
            self.by_op[op] += 1
            if status >= 500:
                self.server_errors.append(f"{op} -> {status}: {detail[:200]}")


def client(n: int, world: World, stats: Stats, deadline: float, seed: int, reads_from: float) -> None:
    """Mixed reads and writes until `reads_from`, then reads only (the steady phase) until `deadline`."""
    rnd = random.Random(seed * 1000 + n)
    s = requests.Session()
    i = 0
    while time.monotonic() < deadline:
        i += 1
        region = rnd.choice(("us", "eu"))
        base = world.base[region]
        key = {"Authorization": f"Bearer {world.key[region]}"}
        grant = rnd.choice(world.grants[region])
        account = rnd.choice(world.accounts[region])
        v2auth = {"Authorization": f"Bearer {account['token']}"}
        roll = rnd.random() if time.monotonic() < reads_from else 0.33 + 0.67 * rnd.random()
        op = ""
        try:
            started = time.monotonic()
            if roll < 0.15:
                op = "deliver mail"
                subject = f"soak {n}-{i}"
                r = s.post(f"{base}/__sim/providers/mailboxes/{grant['email']}/messages", timeout=30, json={
                    "from": {"name": "Load", "email": f"load{n}@example.com"}, "subject": subject, "body": f"<p>{i}</p>"})
                if r.ok:
                    with world.lock:
                        world.mail[(region, grant["id"])].add(subject)
            elif roll < 0.25:
                op = "v3 create draft"
                r = s.post(f"{base}/v3/grants/{grant['id']}/drafts", headers=key, timeout=30, json={
                    "subject": f"draft {n}-{i}", "body": "soak", "to": [{"email": "bob@example.com"}]})
                if r.ok:
                    with world.lock:
                        world.drafts[(region, grant["id"])].add(r.json()["data"]["id"])
            elif roll < 0.30:
                op = "v2 create draft"
                r = s.post(f"{base}/drafts", headers=v2auth, timeout=30, json={
                    "subject": f"v2 draft {n}-{i}", "body": "soak", "to": [{"email": "bob@example.com"}]})
                if r.ok:
                    with world.lock:
                        world.v2_drafts[(region, account["id"])].add(r.json()["id"])
            elif roll < 0.33:
                op = "create redirect uri"
                r = s.post(f"{base}/v3/applications/redirect-uris", headers=key, timeout=30,
                           json={"url": f"http://localhost:3000/soak-{n}-{i}", "platform": "web"})
                if r.ok:
                    with world.lock:
                        world.redirects[region].add(r.json()["data"]["id"])
            elif roll < 0.53:
                op = "v3 list messages"
                r = s.get(f"{base}/v3/grants/{grant['id']}/messages", headers=key, params={"limit": 10}, timeout=30)
            elif roll < 0.61:
                op = "v3 list threads"
                r = s.get(f"{base}/v3/grants/{grant['id']}/threads", headers=key, params={"limit": 5}, timeout=30)
            elif roll < 0.66:
                op = "v3 list drafts"
                r = s.get(f"{base}/v3/grants/{grant['id']}/drafts", headers=key, params={"limit": 10}, timeout=30)
            elif roll < 0.70:
                op = "v3 list folders"
                r = s.get(f"{base}/v3/grants/{grant['id']}/folders", headers=key, timeout=30)
            elif roll < 0.74:
                op = "v3 list grants"
                r = s.get(f"{base}/v3/grants", headers=key, params={"limit": 10}, timeout=30)
            elif roll < 0.77:
                op = "v3 application"
                r = s.get(f"{base}/v3/applications", headers=key, timeout=30)
            elif roll < 0.85:
                op = "v2 list messages"
                r = s.get(f"{base}/messages", headers=v2auth, params={"limit": 5}, timeout=30)
            elif roll < 0.90:
                op = "v2 account"
                r = s.get(f"{base}/account", headers=v2auth, timeout=30)
            elif roll < 0.95:
                op = "v2 list drafts"
                r = s.get(f"{base}/drafts", headers=v2auth, params={"limit": 5}, timeout=30)
            else:
                op = "v2 app accounts"
                app = world.v2[region]
                r = s.get(f"{base}/a/{app['client_id']}/accounts", auth=(app["client_secret"], ""), timeout=30)
            stats.record(op, r.status_code, time.monotonic() - started, r.text if r.status_code >= 500 else "")
            if r.status_code >= 400 and r.status_code < 500:
                with stats.lock:
                    stats.server_errors.append(f"unexpected {op} -> {r.status_code}: {r.text[:200]}")
        except requests.RequestException as exc:
            with stats.lock:
                stats.connection_errors.append(f"{op}: {exc!r}"[:300])


def rss_sampler(sim: SimProcess, samples: list[tuple[float, int]], stop: threading.Event, t0: float) -> None:
    while not stop.is_set():
        try:
            samples.append((time.monotonic() - t0, sim.rss_kib()))
        except OSError:
            return
        stop.wait(0.25)


def get(s: requests.Session, url: str, **kw) -> requests.Response:
    """GET, waiting out a provider rate limit (429 + Retry-After) the verification itself may hit."""
    for _ in range(30):
        r = s.get(url, timeout=60, **kw)
        if r.status_code != 429:
            r.raise_for_status()
            return r
        time.sleep(min(float(r.headers.get("Retry-After", "1")) / 60, 2.0))
    r.raise_for_status()
    return r


def all_pages(s: requests.Session, url: str, headers: dict, limit: int = 200) -> list[dict]:
    out, token = [], None
    while True:
        params = {"limit": limit, **({"page_token": token} if token else {})}
        r = get(s, url, headers=headers, params=params)
        body = r.json()
        out += body["data"]
        token = body.get("next_cursor")
        if not token:
            return out


def v2_all(s: requests.Session, url: str, headers: dict) -> list[dict]:
    out, offset = [], 0
    while True:
        r = get(s, url, headers=headers, params={"limit": 500, "offset": offset})
        page = r.json()
        out += page
        if len(page) < 500:
            return out
        offset += 500


def verify(world: World, receiver: Receiver, failures: list[str]) -> dict:
    s = requests.Session()
    figures = {}
    # Every delivered message is listed, and nothing else.
    for region in ("us", "eu"):
        key = {"Authorization": f"Bearer {world.key[region]}"}
        for g in world.grants[region]:
            listed = all_pages(s, f"{world.base[region]}/v3/grants/{g['id']}/messages", key)
            subjects = Counter(m["subject"] for m in listed)
            written = world.mail[(region, g["id"])]
            lost = written - set(subjects)
            extra = set(subjects) - written
            dupes = [k for k, v in subjects.items() if v > 1]
            if lost or extra or dupes:
                failures.append(f"messages of {region} {g['email']}: {len(lost)} lost, {len(extra)} unexpected, "
                                f"{len(dupes)} duplicated (e.g. {sorted(lost | extra | set(dupes))[:3]})")
            drafts = {d["id"] for d in all_pages(s, f"{world.base[region]}/v3/grants/{g['id']}/drafts", key)}
            if drafts != world.drafts[(region, g["id"])]:
                failures.append(f"drafts of {region} {g['email']}: {len(world.drafts[(region, g['id'])] - drafts)} lost, "
                                f"{len(drafts - world.drafts[(region, g['id'])])} unexpected")
        for a in world.accounts[region]:
            v2 = {d["id"] for d in v2_all(s, f"{world.base[region]}/drafts", {"Authorization": f"Bearer {a['token']}"})}
            if v2 != world.v2_drafts[(region, a["id"])]:
                failures.append(f"v2 drafts of {region} {a['id']}: {len(world.v2_drafts[(region, a['id'])] - v2)} lost, "
                                f"{len(v2 - world.v2_drafts[(region, a['id'])])} unexpected")
        r = get(s, f"{world.base[region]}/v3/applications/redirect-uris", headers=key)
        listed = {u["id"] for u in r.json()["data"]}
        lost = world.redirects[region] - listed
        if lost:
            failures.append(f"redirect URIs of {region}: {len(lost)} lost")
    # Webhooks: one message.created per message delivered to a US grant (the destination is the US app's).
    us_grants = {g["id"] for g in world.grants["us"]}
    expected = {(gid, subj) for (region, gid), subjects in world.mail.items() if region == "us" for subj in subjects}
    deadline = time.monotonic() + 60
    while True:
        got = []
        for post in receiver.posts:
            try:
                body = json.loads(post.body)
            except ValueError:
                continue
            if body.get("type") == "message.created":
                obj = body.get("data", {}).get("object", {})
                got.append((obj.get("grant_id"), obj.get("subject")))
        if len(set(got)) >= len(expected) or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    counts = Counter(got)
    missing = expected - set(got)
    stray = {k for k in counts if k not in expected or k[0] not in us_grants}
    dup = sum(v - 1 for v in counts.values() if v > 1)
    figures["webhooks"] = (len(expected), len(got), len(missing), len(stray), dup)
    if missing or stray or dup:
        failures.append(f"message.created: expected {len(expected)}, received {len(got)} ({len(missing)} missing, "
                        f"{len(stray)} stray, {dup} duplicates)")
    return figures


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=60, help="duration of the load (default 60)")
    ap.add_argument("--clients", type=int, default=64, help="concurrent clients (threads), default 64")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--steady-seconds", type=float, default=None,
                    help="reads-only phase after the mixed load (default: 25%% of --seconds, at least 3)")
    ap.add_argument("--rss-growth-mib", type=float, default=None,
                    help="allowed VmRSS growth after warm-up under the mixed load, MiB (default: 16 + 20%% of the "
                         "warm RSS: the data written grows the working set)")
    ap.add_argument("--steady-growth-mib", type=float, default=4.0,
                    help="allowed VmRSS growth during the reads-only phase, MiB (default 4): no per-request leak")
    args = ap.parse_args()

    data_dir = tempfile.mkdtemp(prefix="nylas-soak-")
    # A running clock at 60 virtual seconds per second. The 64 clients share tokens, so v2's
    # concurrency limits (5 requests of one token on /messages at once, counted in wall time) would
    # refuse some of them: this soaks the simulator, not its limits, so they are off.
    sim = SimProcess("--seed", "soak", "--clock", "running", "--clock-rate", "60", "--data-dir", data_dir,
                     "--log-level", "warning", "--no-rate-limits", workdir=data_dir + "-logs")
    receiver = Receiver()
    sim.start()
    failures: list[str] = []
    checks: dict[str, list[str]] = {"soak ran to the end": ["interrupted"]}
    try:
        world = World(sim)
        world.setup()
        hook = requests.post(sim.us_url + "/v3/webhooks", headers={"Authorization": f"Bearer {world.key['us']}"},
                             json={"trigger_types": ["message.created"], "webhook_url": receiver.url}, timeout=10)
        assert hook.ok, hook.text

        stats = Stats()
        samples: list[tuple[float, int]] = []
        stop = threading.Event()
        t0 = time.monotonic()
        sampler = threading.Thread(target=rss_sampler, args=(sim, samples, stop, t0), daemon=True)
        sampler.start()
        reads_from = t0 + args.seconds
        steady = args.steady_seconds if args.steady_seconds is not None else max(3.0, args.seconds * 0.25)
        deadline = reads_from + steady
        threads = [threading.Thread(target=client, args=(n, world, stats, deadline, args.seed, reads_from), daemon=True)
                   for n in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=args.seconds + steady + 120)
        elapsed = time.monotonic() - t0
        stop.set()
        sampler.join(timeout=5)
        figures = verify(world, receiver, failures)

        total = len(stats.latencies)
        lat = sorted(stats.latencies)
        p50 = lat[int(0.50 * (total - 1))] * 1000 if lat else 0
        p99 = lat[int(0.99 * (total - 1))] * 1000 if lat else 0
        warm_at = max(2.0, args.seconds * 0.3)
        mixed = [(t, kib) for t, kib in samples if t <= args.seconds]
        warm = [kib for t, kib in mixed if t >= warm_at][:4] or [mixed[-1][1]]
        warm_rss = statistics.median(warm) / 1024
        start_rss = samples[0][1] / 1024 if samples else 0
        end_rss = statistics.median([kib for _, kib in mixed[-4:]]) / 1024 if mixed else 0
        steady_samples = [kib for t, kib in samples if t >= args.seconds + 1]
        steady_start = statistics.median(steady_samples[:3]) / 1024 if steady_samples else end_rss
        steady_end = statistics.median(steady_samples[-3:]) / 1024 if steady_samples else end_rss
        peak_rss = max(kib for _, kib in samples) / 1024 if samples else 0
        allowed = args.rss_growth_mib if args.rss_growth_mib is not None else 16 + 0.2 * warm_rss
        writes = sum(stats.by_op[k] for k in ("deliver mail", "v3 create draft", "v2 create draft", "create redirect uri"))

        print(f"soak: {args.clients} clients, {elapsed:.1f}s ({args.seconds:.0f}s mixed + {steady:.0f}s reads only), {total} requests, {total / elapsed:.0f} requests/s "
              f"({writes} writes), p50 {p50:.1f} ms, p99 {p99:.1f} ms")
        print(f"soak: statuses {dict(sorted(stats.statuses.items()))}; by operation "
              + ", ".join(f"{k} {v}" for k, v in sorted(stats.by_op.items())))
        print(f"soak: RSS start {start_rss:.1f} MiB, after warm-up ({warm_at:.0f}s) {warm_rss:.1f} MiB, "
              f"end of mixed load {end_rss:.1f} MiB, peak {peak_rss:.1f} MiB (allowed growth {allowed:.1f} MiB); "
              f"reads-only phase ({steady:.0f}s) {steady_start:.1f} -> {steady_end:.1f} MiB "
              f"(allowed growth {args.steady_growth_mib:.1f} MiB)")
        trace = [f"{t:.0f}s {kib / 1024:.1f}" for t, kib in samples[:: max(1, len(samples) // 10)]]
        print(f"soak: RSS samples (MiB): {', '.join(trace)}")
        exp, got, missing, stray, dup = figures["webhooks"]
        print(f"soak: message.created expected {exp}, received {got} ({missing} missing, {stray} stray, {dup} duplicates)")
        checks = {
            "zero 5xx": [f"{len(stats.server_errors)} 5xx/unexpected 4xx, e.g. {stats.server_errors[:3]}"] if stats.server_errors else [],
            "zero connection errors": [f"{len(stats.connection_errors)}, e.g. {stats.connection_errors[:3]}"] if stats.connection_errors else [],
            "zero lost writes, lists consistent": [f for f in failures if not f.startswith("message.created")],
            "webhook deliveries accounted for": [f for f in failures if f.startswith("message.created")],
            "RSS flat after warm-up": ([f"grew {end_rss - warm_rss:.1f} MiB under mixed load (allowed {allowed:.1f})"]
                                       if end_rss - warm_rss > allowed else [])
                                      + ([f"grew {steady_end - steady_start:.1f} MiB with reads only "
                                          f"(allowed {args.steady_growth_mib:.1f})"]
                                         if steady_end - steady_start > args.steady_growth_mib else []),
            "server alive, load ran": ([f"exit {sim.proc.returncode}"] if sim.proc.poll() is not None else [])
                                      + (["no request completed"] if total == 0 else []),
        }
    finally:
        sim.stop()
        receiver.close()
    for name, problems in checks.items():
        print(f"soak: {'ok  ' if not problems else 'FAIL'} {name}" + (f": {'; '.join(problems)}" if problems else ""))
    failed = sum(1 for p in checks.values() if p)
    if failed:
        print(f"soak: data and logs kept in {data_dir} and {data_dir}-logs")
    else:
        shutil.rmtree(data_dir, ignore_errors=True)
        shutil.rmtree(data_dir + "-logs", ignore_errors=True)
    print(f"soak: {len(checks) - failed} passed, {failed} failed")
    # One line for the benchmark table (Benchmarks/run collects RESULT lines).
    print(f"RESULT | soak: {args.clients} clients, {args.seconds:.0f} s mixed load, both regions and versions | "
          f"{total / elapsed:.0f} req/s | zero 5xx, no lost write, RSS flat | {'MISS' if failed else 'PASS'} | "
          f"{total} requests, p50 {p50:.1f} ms, p99 {p99:.1f} ms, {len(stats.server_errors)} 5xx, "
          f"RSS {start_rss:.1f} -> peak {peak_rss:.1f} MiB, {len(checks) - failed}/{len(checks)} checks")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
