"""Durability: every write the server acknowledged survives a SIGKILL, and the databases stay sound.

`serve --data-dir DIR --clock manual`; eight writer threads create redirect URIs, connector credentials
(v3, API key) and grants (`POST /__sim/grants`) in both regions, recording each 2xx; the server is
killed with SIGKILL in the middle of the load, restarted on the same directory, and every acknowledged
write must be there. Each `*.sqlite` must pass `PRAGMA integrity_check`, both the image the kill left
(checked on a copy, before the restart) and the files after a clean shutdown.
"""
from __future__ import annotations

import shutil
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from simproc import SimProcess  # noqa: E402

WRITERS = 8
LOAD_SECONDS = 2.0


def integrity(path: Path) -> str:
    con = sqlite3.connect(str(path))
    try:
        return ";".join(row[0] for row in con.execute("PRAGMA integrity_check"))
    finally:
        con.close()


def crash_image_integrity(data_dir: Path) -> dict[str, str]:
    """integrity_check of a copy of what the kill left (database, WAL and shared memory files)."""
    copy_dir = Path(tempfile.mkdtemp(prefix="nylas-crash-image-"))
    try:
        for f in data_dir.iterdir():
            if f.is_file() and ".sqlite" in f.name:
                shutil.copy2(f, copy_dir / f.name)
        return {db.name: integrity(db) for db in sorted(copy_dir.glob("*.sqlite"))}
    finally:
        shutil.rmtree(copy_dir, ignore_errors=True)


class Writer(threading.Thread):
    """Creates objects in a loop until stopped; keeps what was acknowledged."""

    def __init__(self, n: int, sim: SimProcess, keys: dict[str, str], stop: threading.Event):
        super().__init__(name=f"writer-{n}", daemon=True)
        self.n, self.sim, self.keys, self.stop_event = n, sim, keys, stop
        self.region = "us" if n % 2 == 0 else "eu"
        self.acked: dict[str, list[str]] = {"redirect_uri": [], "credential": [], "grant": []}
        self.errors: list[str] = []
        self.unacked = 0

    def run(self) -> None:
        base = self.sim.us_url if self.region == "us" else self.sim.eu_url
        key = {"Authorization": f"Bearer {self.keys[self.region]}"}
        session = requests.Session()
        i = 0
        while not self.stop_event.is_set():
            i += 1
            kind = ("redirect_uri", "credential", "grant")[i % 3]
            try:
                if kind == "redirect_uri":
                    r = session.post(base + "/v3/applications/redirect-uris", headers=key, timeout=10,
                                     json={"url": f"http://localhost:3000/d{self.n}-{i}", "platform": "web"})
                elif kind == "credential":
                    r = session.post(base + "/v3/connectors/google/creds", headers=key, timeout=10, json={
                        "name": f"cred-{self.n}-{i}", "credential_type": "connector",
                        "credential_data": {"client_id": f"c{i}", "client_secret": f"s{i}"}})
                else:
                    r = session.post(base + "/__sim/grants", timeout=10,
                                     json={"region": self.region, "email": f"d{self.n}-{i}@gmail.com", "provider": "google"})
            except requests.RequestException:
                self.unacked += 1  # in flight when the server died: may or may not be there
                continue
            if 200 <= r.status_code < 300:
                body = r.json()
                self.acked[kind].append((body.get("data") or body)["id"])
            else:
                self.errors.append(f"{kind} -> {r.status_code}: {r.text[:200]}")


def paged(session: requests.Session, url: str, headers: dict) -> list[dict]:
    out, offset = [], 0
    while True:
        r = session.get(url, headers=headers, params={"limit": 200, "offset": offset}, timeout=30)
        assert r.status_code == 200, f"{url} -> {r.status_code}: {r.text[:300]}"
        page = r.json()["data"]
        out += page
        if len(page) < 200:
            return out
        offset += 200


def test_acknowledged_writes_survive_sigkill(tmp_path):
    data_dir = tmp_path / "data"
    # Eight writers at one instant of a manual clock are far over Nylas's 50 admin requests a
    # second per application: the limits are turned off, as this tests durability, not them.
    sim = SimProcess("--data-dir", str(data_dir), "--clock", "manual", "--log-level", "warning", "--no-rate-limits",
                     workdir=str(tmp_path / "logs"))
    sim.start()
    keys = {region: sim.apps(region, 3)[0]["api_key"] for region in ("us", "eu")}
    stop = threading.Event()
    writers = [Writer(n, sim, keys, stop) for n in range(WRITERS)]
    for w in writers:
        w.start()
    time.sleep(LOAD_SECONDS)
    sim.kill()  # SIGKILL mid-load: the writers are still sending
    stop.set()
    for w in writers:
        w.join(timeout=30)
    acked = {k: [i for w in writers for i in w.acked[k]] for k in ("redirect_uri", "credential", "grant")}
    errors = [e for w in writers for e in w.errors]
    print(f"durability: acknowledged {', '.join(f'{len(v)} {k}s' for k, v in acked.items())}; "
          f"{sum(w.unacked for w in writers)} in flight at the kill")
    assert not errors, errors[:10]
    assert all(len(v) >= 5 for v in acked.values()), f"too little load before the kill: {acked}"

    crashed = crash_image_integrity(data_dir)
    assert crashed and all(v == "ok" for v in crashed.values()), f"integrity after SIGKILL: {crashed}"

    sim.start()  # the same directory
    try:
        assert {region: sim.apps(region, 3)[0]["api_key"] for region in ("us", "eu")} == keys
        s = requests.Session()
        found: dict[str, set[str]] = {"redirect_uri": set(), "credential": set(), "grant": set()}
        for region in ("us", "eu"):
            base = sim.us_url if region == "us" else sim.eu_url
            key = {"Authorization": f"Bearer {keys[region]}"}
            r = s.get(base + "/v3/applications/redirect-uris", headers=key, timeout=30)
            assert r.status_code == 200, r.text[:300]
            found["redirect_uri"] |= {u["id"] for u in r.json()["data"]}
            found["credential"] |= {c["id"] for c in paged(s, base + "/v3/connectors/google/creds", key)}
            found["grant"] |= {g["id"] for g in paged(s, base + "/v3/grants", key)}
        for kind, ids in acked.items():
            lost = [i for i in ids if i not in found[kind]]
            assert not lost, f"{len(lost)} acknowledged {kind} writes lost after SIGKILL: {lost[:5]}"
        # The restarted server still takes writes.
        r = s.post(sim.us_url + "/v3/applications/redirect-uris", headers={"Authorization": f"Bearer {keys['us']}"},
                   json={"url": "http://localhost:3000/after-restart", "platform": "web"}, timeout=10)
        assert r.status_code in (200, 201), r.text[:300]
    finally:
        assert sim.stop() == 0, sim.output()
    after = {db.name: integrity(db) for db in sorted(data_dir.glob("*.sqlite"))}
    assert set(after) >= {"us.sqlite", "eu.sqlite", "world.sqlite"}, after
    assert all(v == "ok" for v in after.values()), f"integrity after restart: {after}"


# -- scheduled work and the clock across a restart ---------------------------------------------

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ContractTests"))
from receiver import Receiver  # noqa: E402

import pytest  # noqa: E402


@pytest.mark.parametrize("stop", ["sigkill", "sigterm"])
def test_retries_schedules_and_clock_survive_a_restart(tmp_path, stop):
    """Pending webhook retries run after a restart, in order and once; a scheduled send still goes;
    the manual clock resumes where it stopped, so an expired token stays expired."""
    data_dir = tmp_path / "data"
    sim = SimProcess("--data-dir", str(data_dir), "--clock", "manual", "--seed", "restart", "--log-level", "warning",
                     workdir=str(tmp_path / "logs"))
    sim.start()
    receiver = Receiver()
    receiver.post_status = 500
    try:
        key = sim.apps("us", 3)[0]["api_key"]
        auth = {"Authorization": f"Bearer {key}"}
        hook = requests.post(sim.us_url + "/v3/webhooks", headers=auth, timeout=30,
                             json={"trigger_types": ["message.created"], "webhook_url": receiver.url})
        assert hook.status_code == 200, hook.text
        grant = sim.control("POST", "/__sim/grants", {"email": "restart@gmail.com", "provider": "google"})
        token = grant["access_token"]
        sent = requests.post(f"{sim.us_url}/v3/grants/{grant['id']}/messages/send", timeout=30,
                             headers={"Authorization": f"Bearer {token}"},
                             json={"to": [{"email": "a@example.com"}], "subject": "Later",
                                   "send_at": sim.control("GET", "/__sim/clock")["now_unix"] + 7200})
        assert sent.status_code == 202, sent.text
        sim.control("POST", "/__sim/providers/mailboxes/restart@gmail.com/messages",
                    {"from": {"email": "alice@example.com"}, "subject": "Retry me"})
        # The first attempt fails; its retries wait on the clock.
        receiver.wait_posts(1)
        sim.control("POST", "/__sim/clock", {"advance": "70m"})   # the access token (1 h) expires
        before = sim.control("GET", "/__sim/clock")
        jobs = [j["label"] for j in sim.control("GET", "/__sim/jobs")["data"]]
        assert any(l.startswith("webhook message.created") for l in jobs), jobs
        assert any(l.startswith("scheduled send") for l in jobs), jobs
        posts_before = len(receiver.posts)
        assert requests.get(f"{sim.us_url}/v3/grants/me", headers={"Authorization": f"Bearer {token}"},
                            timeout=30).status_code == 401
        if stop == "sigkill":
            sim.kill()
        else:
            assert sim.stop() == 0
        sim.start()
        after = sim.control("GET", "/__sim/clock")
        assert after["now_ms"] == before["now_ms"] and after["mode"] == "manual", (before, after)
        assert requests.get(f"{sim.us_url}/v3/grants/me", headers={"Authorization": f"Bearer {token}"},
                            timeout=30).status_code == 401, "an expired token works again after the restart"
        jobs = [j["label"] for j in sim.control("GET", "/__sim/jobs")["data"]]
        assert sum(l.startswith("webhook message.created") for l in jobs) == 1, jobs
        assert any(l.startswith("scheduled send") for l in jobs), jobs
        receiver.post_status = 200
        sim.control("POST", "/__sim/clock", {"advance": "3h"})
        posts = receiver.wait_posts(posts_before + 1)
        created = [p for p in posts if b"Retry me" in p.body]
        assert len(created) == posts_before + 1, f"{len(created)} deliveries of the message, {posts_before} before the restart"
        assert created[-1].answered == 200
        # `advance` returns once every due attempt is recorded: a retry restored twice would show here.
        assert len([p for p in receiver.posts if b"Retry me" in p.body]) == len(created), "a retry ran twice"
        schedules = requests.get(f"{sim.us_url}/v3/grants/{grant['id']}/messages/schedules", headers=auth, timeout=30)
        assert [s["status"]["code"] for s in schedules.json()["data"]] == ["success"], schedules.text
        status = requests.get(f"{sim.us_url}/v3/webhooks/{hook.json()['data']['id']}", headers=auth, timeout=30).json()
        assert status["data"]["status"] == "active", status
    finally:
        sim.stop()
        receiver.close()
