"""v3 webhooks contract: destinations (create/list/find/update/rotate/destroy), IP addresses, mock
payloads, test events, the endpoint challenge, signed deliveries and the retry schedule on the
virtual clock — driven by the official Python SDK 6.18.0 with the application's API key.

Signatures are checked with independent code (`hmac`/`hashlib`): nylas 6.18.0 ships no webhook
signature verifier (only `extract_challenge_parameter`, which the receiver uses). The SDK has no
`mock_payload`/`send_test_event` methods either; those two endpoints are called through the SDK's
own HTTP transport (`client.http_client._execute`: same auth headers, same error parsing).
"""
from __future__ import annotations

import gzip
import hashlib
import hmac
import json
import time

import pytest
from nylas.models.errors import NylasApiError
from nylas.models.webhooks import (
    Webhook,
    WebhookDeleteResponse,
    WebhookIpAddressesResponse,
    WebhookTriggers,
    WebhookWithSecret,
)

from conftest import Sim
from receiver import Receiver

MOCK_SECRET = "mock-webhook-secret"
#: Fields the SDK's `Webhook` model requires (reference §5.11) — plus the two the spec always lists.
REQUIRED = {"id", "trigger_types", "webhook_url", "status", "notification_email_addresses",
            "status_updated_at", "created_at", "updated_at"}
ALWAYS = REQUIRED | {"description", "compressed_delivery"}
#: Retry schedule of a failing receiver, seconds after the first attempt (attempts 1..6).
SCHEDULE = [0, 20 * 60, 2 * 3600, 8 * 3600, 24 * 3600, 72 * 3600]


# --- helpers -----------------------------------------------------------------------------------

def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def assert_signed(secret: str, body: bytes, signature: str | None) -> None:
    assert signature, "no x-nylas-signature header"
    assert len(signature) == 64 and signature == signature.lower(), f"not lowercase hex SHA-256: {signature!r}"
    assert hmac.compare_digest(sign(secret, body), signature), "x-nylas-signature does not match the body"


def raw(client, method: str, path: str, body=None) -> dict:
    """A request through the SDK's own transport; returns the raw JSON (errors raise NylasApiError)."""
    response_json, _headers = client.http_client._execute(method, path, request_body=body)
    return response_json


def check_wire(obj: dict, *, secret: bool) -> Webhook:
    """A raw destination object has every field the SDK needs and the secret only when expected;
    it parses strictly (no infer_missing) into the SDK model."""
    missing = ALWAYS - obj.keys()
    assert not missing, f"webhook object lacks {missing}: {obj}"
    assert ("webhook_secret" in obj) == secret, obj
    for k in ("status_updated_at", "created_at", "updated_at"):
        assert isinstance(obj[k], int), (k, obj[k])
    assert isinstance(obj["notification_email_addresses"], list)
    assert isinstance(obj["compressed_delivery"], bool)
    return (WebhookWithSecret if secret else Webhook).from_dict(obj)


def deliveries(sim: Sim, **params) -> list[dict]:
    r = sim.http.get(sim.us_url + "/__sim/webhooks/deliveries", params=params, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def wait_deliveries(sim: Sim, count: int, timeout: float = 5.0, **params) -> list[dict]:
    """Polls the delivery journal (wall time) until it holds at least `count` matching attempts."""
    deadline = time.monotonic() + timeout
    while True:
        items = deliveries(sim, **params)
        if len(items) >= count:
            return items
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(items)} deliveries (expected {count}) within {timeout}s: {items}")
        time.sleep(0.02)


def pending_webhook_jobs(sim: Sim) -> list[dict]:
    return [j for j in sim.control("GET", "/__sim/jobs")["data"] if j["label"].startswith("webhook")]


def create_hook(nylas, receiver: Receiver, triggers=("grant.created",), **extra) -> WebhookWithSecret:
    body = {"trigger_types": list(triggers), "webhook_url": receiver.url}
    body.update(extra)
    hook = nylas.webhooks.create(body).data
    assert isinstance(hook, WebhookWithSecret)
    assert hook.webhook_secret
    return hook


@pytest.fixture
def receiver():
    r = Receiver()
    try:
        yield r
    finally:
        r.close()


# --- destinations ------------------------------------------------------------------------------

def test_create_returns_the_secret_only_once(reset, us, nylas, receiver):
    t0 = reset.now()
    resp = nylas.webhooks.create({
        "trigger_types": [WebhookTriggers.GRANT_CREATED.value, WebhookTriggers.GRANT_DELETED.value],
        "webhook_url": receiver.url,
        "description": "contract destination",
        "notification_email_addresses": ["ops@example.com"],
    })
    assert resp.request_id
    hook = resp.data
    assert isinstance(hook, WebhookWithSecret)
    assert hook.id
    assert isinstance(hook.webhook_secret, str) and len(hook.webhook_secret) >= 16
    assert hook.status == "active"
    assert hook.webhook_url == receiver.url
    assert hook.description == "contract destination"
    assert hook.trigger_types == [WebhookTriggers.GRANT_CREATED, WebhookTriggers.GRANT_DELETED]
    assert hook.notification_email_addresses == ["ops@example.com"]
    assert hook.created_at == hook.updated_at == hook.status_updated_at == t0

    # The endpoint was verified exactly once, with a GET carrying `challenge`; nothing was POSTed.
    assert len(receiver.challenges) == 1
    assert "challenge=" in receiver.challenges[0].path
    assert receiver.challenges[0].answered == 200
    assert receiver.posts == []

    # find and list: the same destination, never the secret.
    found = nylas.webhooks.find(hook.id)
    assert found.request_id
    assert type(found.data) is Webhook
    assert not hasattr(found.data, "webhook_secret")
    assert (found.data.id, found.data.webhook_url, found.data.status, found.data.description) == (
        hook.id, receiver.url, "active", "contract destination")
    assert found.data.trigger_types == hook.trigger_types
    check_wire(raw(nylas, "GET", f"/v3/webhooks/{hook.id}")["data"], secret=False)

    listed = nylas.webhooks.list()
    assert listed.request_id
    assert [w.id for w in listed.data] == [hook.id]
    wire = raw(nylas, "GET", "/v3/webhooks")
    assert isinstance(wire["data"], list) and wire["request_id"]
    assert [check_wire(o, secret=False).id for o in wire["data"]] == [hook.id]


def test_list_holds_every_destination_of_the_application(reset, us, eu, nylas, receiver):
    a = create_hook(nylas, receiver, ["grant.created"], description="a")
    b = create_hook(nylas, receiver, ["message.created", "message.updated"], description="b")
    assert a.id != b.id and a.webhook_secret != b.webhook_secret
    listed = nylas.webhooks.list().data
    assert sorted(w.id for w in listed) == sorted([a.id, b.id])
    by_id = {w.id: w for w in listed}
    assert by_id[b.id].trigger_types == [WebhookTriggers.MESSAGE_CREATED, WebhookTriggers.MESSAGE_UPDATED]
    assert all(type(w) is Webhook for w in listed)
    for o in raw(nylas, "GET", "/v3/webhooks")["data"]:
        check_wire(o, secret=False)

    # Destinations belong to one region's application: the EU application sees none of them.
    assert eu.client().webhooks.list().data == []
    with pytest.raises(NylasApiError) as exc:
        eu.client().webhooks.find(a.id)
    assert exc.value.status_code == 400
    assert exc.value.type == "70000"


def test_destroy(reset, nylas, receiver):
    hook = create_hook(nylas, receiver)
    resp = nylas.webhooks.destroy(hook.id)
    assert isinstance(resp, WebhookDeleteResponse)
    assert resp.request_id
    assert resp.data.status == "success"
    assert nylas.webhooks.list().data == []
    for call in (lambda: nylas.webhooks.find(hook.id), lambda: nylas.webhooks.destroy(hook.id),
                 lambda: nylas.webhooks.update(hook.id, {"description": "gone"}),
                 lambda: nylas.webhooks.rotate_secret(hook.id)):
        with pytest.raises(NylasApiError) as exc:
            call()
        assert exc.value.status_code == 400
        assert exc.value.type == "70000"
        assert "destination.id.not.found" in str(exc.value)
        assert exc.value.request_id


def test_update_description_triggers_and_status(reset, nylas, receiver):
    sim = reset
    t0 = sim.now()
    hook = create_hook(nylas, receiver, ["grant.created"], description="before",
                       notification_email_addresses=["ops@example.com"])

    sim.advance("1h")
    updated = nylas.webhooks.update(hook.id, {
        "description": "after",
        "trigger_types": [WebhookTriggers.GRANT_CREATED.value, WebhookTriggers.GRANT_EXPIRED.value],
    })
    assert updated.request_id
    w = updated.data
    assert type(w) is Webhook
    assert w.description == "after"
    assert w.trigger_types == [WebhookTriggers.GRANT_CREATED, WebhookTriggers.GRANT_EXPIRED]
    assert w.webhook_url == receiver.url, "omitted fields are left unchanged"
    assert w.notification_email_addresses == ["ops@example.com"], "omitted fields are left unchanged"
    assert w.status == "active"
    assert w.updated_at == t0 + 3600
    assert w.status_updated_at == t0, "status did not change"
    assert w.created_at == t0
    assert len(receiver.challenges) == 1, "no re-verification when the URL does not change"
    check_wire(raw(nylas, "GET", f"/v3/webhooks/{hook.id}")["data"], secret=False)

    # Pause (the status field is not in the SDK's UpdateWebhookRequest TypedDict, but is sent as given).
    sim.advance("1h")
    paused = nylas.webhooks.update(hook.id, {"status": "pause"}).data
    assert paused.status == "pause"
    assert paused.status_updated_at == t0 + 7200
    assert paused.description == "after"
    assert nylas.webhooks.find(hook.id).data.status == "pause"

    # A paused destination receives nothing: no attempt is even scheduled.
    sim.create_grant("paused@example.com", "google")
    assert pending_webhook_jobs(sim) == []

    sim.advance("1h")
    active = nylas.webhooks.update(hook.id, {"status": "active"}).data
    assert active.status == "active"
    assert active.status_updated_at == t0 + 3 * 3600
    grant = sim.create_grant("active@example.com", "google")
    got = wait_deliveries(sim, 1, webhook_id=hook.id)
    assert len(got) == 1
    assert got[0]["body"]["data"]["object"]["grant_id"] == grant["id"]
    assert [json.loads(p.body)["data"]["object"]["email"] for p in receiver.wait_posts(1)] == ["active@example.com"]

    with pytest.raises(NylasApiError) as exc:
        nylas.webhooks.update(hook.id, {"status": "failed"})
    assert exc.value.status_code == 400
    assert nylas.webhooks.find(hook.id).data.status == "active"


def test_rotate_secret(reset, nylas, receiver):
    sim = reset
    hook = create_hook(nylas, receiver, ["grant.created"])
    old = hook.webhook_secret

    sim.create_grant("before-rotate@example.com", "google")
    first = receiver.wait_posts(1)[0]
    assert_signed(old, first.body, first.header("x-nylas-signature"))
    entry = wait_deliveries(sim, 1, webhook_id=hook.id)[0]
    assert entry["status"] == 200 and entry["outcome"] == "delivered", entry

    sim.advance("10m")
    resp = nylas.webhooks.rotate_secret(hook.id)   # the SDK's own method (PUT /v3/webhooks/{id}/rotate-secret)
    assert resp.request_id
    rotated = resp.data
    assert isinstance(rotated, WebhookWithSecret)
    assert rotated.id == hook.id
    assert rotated.webhook_secret and rotated.webhook_secret != old
    assert rotated.status == "active"
    assert rotated.trigger_types == hook.trigger_types
    assert rotated.updated_at == hook.created_at + 600
    assert "webhook_secret" not in raw(nylas, "GET", f"/v3/webhooks/{hook.id}")["data"]

    sim.create_grant("after-rotate@example.com", "google")
    second = receiver.wait_posts(2)[1]
    assert json.loads(second.body)["data"]["object"]["email"] == "after-rotate@example.com"
    sig = second.header("x-nylas-signature")
    assert_signed(rotated.webhook_secret, second.body, sig)
    assert not hmac.compare_digest(sign(old, second.body), sig), "the old secret stops immediately"
    journal = wait_deliveries(sim, 2, webhook_id=hook.id)
    assert journal[1]["signature"] == sig

    # Rotating again gives yet another secret.
    again = nylas.webhooks.rotate_secret(hook.id).data.webhook_secret
    assert again not in (old, rotated.webhook_secret)


def test_ip_addresses(reset, nylas):
    resp = nylas.webhooks.ip_addresses()
    assert resp.request_id
    data = resp.data
    assert isinstance(data, WebhookIpAddressesResponse)
    assert data.ip_addresses and all(isinstance(ip, str) and ip for ip in data.ip_addresses)
    assert isinstance(data.updated_at, int) and data.updated_at > 0


def test_webhook_endpoints_need_the_api_key(reset, us, receiver):
    bogus = us.client(api_key="nyk_v0_bogus")
    for call in (bogus.webhooks.list, bogus.webhooks.ip_addresses, lambda: bogus.webhooks.find("whatever"),
                 lambda: bogus.webhooks.create({"trigger_types": ["grant.created"], "webhook_url": receiver.url})):
        with pytest.raises(NylasApiError) as exc:
            call()
        assert exc.value.status_code == 401
    assert receiver.challenges == [], "an unauthenticated create never reaches the endpoint"


# --- challenge ---------------------------------------------------------------------------------

@pytest.mark.parametrize("answer", ["wrong", 404, 500])
def test_challenge_failure_creates_nothing(reset, nylas, receiver, answer):
    receiver.challenge = answer
    with pytest.raises(NylasApiError) as exc:
        nylas.webhooks.create({"trigger_types": ["grant.created"], "webhook_url": receiver.url,
                               "description": "never"})
    err = exc.value
    assert err.status_code == 400
    assert err.type == "70005"
    assert "unable.verify.webhook_url" in str(err)
    if isinstance(answer, int):
        assert f"got {answer}" in str(err)
    assert err.request_id
    assert len(receiver.challenges) == 1, "the endpoint was asked"

    assert nylas.webhooks.list().data == []
    assert reset.control("GET", "/__sim/webhooks")["data"] == []
    reset.create_grant("nobody-listens@example.com", "google")
    assert pending_webhook_jobs(reset) == []
    assert deliveries(reset) == []


def test_challenge_unreachable_endpoint(reset, nylas, receiver):
    url = receiver.url
    receiver.close()   # nothing listens there any more
    with pytest.raises(NylasApiError) as exc:
        nylas.webhooks.create({"trigger_types": ["grant.created"], "webhook_url": url})
    assert exc.value.status_code == 400
    assert exc.value.type == "70005"
    assert nylas.webhooks.list().data == []


# --- deliveries --------------------------------------------------------------------------------

def test_delivery_is_a_signed_cloudevent(reset, us, nylas, receiver):
    sim = reset
    hook = create_hook(nylas, receiver, ["grant.created"])
    now = sim.now()
    grant = sim.create_grant("signed@example.com", "google")

    post = receiver.wait_posts(1)[0]
    assert post.path == "/webhook"
    assert (post.header("Content-Type") or "").startswith("application/json")
    assert_signed(hook.webhook_secret, post.body, post.header("x-nylas-signature"))

    event = json.loads(post.body)
    assert event["specversion"] == "1.0"
    assert event["type"] == "grant.created"
    assert event["source"] == "/nylas/system"
    assert isinstance(event["id"], str) and event["id"]
    assert event["time"] == now
    assert event["webhook_delivery_attempt"] == 1
    assert event["data"]["application_id"] == us.application_id
    obj = event["data"]["object"]
    assert obj["grant_id"] == grant["id"]
    assert obj["email"] == "signed@example.com"
    assert obj["provider"] == "google"
    assert obj["code"] == 25012

    journal = wait_deliveries(sim, 1, webhook_id=hook.id)
    entry = journal[0]
    assert entry["attempt"] == 1
    assert entry["status"] == 200, entry
    assert entry["outcome"] == "delivered"
    assert entry["type"] == "grant.created"
    assert entry["signature"] == post.header("x-nylas-signature")
    assert entry["body"] == event
    assert entry["time_unix"] == now
    assert nylas.webhooks.find(hook.id).data.status == "active"


def test_only_subscribed_triggers_are_delivered(reset, nylas, receiver):
    sim = reset
    created = create_hook(nylas, receiver, ["grant.created"])
    deleted = create_hook(nylas, receiver, ["grant.deleted"])
    grant = sim.create_grant("triggers@example.com", "google")
    got = wait_deliveries(sim, 1, webhook_id=created.id)
    assert [d["type"] for d in got] == ["grant.created"]
    assert deliveries(sim, webhook_id=deleted.id) == []

    nylas.grants.destroy(grant["id"])
    got = wait_deliveries(sim, 1, webhook_id=deleted.id)
    assert [d["type"] for d in got] == ["grant.deleted"]
    assert got[0]["body"]["data"]["object"]["grant_id"] == grant["id"]
    posts = receiver.wait_posts(2)
    by_type = {json.loads(p.body)["type"]: p for p in posts}
    assert set(by_type) == {"grant.created", "grant.deleted"}
    assert_signed(created.webhook_secret, by_type["grant.created"].body,
                  by_type["grant.created"].header("x-nylas-signature"))
    assert_signed(deleted.webhook_secret, by_type["grant.deleted"].body,
                  by_type["grant.deleted"].header("x-nylas-signature"))
    assert len(deliveries(sim, webhook_id=created.id)) == 1


def test_compressed_delivery_signs_the_gzip_bytes(reset, nylas, receiver):
    sim = reset
    hook = create_hook(nylas, receiver, ["grant.created"], compressed_delivery=True)
    assert raw(nylas, "GET", f"/v3/webhooks/{hook.id}")["data"]["compressed_delivery"] is True
    sim.create_grant("gzip@example.com", "google")
    post = receiver.wait_posts(1)[0]
    assert (post.header("Content-Encoding") or "").lower() == "gzip"
    assert post.body[:2] == b"\x1f\x8b"
    assert_signed(hook.webhook_secret, post.body, post.header("x-nylas-signature"))
    event = json.loads(gzip.decompress(post.body))
    assert event["type"] == "grant.created"
    assert event["data"]["object"]["email"] == "gzip@example.com"


def test_eu_destination_gets_eu_events(reset, eu, receiver):
    sim = reset
    client = eu.client()
    hook = create_hook(client, receiver, ["grant.created"])
    assert [w.id for w in client.webhooks.list().data] == [hook.id]
    grant = sim.create_grant("eu-user@example.com", "google", region="eu")
    got = wait_deliveries(sim, 1, webhook_id=hook.id)
    assert got[0]["region"] == "eu"
    assert got[0]["application_id"] == eu.application_id
    post = receiver.wait_posts(1)[0]
    assert_signed(hook.webhook_secret, post.body, post.header("x-nylas-signature"))
    event = json.loads(post.body)
    assert event["data"]["application_id"] == eu.application_id
    assert event["data"]["object"]["grant_id"] == grant["id"]


def test_failing_receiver_retries_then_fails(reset, nylas, receiver):
    sim = reset
    receiver.post_status = 503
    hook = create_hook(nylas, receiver, ["grant.created"], notification_email_addresses=["ops@example.com"])
    t0 = sim.now()
    sim.create_grant("retry@example.com", "google")

    got = wait_deliveries(sim, 1, webhook_id=hook.id)
    assert got[0]["attempt"] == 1 and got[0]["time_unix"] == t0
    assert nylas.webhooks.find(hook.id).data.status == "failing"

    for n in range(2, 7):
        due = t0 + SCHEDULE[n - 1]
        # One second before the retry is due, nothing more has been attempted ...
        sim.control("POST", "/__sim/clock", {"to": due - 1})
        assert len(deliveries(sim, webhook_id=hook.id)) == n - 1, f"attempt {n} came early"
        # ... and at the due time the attempt is made.
        sim.advance("1s")
        got = wait_deliveries(sim, n, webhook_id=hook.id)
        assert len(got) == n
        assert got[-1]["attempt"] == n
        assert got[-1]["time_unix"] == due
        expected = "failed" if n == 6 else "failing"
        assert nylas.webhooks.find(hook.id).data.status == expected, f"after attempt {n}"

    attempts = deliveries(sim, webhook_id=hook.id)
    assert [d["attempt"] for d in attempts] == [1, 2, 3, 4, 5, 6]
    assert [d["time_unix"] - t0 for d in attempts] == SCHEDULE
    assert {d["notification_id"] for d in attempts} == {attempts[0]["notification_id"]}
    for d in attempts:
        assert d["status"] == 503
        assert d["outcome"] == "failed"
        assert d["type"] == "grant.created"
        assert d["body"]["webhook_delivery_attempt"] == d["attempt"]
        assert d["body"]["id"] == attempts[0]["body"]["id"], "one notification, retried"
    assert attempts[-1]["next_attempt_at"] is None
    assert all(d["next_attempt_at"] for d in attempts[:-1])

    # What the receiver saw: six signed POSTs whose attempt counter matches the journal.
    posts = receiver.wait_posts(6)
    assert len(posts) == 6
    for post, d in zip(posts, attempts):
        assert_signed(hook.webhook_secret, post.body, post.header("x-nylas-signature"))
        assert post.header("x-nylas-signature") == d["signature"]
        assert json.loads(post.body)["webhook_delivery_attempt"] == d["attempt"]

    # Failed is final: no more attempts, later events are not sent, nothing is replayed.
    final = nylas.webhooks.find(hook.id)
    assert type(final.data) is Webhook
    assert final.data.status == "failed"
    assert final.data.status_updated_at == t0 + SCHEDULE[-1]
    check_wire(raw(nylas, "GET", f"/v3/webhooks/{hook.id}")["data"], secret=False)
    assert [w.status for w in nylas.webhooks.list().data] == ["failed"]
    sim.advance("100h")
    sim.create_grant("while-failed@example.com", "google")
    assert pending_webhook_jobs(sim) == []
    assert len(deliveries(sim, webhook_id=hook.id)) == 6

    # Re-activated by hand, the destination receives new events again.
    receiver.post_status = 200
    assert nylas.webhooks.update(hook.id, {"status": "active"}).data.status == "active"
    sim.create_grant("after-reactivation@example.com", "google")
    got = wait_deliveries(sim, 7, webhook_id=hook.id)
    assert got[-1]["attempt"] == 1 and got[-1]["outcome"] == "delivered"
    assert got[-1]["body"]["data"]["object"]["email"] == "after-reactivation@example.com"
    assert nylas.webhooks.find(hook.id).data.status == "active"


# --- mock payloads and test events -------------------------------------------------------------

@pytest.mark.parametrize("trigger,source,data_grant", [
    ("grant.created", "/nylas/system", False),
    ("message.created", None, False),
    ("message.created.truncated", None, False),
    ("event.created", None, False),
    ("folder.deleted", None, False),
    ("contact.updated", None, False),
    ("message.opened", "/com/nylas/tracking", True),
    ("message.send_success", "/nylas/send", True),
])
def test_mock_payload(reset, us, nylas, trigger, source, data_grant):
    assert not hasattr(nylas.webhooks, "mock_payload"), "nylas 6.18.0 has no mock_payload method"
    resp = raw(nylas, "POST", "/v3/webhooks/mock-payload", {"trigger_type": trigger})
    assert resp["request_id"]
    n = resp["data"]
    assert n["specversion"] == "1.0"
    assert n["type"] == trigger
    assert isinstance(n["id"], str) and n["id"]
    assert isinstance(n["time"], int)
    assert isinstance(n["source"], str) and n["source"].startswith("/")
    if source:
        assert n["source"] == source
    assert n["data"]["application_id"] == us.application_id
    obj = n["data"]["object"]
    assert isinstance(obj, dict) and obj
    assert ("grant_id" in n["data"]) == data_grant
    family = trigger.split(".")[0]
    if family in ("message", "event", "folder", "contact") and trigger != "message.opened":
        assert obj["object"] == family
    if trigger == "message.created":
        assert obj["body"]
    if trigger == "message.created.truncated":
        assert "body" not in obj
    if family == "grant":
        assert obj["grant_id"] and obj["code"] == 25012
    if trigger == "event.created":
        assert obj["when"]["object"] == "timespan"


def test_mock_payload_rejects_unknown_trigger(reset, nylas):
    for body in ({"trigger_type": "contact.created"}, {}):
        with pytest.raises(NylasApiError) as exc:
            raw(nylas, "POST", "/v3/webhooks/mock-payload", body)
        assert exc.value.status_code == 400


@pytest.mark.parametrize("trigger", ["grant.created", "message.created", "event.updated"])
def test_send_test_event(reset, us, nylas, receiver, trigger):
    assert not hasattr(nylas.webhooks, "send_test_event"), "nylas 6.18.0 has no send_test_event method"
    resp = raw(nylas, "POST", "/v3/webhooks/send-test-event", {"trigger_type": trigger, "webhook_url": receiver.url})
    assert resp["request_id"]
    assert resp["data"] == "success"

    post = receiver.wait_posts(1)[0]   # sent before the response, but allow for it
    assert (post.header("Content-Type") or "").startswith("application/json")
    assert_signed(MOCK_SECRET, post.body, post.header("x-nylas-signature"))
    event = json.loads(post.body)
    assert event["specversion"] == "1.0"
    assert event["type"] == trigger
    assert event["data"]["application_id"] == us.application_id
    assert receiver.challenges == [], "a test event needs no destination and no challenge"
    assert nylas.webhooks.list().data == []
    assert deliveries(reset) == [], "test events are not destination deliveries"


# --- reference details: PUT semantics, §6.7 payload shapes -----------------------------------------

def test_update_empty_fields_do_not_overwrite(reset, nylas, receiver):
    """§4.16 PUT (spec: "Empty fields in the request do not overwrite existing fields")."""
    hook = create_hook(nylas, receiver, ["grant.created", "grant.deleted"], description="keep me",
                       notification_email_addresses=["ops@example.com"])
    w = nylas.webhooks.update(hook.id, {"description": "", "trigger_types": [], "webhook_url": "",
                                        "notification_email_addresses": []}).data
    assert w.description == "keep me"
    assert w.trigger_types == [WebhookTriggers.GRANT_CREATED, WebhookTriggers.GRANT_DELETED]
    assert w.webhook_url == receiver.url
    assert w.notification_email_addresses == ["ops@example.com"]
    again = nylas.webhooks.find(hook.id).data
    assert (again.description, again.webhook_url, again.notification_email_addresses) == (
        "keep me", receiver.url, ["ops@example.com"])


def test_update_webhook_url_moves_deliveries(reset, nylas, receiver):
    sim = reset
    other = Receiver("/moved")
    try:
        hook = create_hook(nylas, receiver, ["grant.created"])
        moved = nylas.webhooks.update(hook.id, {"webhook_url": other.url}).data
        assert moved.webhook_url == other.url
        assert nylas.webhooks.find(hook.id).data.webhook_url == other.url
        sim.create_grant("moved@example.com", "google")
        post = other.wait_posts(1)[0]
        assert post.path == "/moved"
        assert_signed(hook.webhook_secret, post.body, post.header("x-nylas-signature"))
        assert wait_deliveries(sim, 1, webhook_id=hook.id)[0]["url"] == other.url
        assert receiver.posts == []
    finally:
        other.close()


@pytest.mark.parametrize("trigger,code", [
    ("grant.created", 25012), ("grant.updated", 25014), ("grant.deleted", 25013), ("grant.expired", 25009),
])
def test_mock_payload_grant_codes(reset, nylas, trigger, code):
    """§6.7: each grant.* notification carries its own `code`; grant.expired adds grant_updated_at."""
    obj = raw(nylas, "POST", "/v3/webhooks/mock-payload", {"trigger_type": trigger})["data"]["data"]["object"]
    assert obj["code"] == code
    assert obj["grant_id"] and obj["integration_id"] and obj["provider"]
    if trigger == "grant.expired":
        assert isinstance(obj["grant_updated_at"], int)
    if trigger == "grant.updated":
        assert obj["reauthentication_flag"] is False


def test_mock_payload_tracking_and_deleted_shapes(reset, nylas):
    """§6.7 shapes of tracking and *.deleted notifications."""
    def obj(t):
        return raw(nylas, "POST", "/v3/webhooks/mock-payload", {"trigger_type": t})["data"]["data"]["object"]

    opened = obj("message.opened")
    assert opened["object"] == "message"
    for k in ("grant_id", "message_id", "label", "message_data", "recents", "sender_app_id", "timestamp"):
        assert k in opened, (k, opened)
    assert {"count", "timestamp"} <= opened["message_data"].keys()
    clicked = obj("message.link_clicked")
    for k in ("grant_id", "message_id", "link_data", "recents", "timestamp"):
        assert k in clicked, (k, clicked)
    replied = obj("thread.replied")
    assert replied["object"] == "thread"
    for k in ("grant_id", "message_id", "root_message_id", "reply_to_message_id", "thread_id", "reply_data",
              "from_self", "timestamp"):
        assert k in replied, (k, replied)
    bounce = obj("message.bounce_detected")
    for k in ("bounce_reason", "bounce_date", "bounced_addresses", "type", "code", "grant_id", "origin"):
        assert k in bounce, (k, bounce)
    # (message.deleted is not a mock-payload trigger type, §4.16.)
    assert {"id", "grant_id", "object"} <= set(obj("calendar.deleted"))
    assert "name" not in obj("calendar.deleted")
    assert set(obj("contact.deleted")) == {"id", "grant_id", "object"}
    assert {"id", "grant_id", "calendar_id", "object"} <= set(obj("event.deleted"))
    assert "title" not in obj("event.deleted")
