"""Control surface safety of `nylas-sim serve`:

- it binds 127.0.0.1 unless told otherwise;
- `--host` with a non-loopback address and no `--control-token` refuses to start (exit status, message);
- with `--control-token`, every `/__sim/` route needs the token (header), the API does not;
- secrets (client secrets, API keys, webhook secrets, access/refresh tokens, connector credentials, the
  control token) never appear in the logs, even at `--log-level trace`, whether they travel in headers,
  queries or bodies (the start-up banner, which prints the seeded credentials on purpose, excepted).
"""
from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ContractTests"))
from simproc import SimProcess, binary  # noqa: E402
from receiver import Receiver  # noqa: E402  (the contract suite's webhook receiver)

TOKEN = "ctl-7f3c9e1d5b2a4c6e8f0a1b3d"


def listening_addresses(port: int) -> set[str]:
    """Local addresses (hex, as in /proc/net/tcp*) of the sockets listening on `port`."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, state = fields[1], fields[3]
            addr, hexport = local.rsplit(":", 1)
            if state == "0A" and int(hexport, 16) == port:
                found.add(addr)
    return found


def test_binds_loopback_by_default(tmp_path):
    sim = SimProcess("--seed", "surface", "--clock", "manual", workdir=str(tmp_path)).start()
    try:
        for url in (sim.us_url, sim.eu_url):
            parts = urlsplit(url)
            assert parts.hostname == "127.0.0.1", url
            assert listening_addresses(parts.port) == {"0100007F"}, f"{url} listens on {listening_addresses(parts.port)}"
        # Without a control token the control API is open (loopback only).
        assert requests.get(sim.us_url + "/__sim/state", timeout=5).status_code == 200
    finally:
        assert sim.stop() == 0


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "api.example.com"])
def test_non_loopback_host_without_control_token_refuses_to_start(host):
    try:
        run = subprocess.run([binary(), "serve", "--host", host, "--us-port", "0", "--eu-port", "0", "--clock", "manual"],
                             stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired as exc:  # it started: the guard is missing
        pytest.fail(f"serve --host {host} without --control-token kept running: {exc.stdout!r}")
    assert run.returncode != 0, f"serve --host {host} exited 0:\n{run.stdout}\n{run.stderr}"
    message = run.stderr + run.stdout
    assert "--control-token" in message, message
    assert "NylasSimulator is running" not in run.stdout


@pytest.mark.parametrize("token", ["", " ", "\t \n"])
@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0"])
def test_blank_control_token_refuses_to_start(host, token):
    """`--control-token "$UNSET"` must not start a server whose control API an empty header opens."""
    try:
        run = subprocess.run([binary(), "serve", "--host", host, "--control-token", token, "--us-port", "0",
                              "--eu-port", "0", "--clock", "manual"],
                             stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"serve --control-token {token!r} kept running: {exc.stdout!r}")
    assert run.returncode != 0, f"serve --control-token {token!r} exited 0:\n{run.stdout}\n{run.stderr}"
    assert "--control-token" in run.stderr + run.stdout
    assert "NylasSimulator is running" not in run.stdout


@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0"])
def test_control_routes_need_the_token(host, tmp_path):
    sim = SimProcess("--seed", "surface", "--clock", "manual", "--host", host, control_token=TOKEN,
                     workdir=str(tmp_path)).start()
    try:
        base = sim.us_url
        assert urlsplit(base).hostname == "127.0.0.1"  # traffic stays on loopback even when bound wider
        key = sim.apps("us", 3)[0]["api_key"]
        refused = [
            requests.get(base + "/__sim/state", timeout=5),
            requests.get(base + "/__sim/state", headers={"Authorization": "Bearer wrong"}, timeout=5),
            requests.get(base + "/__sim/state", headers={"X-Sim-Control-Token": TOKEN + "x"}, timeout=5),
            requests.get(base + "/__sim/state", headers={"Authorization": f"Bearer {key}"}, timeout=5),
            requests.get(base + "/__sim/state", params={"token": TOKEN}, timeout=5),  # query only for the dashboard
            requests.post(base + "/__sim/reset", timeout=5),
            requests.post(base + "/__sim/clock", json={"advance": "1h"}, timeout=5),
            requests.post(base + "/__sim/grants", json={"email": "x@gmail.com"}, timeout=5),
            requests.get(sim.eu_url + "/__sim/requests", timeout=5),
        ]
        for r in refused:
            assert r.status_code == 401, f"{r.request.method} {r.request.url} -> {r.status_code} {r.text[:200]}"
        assert requests.get(base + "/__sim/state", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5).status_code == 200
        assert requests.get(base + "/__sim/state", headers={"X-Sim-Control-Token": TOKEN}, timeout=5).status_code == 200
        # The clock did not move and no grant was created by the refused calls.
        assert requests.get(base + "/v3/grants", headers={"Authorization": f"Bearer {key}"}, timeout=5).json()["data"] == []
        # The API itself takes its own credentials, not the control token.
        assert requests.get(base + "/v3/applications", headers={"Authorization": f"Bearer {key}"}, timeout=5).status_code == 200
        assert requests.get(base + "/v3/applications", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5).status_code == 401
    finally:
        assert sim.stop() == 0


def test_secrets_never_appear_in_the_logs(tmp_path):
    receiver = Receiver()
    sim = SimProcess("--seed", "secrets", "--clock", "manual", "--log-level", "trace", control_token=TOKEN,
                     workdir=str(tmp_path)).start()
    secrets: dict[str, str] = {"control token": TOKEN}
    try:
        us = sim.us_url
        ctl = {"X-Sim-Control-Token": TOKEN}
        app = sim.apps("us", 3)[0]
        v2 = sim.apps("us", 2)[0]
        secrets.update({"API key": app["api_key"], "client secret": app["client_secret"],
                        "v2 client secret": v2["client_secret"], "EU API key": sim.apps("eu", 3)[0]["api_key"]})
        key = {"Authorization": f"Bearer {app['api_key']}"}

        def ok(r: requests.Response) -> dict:
            assert r.status_code < 300, f"{r.request.method} {r.request.url} -> {r.status_code}: {r.text[:300]}"
            return r.json() if r.content else {}

        # Headers: API keys (right and wrong region, and a wrong one), access tokens.
        ok(requests.get(us + "/v3/grants", headers=key, timeout=5))
        requests.get(us + "/v3/grants", headers={"Authorization": f"Bearer {secrets['EU API key']}"}, timeout=5)
        secrets["unknown key"] = "nyk_v0_unknown_never_log_me_1234567890"
        requests.get(us + "/v3/grants", headers={"Authorization": f"Bearer {secrets['unknown key']}"}, timeout=5)
        grant = ok(requests.post(us + "/__sim/grants", json={"email": "secret@gmail.com", "provider": "google"},
                                 headers=ctl, timeout=5))
        secrets["access token"], secrets["refresh token"] = grant["access_token"], grant["refresh_token"]
        ok(requests.get(us + "/v3/grants/me", headers={"Authorization": f"Bearer {grant['access_token']}"}, timeout=5))
        # Queries: token info, revoke, the dashboard's ?token=.
        ok(requests.get(us + "/v3/connect/tokeninfo", params={"access_token": grant["access_token"]}, timeout=5))
        requests.get(us + "/__sim/ui", params={"token": TOKEN}, timeout=5)
        # Bodies: token exchanges (client secret, API key as secret, refresh token).
        refreshed = ok(requests.post(us + "/v3/connect/token", json={
            "grant_type": "refresh_token", "client_id": app["client_id"], "client_secret": app["client_secret"],
            "refresh_token": grant["refresh_token"]}, timeout=5))
        secrets["refreshed access token"] = refreshed["access_token"]
        minted = ok(requests.post(us + "/v3/connect/token", data={
            "grant_type": "client_credentials", "client_id": app["client_id"], "client_secret": app["api_key"],
            "grant_id": grant["id"]}, timeout=5))
        secrets["minted access token"] = minted["access_token"]
        secrets["id token"] = minted["id_token"]
        ok(requests.post(us + "/v3/connect/revoke", params={"token": minted["access_token"]}, timeout=5))
        requests.post(us + "/v3/connect/revoke", params={"token": minted["access_token"]}, timeout=5)  # 400 now
        # Connector credentials and connector settings.
        secrets["credential secret"] = "cred-secret-never-log-2f9a7c"
        ok(requests.post(us + "/v3/connectors/google/creds", headers=key, timeout=5, json={
            "name": "Secret cred", "credential_type": "connector",
            "credential_data": {"client_id": "cid", "client_secret": secrets["credential secret"]}}))
        secrets["connector secret"] = "conn-secret-never-log-8e1d3b"
        ok(requests.patch(us + "/v3/connectors/google", headers=key, timeout=5,
                          json={"settings": {"client_id": "cid", "client_secret": secrets["connector secret"]}}))
        # Webhook secrets: created, rotated (both routes).
        hook = ok(requests.post(us + "/v3/webhooks", headers=key, timeout=10, json={
            "trigger_types": ["message.created"], "webhook_url": receiver.url}))["data"]
        secrets["webhook secret"] = hook["webhook_secret"]
        rotated = ok(requests.post(us + f"/v3/webhooks/rotate-secret/{hook['id']}", headers=key, timeout=5))["data"]
        secrets["rotated webhook secret"] = rotated["webhook_secret"]
        rotated2 = ok(requests.put(us + f"/v3/webhooks/{hook['id']}/rotate-secret", headers=key, timeout=5))["data"]
        secrets["rotated webhook secret 2"] = rotated2["webhook_secret"]
        # A delivery carries the signature made with the secret.
        ok(requests.post(us + "/__sim/providers/mailboxes/secret@gmail.com/messages", headers=ctl, timeout=5,
                         json={"from": {"email": "alice@example.com"}, "subject": "Hello", "body": "hi"}))
        # v2: native auth with the v2 client secret, an account token, Basic with the secret.
        code = ok(requests.post(us + "/connect/authorize", timeout=5, json={
            "client_id": v2["client_id"], "name": "S", "email_address": "v2secret@gmail.com", "provider": "gmail",
            "settings": {"google_client_id": "a", "google_client_secret": "v2-provider-secret-77aa", "google_refresh_token": "v2-provider-refresh-88bb"}}))["code"]
        secrets["v2 provider secret"], secrets["v2 provider refresh"] = "v2-provider-secret-77aa", "v2-provider-refresh-88bb"
        secrets["v2 code"] = code
        account = ok(requests.post(us + "/connect/token", timeout=5, json={
            "client_id": v2["client_id"], "client_secret": v2["client_secret"], "code": code}))
        secrets["v2 access token"] = account["access_token"]
        ok(requests.get(us + "/account", headers={"Authorization": f"Bearer {account['access_token']}"}, timeout=5))
        basic = "Basic " + base64.b64encode(f"{v2['client_secret']}:".encode()).decode()
        ok(requests.get(us + f"/a/{v2['client_id']}/accounts", headers={"Authorization": basic}, timeout=5))
        # Control calls with the token.
        ok(requests.get(us + "/__sim/requests", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5))
    finally:
        status = sim.stop()
        receiver.close()
    assert status == 0, sim.output()

    stdout = sim.stdout_path.read_text(errors="replace")
    stderr = sim.stderr_path.read_text(errors="replace")
    banner_end = stdout.find("Press Ctrl-C to stop.")
    assert banner_end >= 0, stdout[:2000]
    logs = stdout[banner_end:] + "\n" + stderr
    # The logs are on: one line per request at trace level.
    assert "/v3/connect/token" in logs and "/v3/grants/me" in logs, logs[:2000]
    leaked = {name: value for name, value in secrets.items() if value and value in logs}
    assert not leaked, "secrets in the logs: " + ", ".join(
        f"{name} (line: {next(l for l in logs.splitlines() if value in l)[:200]!r})" for name, value in leaked.items())
    # And the banner printed only the seeded application credentials, nothing minted later.
    banner = stdout[:banner_end]
    for name in ("access token", "refresh token", "webhook secret", "credential secret", "control token", "v2 access token"):
        assert secrets[name] not in banner, name
