"""v3 platform contract: domains (service account), transactional send, lists, rules, policies, workspaces,
rule evaluations, templates, workflows, signatures and API keys — driven by the unmodified official Python
SDK 6.18.0 where it has the resource, by `requests` where it has none.

What the SDK has, it is used for: `domains` (always with its `ServiceAccountSigner`: nylas 6.18 sends the
Manage Domains calls with NO Authorization header, only the four `X-Nylas-*` signing headers, and refuses
client-side without them), `transactional_send`, `lists` (`remove_items` is a DELETE with a JSON body),
`rules` (with `list_evaluations`), `policies`, `workspaces` (PATCH updates, `auto_group`, `manual_assign`),
and `messages`/`drafts` for sends. Templates, workflows, signatures and API keys have no SDK resource in
6.18: plain `requests` with the API key. Every v3 response is checked against the official OpenAPI
description by `openapi_check`.

The simulator cannot check an RSA signature (it has no public key): it accepts the four service-account
headers when all are present, the timestamp is within 5 minutes of real time and the nonce is new. The
signing key here is generated per module; the calls act on the region's organization.

Grants come from the control API (`POST /__sim/grants`); mail arrives through
`POST /__sim/providers/mailboxes/{email}/messages`; the delivery journal is `GET /__sim/webhooks/deliveries`.
"""
from __future__ import annotations

import time

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from nylas.handler.service_account import ServiceAccountSigner, canonical_json
from nylas.models.domains import Domain, DomainVerificationDetails
from nylas.models.errors import NylasApiError
from nylas.models.lists import ListItem, NylasList
from nylas.models.messages import Message
from nylas.models.policies import Policy
from nylas.models.response import DeleteResponse, ListResponse, Response
from nylas.models.rules import Rule, RuleEvaluation
from nylas.models.workspaces import Workspace, WorkspaceAutoGroupResponse, WorkspaceManualAssignResponse

from conftest import App, Sim
from receiver import Receiver

DOMAIN = "mail.acme.example"
SENDER = f"noreply@{DOMAIN}"
VERIFICATION_TYPES = ("ownership", "mx", "spf", "dkim", "feedback")
DOMAIN_FIELDS = {"id", "name", "branded", "domain_address", "organization_id", "region", "verified_ownership",
                 "verified_dkim", "verified_spf", "verified_mx", "verified_feedback", "verified_dmarc", "verified_arc",
                 "created_at", "updated_at"}
ENGINES = ("mustache", "handlebars", "nunjucks", "twig")
MISSING = "0123456789abcdef0123456789abcdef"
AUTO_GROUP_MESSAGE = ("Auto-grouping started successfully under JobID '{}', please wait for the process to "
                      "complete. It may take some time.")


# --- helpers -----------------------------------------------------------------------------------

def raw(client, method: str, path: str, body=None, query=None) -> dict:
    """A request through the SDK's own transport; returns the raw JSON (errors raise NylasApiError)."""
    response_json, _headers = client.http_client._execute(method, path, None, query, body)
    return response_json


def refused(call, status: int, error_type: str | None = None) -> NylasApiError:
    with pytest.raises(NylasApiError) as e:
        call()
    err = e.value
    assert err.status_code == status, (status, err.status_code, err.args)
    if error_type:
        assert err.type == error_type, (error_type, err.type, err.args)
    assert err.request_id
    return err


_UNSET = object()


def api(app: App, method: str, path: str, body=_UNSET, *, key: str | None = None, auth: bool = True,
        data: bytes | None = None, params=None, headers: dict | None = None, base: str | None = None) -> requests.Response:
    """A plain `requests` call with the application's API key (or `key`, or none with auth=False)."""
    h = dict(headers or {})
    if auth:
        h["Authorization"] = f"Bearer {key or app.api_key}"
    kwargs = {}
    if body is not _UNSET:
        kwargs["json"] = body
    elif data is not None:
        kwargs["data"] = data
        h.setdefault("Content-Type", "application/json")
    return requests.request(method, (base or app.base_url) + path, headers=h, params=params, timeout=15, **kwargs)


def ok(r: requests.Response, status: int = 200) -> dict:
    assert r.status_code == status, f"{r.request.method} {r.url} -> {r.status_code} (expected {status}): {r.text[:500]}"
    body = r.json()
    assert body.get("request_id"), body
    return body


def err(r: requests.Response, status: int, error_type: str | None = None) -> dict:
    assert r.status_code == status, f"{r.request.method} {r.url} -> {r.status_code} (expected {status}): {r.text[:500]}"
    body = r.json()
    assert body.get("request_id"), body
    e = body["error"]
    assert isinstance(e.get("type"), str) and isinstance(e.get("message"), str), body
    if error_type:
        assert e["type"] == error_type, body
    return e


def deliveries(sim: Sim, **params) -> list[dict]:
    r = sim.http.get(sim.us_url + "/__sim/webhooks/deliveries", params=params, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def wait_deliveries(sim: Sim, count: int, timeout: float = 5.0, **params) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        items = deliveries(sim, **params)
        if len(items) >= count:
            return items
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(items)} deliveries (expected {count}) within {timeout}s: {items}")
        time.sleep(0.02)


def deliver(sim: Sim, mailbox: str, **fields) -> dict:
    """Mail arrives in `mailbox` from outside."""
    fields.setdefault("to", [mailbox])
    r = sim.http.post(f"{sim.us_url}/__sim/providers/mailboxes/{mailbox}/messages", json=fields, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()


def wait_subject(sim: Sim, nylas, grant_id: str, subject: str, timeout: float = 5.0) -> Message:
    """The grant's message with `subject`, once a sync brought it (the clock is nudged while waiting)."""
    deadline = time.monotonic() + timeout
    while True:
        found = [m for m in nylas.messages.list(grant_id).data if m.subject == subject]
        if found:
            return found[0]
        if time.monotonic() > deadline:
            raise AssertionError(f"no message {subject!r} in {grant_id} within {timeout}s")
        sim.advance("1s")
        time.sleep(0.05)


def grant_workspace(nylas, grant_id: str) -> str | None:
    """`workspace_id` of a grant, read raw (nylas 6.18's Grant model has no such field)."""
    return raw(nylas, "GET", f"/v3/grants/{grant_id}")["data"].get("workspace_id")


def default_workspace(nylas) -> Workspace:
    defaults = [w for w in nylas.workspaces.list().data if w.default]
    assert len(defaults) == 1, defaults
    return defaults[0]


# --- service account ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def signer() -> ServiceAccountSigner:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return ServiceAccountSigner(pem, "contract-tests-service-account")


def sa_headers(signer: ServiceAccountSigner, method: str, path: str, body: dict | None = None,
               **kw) -> tuple[dict, bytes | None]:
    """The four X-Nylas-* headers (and the canonical body bytes) as the SDK builds them."""
    headers, serialized = signer.build_headers(method, path, body, **kw)
    return headers, serialized


def create_domain(nylas, signer, address: str = DOMAIN, name: str = "Acme transactional") -> Domain:
    created = nylas.domains.create({"name": name, "domain_address": address}, signer=signer)
    assert isinstance(created, Response) and created.request_id
    assert isinstance(created.data, Domain)
    return created.data


def verified_domain(nylas, signer, address: str = DOMAIN, types=("ownership", "dkim", "spf")) -> Domain:
    d = create_domain(nylas, signer, address)
    for t in types:
        nylas.domains.verify(d.id, {"type": t}, signer=signer)
    return nylas.domains.find(d.id, signer=signer).data


@pytest.fixture
def receiver():
    r = Receiver()
    try:
        yield r
    finally:
        r.close()


# --- domains -----------------------------------------------------------------------------------

def test_domains_crud_with_the_service_account_signer(reset, us, nylas, signer, monkeypatch):
    # What the SDK puts on the wire: no Authorization header, the four signing headers instead.
    seen: list[dict] = []
    real_request = requests.request

    def spy(method, url, **kw):
        seen.append(dict(kw.get("headers") or {}))
        return real_request(method, url, **kw)

    monkeypatch.setattr(requests, "request", spy)
    d = create_domain(nylas, signer)
    monkeypatch.undo()
    sent = {k.lower() for k in seen[-1]}
    assert "authorization" not in sent
    assert {"x-nylas-kid", "x-nylas-nonce", "x-nylas-timestamp", "x-nylas-signature"} <= sent
    assert reset.last_status("POST", "/v3/admin/domains") == 200
    assert (d.name, d.domain_address, d.branded, d.region) == ("Acme transactional", DOMAIN, False, "us")
    assert d.id and d.organization_id
    assert not any([d.verified_ownership, d.verified_dkim, d.verified_spf, d.verified_mx, d.verified_feedback,
                    d.verified_dmarc, d.verified_arc])
    assert d.created_at == d.updated_at == reset.now()

    found = nylas.domains.find(d.id, signer=signer).data
    assert found == d
    reset.advance("1h")
    updated = nylas.domains.update(d.id, {"name": "Acme mail"}, signer=signer).data
    assert (updated.id, updated.name, updated.domain_address) == (d.id, "Acme mail", DOMAIN)
    assert updated.updated_at == d.created_at + 3600 and updated.created_at == d.created_at
    assert [x.id for x in nylas.domains.list(signer=signer).data] == [d.id]

    gone = nylas.domains.destroy(d.id, signer=signer)
    assert isinstance(gone, DeleteResponse) and gone.request_id
    refused(lambda: nylas.domains.find(d.id, signer=signer), 404, "not_found_error")
    assert nylas.domains.list(signer=signer).data == []


def test_domains_pages_region_and_api_key(reset, us, eu, nylas, signer):
    made = [create_domain(nylas, signer, f"mail{i}.pages.example", f"Domain {i}").id for i in range(3)]
    first = nylas.domains.list(query_params={"limit": 2}, signer=signer)
    assert isinstance(first, ListResponse) and len(first.data) == 2 and first.next_cursor
    rest = nylas.domains.list(query_params={"limit": 2, "page_token": first.next_cursor}, signer=signer)
    assert len(rest.data) == 1 and not rest.next_cursor
    assert sorted(x.id for x in first.data + rest.data) == sorted(made)
    # The same organization through the API key (Authorization: Bearer, no signing headers).
    listed = ok(api(us, "GET", "/v3/admin/domains"))
    assert sorted(x["id"] for x in listed["data"]) == sorted(made)
    assert all(DOMAIN_FIELDS <= set(x) for x in listed["data"])
    one = ok(api(us, "GET", f"/v3/admin/domains/{made[0]}"))["data"]
    assert one["domain_address"] == "mail0.pages.example"
    # The EU region's organization has none of them.
    assert eu.client().domains.list(signer=signer).data == []
    err(api(eu, "GET", f"/v3/admin/domains/{made[0]}"), 404, "not_found_error")


def test_domain_info_and_verify(reset, us, nylas, signer):
    d = create_domain(nylas, signer)
    for t in VERIFICATION_TYPES:
        info = nylas.domains.get_info(d.id, {"type": t}, signer=signer)
        assert isinstance(info.data, DomainVerificationDetails)
        assert info.data.domain_id == d.id
        assert info.data.attempt.verification_type == t
        options = info.data.attempt.options
        assert options["host"] and options["type"] and options["value"], options
        wire = ok(api(us, "POST", f"/v3/admin/domains/{d.id}/info", {"type": t}))["data"]
        assert wire["status"] == "pending" and wire["attempt"]["type"] == t
        assert wire["expires_at"] > wire["created_at"] and wire["message"]
    assert ok(api(us, "POST", f"/v3/admin/domains/{d.id}/info", {"type": "ownership"}))["data"]["attempt"]["options"][
        "type"] == "TXT"

    done = nylas.domains.verify(d.id, {"type": "ownership"}, signer=signer).data
    assert done.domain_id == d.id and done.attempt.verification_type == "ownership"
    assert nylas.domains.find(d.id, signer=signer).data.verified_ownership is True
    wire = ok(api(us, "POST", f"/v3/admin/domains/{d.id}/verify", {"type": "spf"}))["data"]
    assert wire["status"] == "done"
    assert nylas.domains.find(d.id, signer=signer).data.verified_spf is True

    # A scripted DNS failure: the check fails and the flag stays false, until the switch is set back.
    reset.control("POST", f"/__sim/domains/{d.id}/verification", {"type": "dkim", "outcome": "failed"})
    wire = ok(api(us, "POST", f"/v3/admin/domains/{d.id}/verify", {"type": "dkim"}))["data"]
    assert wire["status"] == "failed"
    assert nylas.domains.find(d.id, signer=signer).data.verified_dkim is False
    reset.control("POST", f"/__sim/domains/{d.id}/verification", {"type": "dkim", "outcome": "verified"})
    nylas.domains.verify(d.id, {"type": "dkim"}, signer=signer)
    final = nylas.domains.find(d.id, signer=signer).data
    assert (final.verified_ownership, final.verified_spf, final.verified_dkim) == (True, True, True)
    assert (final.verified_mx, final.verified_feedback, final.verified_dmarc, final.verified_arc) == (
        False, False, False, False)


def test_domain_validation(reset, us, nylas, signer):
    d = create_domain(nylas, signer)
    refused(lambda: nylas.domains.create({"name": "Again", "domain_address": DOMAIN}, signer=signer), 400,
            "invalid_request_error")
    refused(lambda: nylas.domains.create({"name": "No address"}, signer=signer), 400, "invalid_request_error")
    refused(lambda: nylas.domains.create({"domain_address": "noname.example"}, signer=signer), 400,
            "invalid_request_error")
    refused(lambda: nylas.domains.get_info(d.id, {"type": "dmarc"}, signer=signer), 400, "invalid_request_error")
    refused(lambda: nylas.domains.verify(d.id, {}, signer=signer), 400, "invalid_request_error")
    refused(lambda: nylas.domains.find(MISSING, signer=signer), 404, "not_found_error")
    refused(lambda: nylas.domains.update(MISSING, {"name": "x"}, signer=signer), 404, "not_found_error")
    refused(lambda: nylas.domains.destroy(MISSING, signer=signer), 404, "not_found_error")
    refused(lambda: nylas.domains.get_info(MISSING, {"type": "ownership"}, signer=signer), 404, "not_found_error")
    refused(lambda: nylas.domains.verify(MISSING, {"type": "ownership"}, signer=signer), 404, "not_found_error")
    # The SDK itself refuses to send a domains call without the signing headers.
    with pytest.raises(ValueError):
        nylas.domains.list()


def test_service_account_headers_without_authorization(reset, us, signer):
    path = "/v3/admin/domains"
    headers, _ = sa_headers(signer, "GET", path)
    r = api(us, "GET", path, auth=False, headers=headers)
    assert ok(r)["data"] == []
    # A signed create with the canonical body bytes, as the SDK sends it.
    body = {"name": "Raw", "domain_address": "raw.acme.example"}
    headers, serialized = sa_headers(signer, "POST", path, body)
    assert serialized == canonical_json(body).encode()
    created = ok(api(us, "POST", path, auth=False, headers=headers, data=serialized))["data"]
    assert created["domain_address"] == "raw.acme.example" and DOMAIN_FIELDS <= set(created)

    # The same nonce twice: the replay is refused.
    headers, _ = sa_headers(signer, "GET", path)
    ok(api(us, "GET", path, auth=False, headers=headers))
    err(api(us, "GET", path, auth=False, headers=headers), 401)
    # A timestamp outside the 5-minute window (real time), either way.
    for skew in (-3600, -400, 400):
        headers, _ = sa_headers(signer, "GET", path, timestamp=int(time.time()) + skew)
        err(api(us, "GET", path, auth=False, headers=headers), 401)
    # One header missing, or none at all.
    for dropped in ("X-Nylas-Kid", "X-Nylas-Nonce", "X-Nylas-Timestamp", "X-Nylas-Signature"):
        headers, _ = sa_headers(signer, "GET", path)
        del headers[dropped]
        err(api(us, "GET", path, auth=False, headers=headers), 401)
    err(api(us, "GET", path, auth=False), 401)


# --- transactional send ------------------------------------------------------------------------

def test_transactional_send_from_a_verified_domain(reset, us, nylas, signer, receiver):
    sim = reset
    d = verified_domain(nylas, signer)
    assert (d.verified_ownership, d.verified_dkim, d.verified_spf) == (True, True, True)
    rcpt = sim.create_grant("rcpt.one@gmail.com", "google")
    hook = raw(nylas, "POST", "/v3/webhooks", {"trigger_types": ["message.transactional.delivered"],
                                              "webhook_url": receiver.url})["data"]["id"]

    resp = nylas.transactional_send.send(DOMAIN, {
        "from_": {"email": SENDER, "name": "Acme"},
        "to": [{"email": "rcpt.one@gmail.com", "name": "Rcpt One"}, {"email": "outside@example.org"}],
        "subject": "Your receipt", "body": "<p>Thanks for your order</p>"})
    assert resp.request_id
    sent = resp.data
    assert isinstance(sent, Message)
    assert sent.grant_id is None and sent.object == "message" and sent.id
    assert sent.from_ == [{"email": SENDER, "name": "Acme"}]
    assert [t["email"] for t in sent.to] == ["rcpt.one@gmail.com", "outside@example.org"]
    assert (sent.subject, sent.body) == ("Your receipt", "<p>Thanks for your order</p>")
    assert sent.snippet and sent.attachments == []
    assert sim.last_status("POST", f"/v3/domains/{DOMAIN}/messages/send") == 200

    # The simulated mailbox among the recipients receives it.
    got = wait_subject(sim, nylas, rcpt["id"], "Your receipt")
    assert got.from_[0]["email"] == SENDER
    assert "Thanks for your order" in (nylas.messages.find(rcpt["id"], got.id).data.body or "")
    # One message.transactional.delivered per recipient.
    sim.advance("1s")
    notes = wait_deliveries(sim, 2, webhook_id=hook)
    assert {n["type"] for n in notes} == {"message.transactional.delivered"}
    assert len(notes) == 2


def test_transactional_send_renders_a_template(reset, us, nylas, signer):
    verified_domain(nylas, signer)
    tpl = ok(api(us, "POST", "/v3/templates", {"name": "Receipt", "subject": "Receipt for {{user.name}}",
                                               "body": "<p>Hello {{user.name}}</p>"}))["data"]
    sent = nylas.transactional_send.send(DOMAIN, {
        "from_": {"email": SENDER}, "to": [{"email": "buyer@example.org"}],
        "template": {"id": tpl["id"], "variables": {"user": {"name": "Ada"}}}}).data
    assert (sent.subject, sent.body) == ("Receipt for Ada", "<p>Hello Ada</p>")
    # strict (the default) and a variable missing: refused, naming it.
    e = refused(lambda: nylas.transactional_send.send(DOMAIN, {
        "from_": {"email": SENDER}, "to": [{"email": "buyer@example.org"}],
        "template": {"id": tpl["id"], "variables": {}}}), 400, "invalid_request_error")
    assert "user.name" in str(e), str(e)


def test_transactional_send_refused(reset, us, nylas, signer):
    create_domain(nylas, signer, "unverified.acme.example")
    body = lambda sender: {"from_": {"email": sender}, "to": [{"email": "x@example.org"}], "subject": "s", "body": "b"}
    refused(lambda: nylas.transactional_send.send("unverified.acme.example", body("a@unverified.acme.example")), 400,
            "invalid_request_error")
    # Ownership alone is not enough: dkim and spf are needed too.
    verified_domain(nylas, signer, "half.acme.example", types=("ownership",))
    refused(lambda: nylas.transactional_send.send("half.acme.example", body("a@half.acme.example")), 400,
            "invalid_request_error")
    refused(lambda: nylas.transactional_send.send("nowhere.example", body("a@nowhere.example")), 404,
            "not_found_error")
    verified_domain(nylas, signer)
    refused(lambda: nylas.transactional_send.send(DOMAIN, body("someone@other.example")), 400, "invalid_request_error")
    refused(lambda: nylas.transactional_send.send(DOMAIN, {"from_": {"email": SENDER}, "subject": "no recipients"}),
            400, "invalid_request_error")
    refused(lambda: nylas.transactional_send.send(DOMAIN, {"to": [{"email": "x@example.org"}], "subject": "no from"}),
            400, "invalid_request_error")


# --- lists -------------------------------------------------------------------------------------

def test_lists_crud(reset, us, nylas):
    created = nylas.lists.create({"name": "Blocked domains", "type": "domain", "description": "known spam"})
    assert reset.last_status("POST", "/v3/lists") == 201
    lst = created.data
    assert isinstance(lst, NylasList) and lst.id
    assert (lst.name, lst.type, lst.description, lst.items_count) == ("Blocked domains", "domain", "known spam", 0)
    assert lst.application_id == us.application_id and lst.organization_id
    assert lst.created_at == lst.updated_at
    other = nylas.lists.create({"name": "VIPs", "type": "address"}).data
    assert {x.id for x in nylas.lists.list().data} == {lst.id, other.id}
    assert nylas.lists.find(lst.id).data.name == "Blocked domains"

    renamed = nylas.lists.update(lst.id, {"name": "Spam domains", "description": "updated"}).data
    assert (renamed.name, renamed.description, renamed.type) == ("Spam domains", "updated", "domain")
    refused(lambda: nylas.lists.update(lst.id, {"type": "tld"}), 400, "invalid_request_error")
    refused(lambda: nylas.lists.update(lst.id, {"name": ""}), 400, "invalid_request_error")
    refused(lambda: nylas.lists.update(lst.id, {"name": "x" * 257}), 400, "invalid_request_error")
    refused(lambda: nylas.lists.create({"name": "No type"}), 400, "invalid_request_error")
    refused(lambda: nylas.lists.create({"name": "Bad type", "type": "regex"}), 400, "invalid_request_error")
    assert isinstance(nylas.lists.destroy(lst.id), DeleteResponse)
    refused(lambda: nylas.lists.find(lst.id), 404, "not_found_error")
    refused(lambda: nylas.lists.list_items(lst.id), 404, "not_found_error")
    assert [x.id for x in nylas.lists.list().data] == [other.id]


def test_list_items_are_normalized_and_validated(reset, us, nylas):
    lst = nylas.lists.create({"name": "Domains", "type": "domain"}).data
    added = nylas.lists.add_items(lst.id, {"items": ["  Spam.Example.COM ", "junk.example.org", "spam.example.com"]})
    assert isinstance(added.data, NylasList) and added.data.items_count == 2
    assert reset.last_status("POST", f"/v3/lists/{lst.id}/items") == 200
    items = nylas.lists.list_items(lst.id).data
    assert all(isinstance(i, ListItem) and i.id and i.list_id == lst.id and i.created_at for i in items)
    assert sorted(i.value for i in items) == ["junk.example.org", "spam.example.com"]
    removed = nylas.lists.remove_items(lst.id, {"items": ["JUNK.example.org", "never-there.example"]})
    assert removed.data.items_count == 1
    assert [i.value for i in nylas.lists.list_items(lst.id).data] == ["spam.example.com"]
    assert nylas.lists.find(lst.id).data.items_count == 1

    for bad in (["nodots"], ["x" * 495 + ".com" + "m" * 10], [f"d{i}.example" for i in range(1001)]):
        refused(lambda: nylas.lists.add_items(lst.id, {"items": bad}), 400, "invalid_request_error")
    tlds = nylas.lists.create({"name": "TLDs", "type": "tld"}).data
    assert nylas.lists.add_items(tlds.id, {"items": ["XYZ", " top "]}).data.items_count == 2
    refused(lambda: nylas.lists.add_items(tlds.id, {"items": ["co.uk"]}), 400, "invalid_request_error")
    people = nylas.lists.create({"name": "People", "type": "address"}).data
    assert nylas.lists.add_items(people.id, {"items": ["Ceo@Rival.Example"]}).data.items_count == 1
    assert [i.value for i in nylas.lists.list_items(people.id).data] == ["ceo@rival.example"]
    refused(lambda: nylas.lists.add_items(people.id, {"items": ["rival.example"]}), 400, "invalid_request_error")
    assert nylas.lists.find(lst.id).data.items_count == 1  # nothing of the refused batches went in
    refused(lambda: nylas.lists.add_items(MISSING, {"items": ["a.example"]}), 404, "not_found_error")


# --- rules -------------------------------------------------------------------------------------

def rule_body(**overrides) -> dict:
    body = {"name": "Junk promos", "match": {"conditions": [{"field": "from.domain", "operator": "is",
                                                             "value": "promo.example"}]},
            "actions": [{"type": "mark_as_spam"}]}
    body.update(overrides)
    return body


def test_rules_crud(reset, us, nylas):
    created = nylas.rules.create(rule_body(description="promotions to spam"))
    assert reset.last_status("POST", "/v3/rules") == 201
    r = created.data
    assert isinstance(r, Rule) and r.id
    assert (r.name, r.description, r.priority, r.enabled, r.trigger) == (
        "Junk promos", "promotions to spam", 10, True, "inbound")
    assert [(c.field, c.operator, c.value) for c in r.match.conditions] == [("from.domain", "is", "promo.example")]
    assert [(a.type, a.value) for a in r.actions] == [("mark_as_spam", None)]
    assert r.application_id == us.application_id and r.organization_id and r.created_at == r.updated_at

    out = nylas.rules.create(rule_body(name="Archive sent to partners", trigger="outbound", priority=1,
                                       match={"operator": "any", "conditions": [
                                           {"field": "recipient.domain", "operator": "is", "value": "partner.example"},
                                           {"field": "outbound.type", "operator": "is", "value": "reply"}]},
                                       actions=[{"type": "archive"}, {"type": "assign_to_folder", "value": "Partners"}]))
    o = out.data
    assert (o.trigger, o.priority, o.match.operator) == ("outbound", 1, "any")
    assert [(c.field, c.value) for c in o.match.conditions] == [("recipient.domain", "partner.example"),
                                                                 ("outbound.type", "reply")]
    assert [(a.type, a.value) for a in o.actions] == [("archive", None), ("assign_to_folder", "Partners")]
    assert {x.id for x in nylas.rules.list().data} == {r.id, o.id}

    reset.advance("10m")
    upd = nylas.rules.update(r.id, {"name": "Promos", "enabled": False, "priority": 500}).data
    assert (upd.name, upd.enabled, upd.priority, upd.description) == ("Promos", False, 500, "promotions to spam")
    assert upd.updated_at == r.created_at + 600
    assert nylas.rules.find(r.id).data.enabled is False
    assert isinstance(nylas.rules.destroy(r.id), DeleteResponse)
    refused(lambda: nylas.rules.find(r.id), 404, "not_found_error")
    refused(lambda: nylas.rules.update(r.id, {"name": "x"}), 404, "not_found_error")
    refused(lambda: nylas.rules.destroy(r.id), 404, "not_found_error")


RULE_REFUSALS = {
    "no-name": rule_body(name=None),
    "no-conditions": rule_body(match={"conditions": []}),
    "no-actions": rule_body(actions=[]),
    "recipient-on-inbound": rule_body(match={"conditions": [{"field": "recipient.domain", "operator": "is",
                                                             "value": "x.example"}]}),
    "block-plus-read-outbound": rule_body(trigger="outbound", actions=[{"type": "block"}, {"type": "mark_as_read"}]),
    "block-plus-trash": rule_body(actions=[{"type": "block"}, {"type": "trash"}]),
    "outbound-type-contains": rule_body(trigger="outbound", match={"conditions": [
        {"field": "outbound.type", "operator": "contains", "value": "rep"}]}),
    "outbound-type-in-list": rule_body(trigger="outbound", match={"conditions": [
        {"field": "outbound.type", "operator": "in_list", "value": [MISSING]}]}),
    "in-list-unknown-list": rule_body(match={"conditions": [{"field": "from.domain", "operator": "in_list",
                                                             "value": [MISSING]}]}),
    "unknown-field": rule_body(match={"conditions": [{"field": "subject", "operator": "is", "value": "x"}]}),
    "unknown-operator": rule_body(match={"conditions": [{"field": "from.domain", "operator": "matches", "value": "x"}]}),
    "unknown-match-operator": rule_body(match={"operator": "some", "conditions": [
        {"field": "from.domain", "operator": "is", "value": "x"}]}),
    "unknown-action": rule_body(actions=[{"type": "explode"}]),
    "priority-too-high": rule_body(priority=1001),
    "priority-negative": rule_body(priority=-1),
    "unknown-trigger": rule_body(trigger="sideways"),
}


def test_rule_validation(reset, nylas):
    problems = []
    for label, body in RULE_REFUSALS.items():
        body = {k: v for k, v in body.items() if v is not None}
        try:
            nylas.rules.create(body)
            problems.append(f"{label}: accepted")
        except NylasApiError as e:
            if (e.status_code, e.type) != (400, "invalid_request_error"):
                problems.append(f"{label}: {e.status_code} {e.type} {e}")
    assert not problems, "\n".join(problems)
    assert nylas.rules.list().data == []
    # An in_list condition naming an existing list is fine.
    lst = nylas.lists.create({"name": "Spam domains", "type": "domain"}).data
    ok_rule = nylas.rules.create(rule_body(match={"conditions": [{"field": "from.domain", "operator": "in_list",
                                                                  "value": [lst.id]}]})).data
    assert ok_rule.match.conditions[0].value == [lst.id]


# --- policies ----------------------------------------------------------------------------------

def test_policies_crud_and_partial_update(reset, us, nylas):
    created = nylas.policies.create({
        "name": "Standard", "limits": {"limit_attachment_count_limit": 10, "limit_inbox_retention_period": 365,
                                       "limit_spam_retention_period": 30},
        "spam_detection": {"use_list_dnsbl": True, "use_header_anomaly_detection": False, "spam_sensitivity": 1.5}})
    assert reset.last_status("POST", "/v3/policies") == 200
    p = created.data
    assert isinstance(p, Policy) and p.id
    assert p.name == "Standard" and p.application_id == us.application_id and p.organization_id
    assert (p.limits.limit_attachment_count_limit, p.limits.limit_inbox_retention_period,
            p.limits.limit_spam_retention_period) == (10, 365, 30)
    assert (p.spam_detection.use_list_dnsbl, p.spam_detection.use_header_anomaly_detection,
            p.spam_detection.spam_sensitivity) == (True, False, 1.5)
    assert p.created_at == p.updated_at

    # PUT is partial: only the fields given change.
    renamed = nylas.policies.update(p.id, {"name": "Strict"}).data
    assert renamed.name == "Strict"
    assert renamed.limits.limit_attachment_count_limit == 10 and renamed.spam_detection.spam_sensitivity == 1.5
    tuned = nylas.policies.update(p.id, {"spam_detection": {"spam_sensitivity": 3.0}}).data
    assert tuned.spam_detection.spam_sensitivity == 3.0 and tuned.name == "Strict"
    assert nylas.policies.find(p.id).data.spam_detection.spam_sensitivity == 3.0

    second = nylas.policies.create({"name": "Second"}).data
    first = nylas.policies.list(query_params={"limit": 1})
    assert len(first.data) == 1 and first.next_cursor
    rest = nylas.policies.list(query_params={"limit": 1, "page_token": first.next_cursor})
    assert {x.id for x in first.data + rest.data} == {p.id, second.id} and not rest.next_cursor
    assert isinstance(nylas.policies.destroy(p.id), DeleteResponse)
    refused(lambda: nylas.policies.find(p.id), 404, "not_found_error")
    refused(lambda: nylas.policies.update(p.id, {"name": "x"}), 404, "not_found_error")


def test_policy_validation(reset, nylas):
    problems = []
    for label, body in {"no-name": {"limits": {"limit_attachment_count_limit": 5}},
                        "empty-name": {"name": ""},
                        "name-not-a-string": {"name": ["Standard"]},
                        "limits-not-an-object": {"name": "L", "limits": "plenty"},
                        "spam-detection-not-an-object": {"name": "S", "spam_detection": [1]}}.items():
        try:
            nylas.policies.create(body)
            problems.append(f"{label}: accepted")
        except NylasApiError as e:
            if (e.status_code, e.type) != (400, "invalid_request_error"):
                problems.append(f"{label}: {e.status_code} {e.type} {e}")
    assert not problems, "\n".join(problems)
    assert nylas.policies.list().data == []


# --- workspaces --------------------------------------------------------------------------------

def test_default_workspace(reset, us, nylas):
    listed = nylas.workspaces.list()
    assert isinstance(listed, ListResponse)
    d = default_workspace(nylas)
    assert isinstance(d, Workspace)
    assert (d.name, d.domain, d.auto_group, d.default) == ("Default", "", False, True)
    assert d.application_id == us.application_id and d.workspace_id
    assert nylas.workspaces.find(d.workspace_id).data.workspace_id == d.workspace_id

    # Only policy_id and rule_ids change on it; it cannot be deleted.
    refused(lambda: nylas.workspaces.update(d.workspace_id, {"name": "Renamed"}), 400, "invalid_request_error")
    refused(lambda: nylas.workspaces.update(d.workspace_id, {"auto_group": True}), 400, "invalid_request_error")
    refused(lambda: nylas.workspaces.destroy(d.workspace_id), 400, "invalid_request_error")
    policy = nylas.policies.create({"name": "Default policy"}).data
    rule = nylas.rules.create(rule_body()).data
    upd = nylas.workspaces.update(d.workspace_id, {"policy_id": policy.id, "rule_ids": [rule.id]}).data
    assert (upd.policy_id, upd.rule_ids, upd.name, upd.default) == (policy.id, [rule.id], "Default", True)
    cleared = nylas.workspaces.update(d.workspace_id, {"policy_id": None, "rule_ids": []}).data
    assert cleared.policy_id is None and not cleared.rule_ids
    kept = nylas.workspaces.update(d.workspace_id, {"rule_ids": [rule.id]}).data
    assert kept.rule_ids == [rule.id] and kept.policy_id is None  # an omitted field keeps its value


def test_workspace_crud_and_validation(reset, us, nylas):
    policy = nylas.policies.create({"name": "Acme policy"}).data
    rule = nylas.rules.create(rule_body()).data
    ws = nylas.workspaces.create({"name": "Acme", "domain": "acme.example", "policy_id": policy.id,
                                  "rule_ids": [rule.id]}).data
    assert reset.last_status("POST", "/v3/workspaces") == 200
    assert (ws.name, ws.domain, ws.auto_group, ws.default) == ("Acme", "acme.example", True, False)
    assert (ws.policy_id, ws.rule_ids, ws.application_id) == (policy.id, [rule.id], us.application_id)
    assert ws.created_at == ws.updated_at
    assert {w.workspace_id for w in nylas.workspaces.list().data} == {ws.workspace_id,
                                                                       default_workspace(nylas).workspace_id}

    refused(lambda: nylas.workspaces.create({"name": "Acme again", "domain": "acme.example"}), 400,
            "invalid_request_error")
    refused(lambda: nylas.workspaces.create({"name": "No domain"}), 400, "invalid_request_error")
    refused(lambda: nylas.workspaces.create({"domain": "noname.example"}), 400, "invalid_request_error")
    refused(lambda: nylas.workspaces.create({"name": "P", "domain": "p.example", "policy_id": MISSING}), 400,
            "invalid_request_error")
    refused(lambda: nylas.workspaces.create({"name": "R", "domain": "r.example", "rule_ids": [MISSING]}), 400,
            "invalid_request_error")

    reset.advance("5m")
    upd = nylas.workspaces.update(ws.workspace_id, {"name": "Acme Corp", "auto_group": False, "policy_id": None}).data
    assert (upd.name, upd.auto_group, upd.policy_id, upd.rule_ids) == ("Acme Corp", False, None, [rule.id])
    assert upd.updated_at == ws.created_at + 300
    refused(lambda: nylas.workspaces.update(ws.workspace_id, {"domain": "other.example"}), 400,
            "invalid_request_error")
    refused(lambda: nylas.workspaces.update(ws.workspace_id, {"rule_ids": [MISSING]}), 400, "invalid_request_error")
    assert isinstance(nylas.workspaces.destroy(ws.workspace_id), DeleteResponse)
    refused(lambda: nylas.workspaces.find(ws.workspace_id), 404, "not_found_error")
    refused(lambda: nylas.workspaces.update(MISSING, {"name": "x"}), 404, "not_found_error")
    refused(lambda: nylas.workspaces.destroy(MISSING), 404, "not_found_error")


def test_manual_assign_and_delete_moves_grants_to_default(reset, us, nylas):
    sim = reset
    g1 = sim.create_grant("ann@manual.example", "google")["id"]
    g2 = sim.create_grant("bob@manual.example", "google")["id"]
    default_id = default_workspace(nylas).workspace_id
    # A grant no auto-group workspace claims: in the default workspace (the description) or in none.
    assert grant_workspace(nylas, g1) in (default_id, None)
    ws = nylas.workspaces.create({"name": "Manual", "domain": "manual.example", "auto_group": False}).data
    assert ws.auto_group is False

    resp = nylas.workspaces.manual_assign(ws.workspace_id, {"assign_grants": [g1, g2]})
    assert isinstance(resp.data, WorkspaceManualAssignResponse)
    a = resp.data
    assert (a.application_id, a.workspace_id, a.domain) == (us.application_id, ws.workspace_id, "manual.example")
    assert sorted(a.grants_assigned) == sorted([g1, g2]) and not a.grants_removed
    assert grant_workspace(nylas, g1) == grant_workspace(nylas, g2) == ws.workspace_id
    r = nylas.workspaces.manual_assign(ws.workspace_id, {"remove_grants": [g2]}).data
    assert r.grants_removed == [g2] and not r.grants_assigned
    assert grant_workspace(nylas, g2) != ws.workspace_id

    refused(lambda: nylas.workspaces.manual_assign(ws.workspace_id, {}), 400, "invalid_request_error")
    refused(lambda: nylas.workspaces.manual_assign(ws.workspace_id, {"assign_grants": [], "remove_grants": []}), 400,
            "invalid_request_error")
    refused(lambda: nylas.workspaces.manual_assign(ws.workspace_id, {"assign_grants": [f"g{i}" for i in range(501)]}),
            400, "invalid_request_error")
    auto = nylas.workspaces.create({"name": "Auto", "domain": "auto.example"}).data
    refused(lambda: nylas.workspaces.manual_assign(auto.workspace_id, {"assign_grants": [g2]}), 400,
            "invalid_request_error")
    refused(lambda: nylas.workspaces.manual_assign(MISSING, {"assign_grants": [g2]}), 404, "not_found_error")

    nylas.workspaces.destroy(ws.workspace_id)
    assert grant_workspace(nylas, g1) == default_id


def test_auto_group_assigns_grants_by_domain(reset, us, nylas):
    sim = reset
    early = sim.create_grant("early@auto.example", "google")["id"]
    stranger = sim.create_grant("someone@elsewhere.example", "google")["id"]
    default_id = default_workspace(nylas).workspace_id
    assert grant_workspace(nylas, early) in (default_id, None)
    ws = nylas.workspaces.create({"name": "Auto", "domain": "auto.example"}).data
    assert ws.auto_group is True

    job = nylas.workspaces.auto_group()
    assert isinstance(job.data, WorkspaceAutoGroupResponse)
    assert job.data.job_id and job.data.message == AUTO_GROUP_MESSAGE.format(job.data.job_id)
    deadline = time.monotonic() + 5
    while grant_workspace(nylas, early) != ws.workspace_id and time.monotonic() < deadline:
        sim.advance("1s")
        time.sleep(0.05)
    assert grant_workspace(nylas, early) == ws.workspace_id
    assert grant_workspace(nylas, stranger) in (default_id, None)
    # A grant created afterwards joins the matching auto-group workspace at once.
    late = sim.create_grant("late@auto.example", "microsoft")["id"]
    assert grant_workspace(nylas, late) == ws.workspace_id
    assert grant_workspace(nylas, sim.create_grant("x@other.example", "google")["id"]) in (default_id, None)


# --- rule evaluations --------------------------------------------------------------------------

def test_outbound_block_rule_refuses_the_send_and_is_recorded(reset, us, nylas):
    sim = reset
    gid = sim.create_grant("sender@gmail.com", "google")["id"]
    rule = nylas.rules.create({"name": "No mail to rivals", "trigger": "outbound",
                               "match": {"conditions": [{"field": "recipient.domain", "operator": "is",
                                                         "value": "rival.example"}]},
                               "actions": [{"type": "block"}]}).data
    e = refused(lambda: nylas.messages.send(gid, {"to": [{"email": "friend@partner.example"}],
                                                  "cc": [{"email": "ceo@rival.example"}],
                                                  "subject": "Secret plans", "body": "<p>x</p>"}), 403, "forbidden")
    assert e.request_id
    assert [m for m in nylas.messages.list(gid).data if m.subject == "Secret plans"] == []

    evals = nylas.rules.list_evaluations(gid)
    assert isinstance(evals, ListResponse) and len(evals.data) == 1
    ev = evals.data[0]
    assert isinstance(ev, RuleEvaluation)
    assert (ev.grant_id, ev.evaluation_stage, ev.message_id) == (gid, "outbound_send", None)
    assert ev.matched_rule_ids == [rule.id] and ev.applied_actions.blocked is True
    assert (ev.evaluation_input.from_address, ev.evaluation_input.from_domain, ev.evaluation_input.from_tld) == (
        "sender@gmail.com", "gmail.com", "com")
    assert ev.application_id == us.application_id and ev.organization_id and ev.evaluated_at == sim.now()
    wire = raw(nylas, "GET", f"/v3/grants/{gid}/rule-evaluations")["data"][0]
    assert sorted(wire["evaluation_input"]["recipient_domains"]) == ["partner.example", "rival.example"]
    assert sorted(wire["evaluation_input"]["recipient_addresses"]) == ["ceo@rival.example", "friend@partner.example"]
    assert wire["evaluation_input"]["outbound_type"] == "compose"
    assert set(wire["applied_actions"]) == {"blocked"}  # only the applied actions are present

    # A send the rule does not match goes out, and is recorded too (newest first), with its sent copy.
    sim.advance("1m")
    sent = nylas.messages.send(gid, {"to": [{"email": "friend@partner.example"}], "subject": "Lunch?",
                                     "body": "<p>y</p>"}).data
    evals = nylas.rules.list_evaluations(gid).data
    assert len(evals) == 2 and evals[0].evaluated_at > evals[1].evaluated_at
    assert evals[0].matched_rule_ids == [] and evals[0].message_id == sent.id
    assert not evals[0].applied_actions or evals[0].applied_actions.blocked is None
    # Disabled, the rule no longer blocks.
    nylas.rules.update(rule.id, {"enabled": False})
    assert nylas.messages.send(gid, {"to": [{"email": "ceo@rival.example"}], "subject": "Truce",
                                     "body": "<p>z</p>"}).data.id
    page = nylas.rules.list_evaluations(gid, query_params={"limit": 2})
    assert len(page.data) == 2 and page.next_cursor
    refused(lambda: nylas.rules.list_evaluations("no-such-grant"), 404)


def test_outbound_rule_through_a_list(reset, us, nylas):
    sim = reset
    gid = sim.create_grant("lists.sender@gmail.com", "google")["id"]
    rivals = nylas.lists.create({"name": "Rivals", "type": "domain"}).data
    rule = nylas.rules.create({"name": "Rivals by list", "trigger": "outbound",
                               "match": {"conditions": [{"field": "recipient.domain", "operator": "in_list",
                                                         "value": [rivals.id]}]},
                               "actions": [{"type": "block"}]}).data
    nylas.messages.send(gid, {"to": [{"email": "a@rival-one.example"}], "subject": "Before", "body": "b"})
    nylas.lists.add_items(rivals.id, {"items": ["Rival-One.example"]})
    refused(lambda: nylas.messages.send(gid, {"to": [{"email": "a@rival-one.example"}], "subject": "After",
                                              "body": "b"}), 403, "forbidden")
    assert nylas.rules.list_evaluations(gid).data[0].matched_rule_ids == [rule.id]
    nylas.lists.remove_items(rivals.id, {"items": ["rival-one.example"]})
    assert nylas.messages.send(gid, {"to": [{"email": "a@rival-one.example"}], "subject": "Again",
                                     "body": "b"}).data.id
    # An inbound rule never runs on a send.
    nylas.rules.create({"name": "Inbound only", "match": {"conditions": [
        {"field": "from.domain", "operator": "is", "value": "gmail.com"}]}, "actions": [{"type": "block"}]})
    assert nylas.messages.send(gid, {"to": [{"email": "x@example.org"}], "subject": "Fine", "body": "b"}).data.id


def test_inbound_rules_of_the_workspace_apply_to_received_mail(reset, us, nylas):
    sim = reset
    tidy = nylas.rules.create({"name": "Promos read and starred", "match": {"conditions": [
        {"field": "from.domain", "operator": "is", "value": "promo.example"}]},
        "actions": [{"type": "mark_as_read"}, {"type": "mark_as_starred"}]}).data
    block = nylas.rules.create({"name": "Drop spammers", "priority": 1, "match": {"conditions": [
        {"field": "from.tld", "operator": "is", "value": "spam"}]}, "actions": [{"type": "block"}]}).data
    ws = nylas.workspaces.create({"name": "Rules at work", "domain": "rules.example",
                                  "rule_ids": [tidy.id, block.id]}).data
    # A grant of that domain joins the auto-group workspace, whose rules then run on its mail.
    mailbox = "inbox@rules.example"
    gid = sim.create_grant(mailbox, "google")["id"]
    assert grant_workspace(nylas, gid) == ws.workspace_id
    # A grant outside the workspace is not filtered by its rules.
    outsider = sim.create_grant("outsider@gmail.com", "google")["id"]
    deliver(sim, "outsider@gmail.com", **{"from": {"email": "deals@promo.example"}, "subject": "Outside deal",
                                          "body": "<p>deal</p>"})
    outside = wait_subject(sim, nylas, outsider, "Outside deal")
    assert (outside.unread, outside.starred) == (True, False)

    deliver(sim, mailbox, **{"from": {"email": "deals@promo.example"}, "subject": "50% off", "body": "<p>deal</p>"})
    deliver(sim, mailbox, **{"from": {"email": "x@buy.spam"}, "subject": "Pills", "body": "<p>no</p>"})
    deliver(sim, mailbox, **{"from": {"email": "friend@example.org"}, "subject": "Hi", "body": "<p>hi</p>"})
    promo = wait_subject(sim, nylas, gid, "50% off")
    hi = wait_subject(sim, nylas, gid, "Hi")
    assert (promo.unread, promo.starred) == (False, True)
    assert hi.unread is True
    assert [m for m in nylas.messages.list(gid).data if m.subject == "Pills"] == []  # blocked: never stored

    evals = nylas.rules.list_evaluations(gid).data
    by_message = {e.message_id: e for e in evals if e.message_id}
    ev = by_message[promo.id]
    assert ev.evaluation_stage == "inbox_processing" and ev.matched_rule_ids == [tidy.id]
    assert (ev.applied_actions.marked_as_read, ev.applied_actions.marked_starred) == (True, True)
    assert ev.evaluation_input.from_domain == "promo.example"
    blocked = [e for e in evals if e.applied_actions and e.applied_actions.blocked]
    assert len(blocked) == 1 and blocked[0].matched_rule_ids == [block.id]
    assert blocked[0].evaluation_input.from_tld == "spam"


# --- templates ---------------------------------------------------------------------------------

RENDER_CASES = {
    "mustache": ("Hi {{user.name}}! {{{raw}}} {{esc}} {{#items}}[{{n}}]{{/items}}{{#flag}} yes{{/flag}}",
                 {"items": [{"n": "a"}, {"n": "b"}]}, "Dear {{missing_name}}."),
    "handlebars": ("Hi {{user.name}}! {{{raw}}} {{esc}} {{#each items}}[{{this}}]{{/each}}{{#if flag}} yes{{/if}}",
                   {"items": ["a", "b"]}, "Dear {{missing_name}}."),
    "nunjucks": ("Hi {{ user.name }}! {{ raw | safe }} {{ esc }} {% for i in items %}[{{ i }}]{% endfor %}"
                 "{% if flag %} yes{% endif %}", {"items": ["a", "b"]}, "Dear {{ missing_name }}."),
    "twig": ("Hi {{ user.name }}! {{ raw|raw }} {{ esc }} {% for i in items %}[{{ i }}]{% endfor %}"
             "{% if flag %} yes{% endif %}", {"items": ["a", "b"]}, "Dear {{ missing_name }}."),
}
RENDER_VARIABLES = {"user": {"name": "Ada"}, "raw": "<b>bold</b>", "esc": "<i>", "flag": True}
RENDERED = "Hi Ada! <b>bold</b> &lt;i&gt; [a][b] yes"


def template(app: App, path: str = "/v3/templates", **fields) -> dict:
    body = {"name": "Welcome", "subject": "Welcome {{user.name}}", "body": "<p>Hello {{user.name}}</p>"}
    body.update(fields)
    return ok(api(app, "POST", path, body))["data"]


def test_app_templates_crud_and_pages(reset, us):
    t = template(us)
    assert t["id"] and t["object"] == "template" and t["engine"] == "mustache"
    assert (t["name"], t["subject"], t["body"]) == ("Welcome", "Welcome {{user.name}}", "<p>Hello {{user.name}}</p>")
    assert t["app_id"] == us.application_id and t["grant_id"] is None
    assert t["created_at"] == t["updated_at"] == reset.now()
    assert ok(api(us, "GET", f"/v3/templates/{t['id']}"))["data"] == t

    reset.advance("1h")
    upd = ok(api(us, "PUT", f"/v3/templates/{t['id']}", {"name": "Welcome v2", "engine": "handlebars"}))["data"]
    assert (upd["name"], upd["engine"], upd["subject"], upd["body"]) == (
        "Welcome v2", "handlebars", t["subject"], t["body"])
    assert upd["updated_at"] == t["created_at"] + 3600 and upd["created_at"] == t["created_at"]

    ids = {t["id"]} | {template(us, name=f"T{i}")["id"] for i in range(2)}
    first = ok(api(us, "GET", "/v3/templates", params={"limit": 2}))
    assert len(first["data"]) == 2 and isinstance(first["next_cursor"], str) and first["next_cursor"]
    rest = ok(api(us, "GET", "/v3/templates", params={"limit": 2, "page_token": first["next_cursor"]}))
    assert len(rest["data"]) == 1 and not rest.get("next_cursor")
    assert {x["id"] for x in first["data"] + rest["data"]} == ids

    assert set(ok(api(us, "DELETE", f"/v3/templates/{t['id']}"))) >= {"request_id"}
    err(api(us, "GET", f"/v3/templates/{t['id']}"), 404, "not_found_error")
    err(api(us, "PUT", f"/v3/templates/{t['id']}", {"name": "x"}), 404, "not_found_error")
    err(api(us, "DELETE", f"/v3/templates/{t['id']}"), 404, "not_found_error")
    for bad in ({"name": "No body", "subject": "s"}, {"subject": "s", "body": "b"}, {"name": "n", "body": "b"},
                {"name": "n", "subject": "s", "body": "b", "engine": "jinja"}):
        err(api(us, "POST", "/v3/templates", bad), 400, "invalid_request_error")
    err(api(us, "GET", "/v3/templates", params={"limit": 201}), 400, "invalid_request_error")


def test_grant_templates_scope_and_render(reset, us):
    gid = reset.create_grant("templates@gmail.com", "google")["id"]
    other = reset.create_grant("other.templates@gmail.com", "google")["id"]
    base = f"/v3/grants/{gid}/templates"
    t = template(us, base, name="Grant welcome")
    assert t["grant_id"] == gid and t["app_id"] is None and t["object"] == "template"
    assert [x["id"] for x in ok(api(us, "GET", base))["data"]] == [t["id"]]
    assert ok(api(us, "GET", "/v3/templates"))["data"] == []  # not an application-level template
    err(api(us, "GET", f"/v3/templates/{t['id']}"), 404, "not_found_error")
    err(api(us, "GET", f"/v3/grants/{other}/templates/{t['id']}"), 404, "not_found_error")
    upd = ok(api(us, "PUT", f"{base}/{t['id']}", {"subject": "Hey {{user.name}}"}))["data"]
    assert upd["subject"] == "Hey {{user.name}}" and upd["name"] == "Grant welcome"

    rendered = ok(api(us, "POST", f"{base}/{t['id']}/render", {"variables": {"user": {"name": "Ada"}}}))["data"]
    assert rendered == {"subject": "Hey Ada", "body": "<p>Hello Ada</p>"}
    inline = ok(api(us, "POST", f"{base}/render", {"body": "<p>{{greeting}}, {{user.name}}</p>", "engine": "mustache",
                                                   "variables": {"greeting": "Hi", "user": {"name": "Bo"}}}))["data"]
    assert inline == {"body": "<p>Hi, Bo</p>"}
    err(api(us, "POST", f"{base}/{t['id']}/render", {"variables": {}}), 400, "invalid_request_error")
    relaxed = ok(api(us, "POST", f"{base}/{t['id']}/render", {"variables": {}, "strict": False}))["data"]
    assert relaxed == {"subject": "Hey ", "body": "<p>Hello </p>"}
    ok(api(us, "DELETE", f"{base}/{t['id']}"))
    err(api(us, "GET", f"{base}/{t['id']}"), 404, "not_found_error")
    err(api(us, "GET", "/v3/grants/no-such-grant/templates"), 404)


@pytest.mark.parametrize("engine", ENGINES)
def test_render_with_each_engine(reset, us, engine):
    body, extra, missing = RENDER_CASES[engine]
    variables = {**RENDER_VARIABLES, **extra}
    r = ok(api(us, "POST", "/v3/templates/render", {"body": body, "engine": engine, "variables": variables}))
    assert r["data"] == {"body": RENDERED}, engine

    subject = "Welcome {{ user.name }}"
    t = template(us, name=f"{engine} template", engine=engine, subject=subject, body=body)
    assert t["engine"] == engine
    stored = ok(api(us, "POST", f"/v3/templates/{t['id']}/render", {"variables": variables}))["data"]
    assert stored == {"subject": "Welcome Ada", "body": RENDERED}

    # strict (the default) and a variable missing: 400 naming it; strict false renders it empty.
    e = err(api(us, "POST", "/v3/templates/render", {"body": missing, "engine": engine, "variables": {}}), 400,
            "invalid_request_error")
    assert "missing_name" in e["message"], e
    e = err(api(us, "POST", "/v3/templates/render", {"body": missing, "engine": engine, "variables": {},
                                                     "strict": True}), 400, "invalid_request_error")
    relaxed = ok(api(us, "POST", "/v3/templates/render", {"body": missing, "engine": engine, "variables": {},
                                                          "strict": False}))["data"]
    assert relaxed == {"body": "Dear ."}
    err(api(us, "POST", "/v3/templates/render", {"body": missing, "variables": {}}), 400, "invalid_request_error")


# --- workflows ---------------------------------------------------------------------------------

def test_workflows_crud(reset, us):
    t = template(us)
    created = ok(api(us, "POST", "/v3/workflows", {"name": "Confirm booking", "template_id": t["id"],
                                                   "trigger_event": "booking.created"}))["data"]
    assert reset.last_status("POST", "/v3/workflows") == 200
    assert created["id"] and (created["name"], created["template_id"], created["trigger_event"]) == (
        "Confirm booking", t["id"], "booking.created")
    assert (created["delay"], created["is_enabled"], created["from"]) == (0, True, None)
    assert created["app_id"] == us.application_id and created["grant_id"] is None
    assert created["date_created"] == reset.now()
    assert ok(api(us, "GET", f"/v3/workflows/{created['id']}"))["data"] == created

    upd = ok(api(us, "PUT", f"/v3/workflows/{created['id']}", {
        "delay": 30, "is_enabled": False, "trigger_event": "booking.reminder",
        "from": {"email": "support@acme.example", "name": "Support"}}))["data"]
    assert (upd["delay"], upd["is_enabled"], upd["trigger_event"], upd["name"]) == (
        30, False, "booking.reminder", "Confirm booking")
    assert upd["from"] == {"email": "support@acme.example", "name": "Support"}
    listed = ok(api(us, "GET", "/v3/workflows"))
    assert [w["id"] for w in listed["data"]] == [created["id"]] and not listed.get("next_cursor")

    gid = reset.create_grant("workflows@gmail.com", "google")["id"]
    mine = ok(api(us, "POST", f"/v3/grants/{gid}/workflows", {"name": "Mine", "template_id": t["id"],
                                                              "trigger_event": "booking.cancelled", "delay": 5}))["data"]
    assert (mine["grant_id"], mine["app_id"], mine["delay"]) == (gid, None, 5)  # an app-level template serves it
    assert [w["id"] for w in ok(api(us, "GET", f"/v3/grants/{gid}/workflows"))["data"]] == [mine["id"]]
    ok(api(us, "DELETE", f"/v3/grants/{gid}/workflows/{mine['id']}"))
    err(api(us, "GET", f"/v3/grants/{gid}/workflows/{mine['id']}"), 404, "not_found_error")
    ok(api(us, "DELETE", f"/v3/workflows/{created['id']}"))
    err(api(us, "GET", f"/v3/workflows/{created['id']}"), 404, "not_found_error")


def test_workflow_template_must_exist(reset, us):
    gid = reset.create_grant("wf.scope@gmail.com", "google")["id"]
    app_tpl = template(us)
    grant_tpl = template(us, f"/v3/grants/{gid}/templates", name="Grant template")
    base = {"name": "W", "trigger_event": "booking.created"}
    err(api(us, "POST", "/v3/workflows", {**base, "template_id": MISSING}), 404, "not_found_error")
    # A grant-level template does not serve an application-level workflow.
    err(api(us, "POST", "/v3/workflows", {**base, "template_id": grant_tpl["id"]}), 404, "not_found_error")
    ok(api(us, "POST", f"/v3/grants/{gid}/workflows", {**base, "template_id": grant_tpl["id"]}))
    w = ok(api(us, "POST", "/v3/workflows", {**base, "template_id": app_tpl["id"]}))["data"]
    err(api(us, "PUT", f"/v3/workflows/{w['id']}", {"template_id": MISSING}), 404, "not_found_error")
    for bad in ({**base, "template_id": app_tpl["id"], "trigger_event": "booking.exploded"},
                {"trigger_event": "booking.created", "template_id": app_tpl["id"]},
                {"name": "No trigger", "template_id": app_tpl["id"]},
                {"name": "No template", "trigger_event": "booking.created"},
                {**base, "template_id": app_tpl["id"], "delay": "soon"}):
        err(api(us, "POST", "/v3/workflows", bad), 400, "invalid_request_error")
    assert [x["id"] for x in ok(api(us, "GET", "/v3/workflows"))["data"]] == [w["id"]]


# --- signatures --------------------------------------------------------------------------------

SIG = "<div><p><strong>Ada Lovelace</strong></p><p>Analyst | Acme</p></div>"


def test_signatures_crud(reset, us):
    grant = reset.create_grant("sigs@gmail.com", "google")
    gid = grant["id"]
    base = f"/v3/grants/{gid}/signatures"
    s = ok(api(us, "POST", base, {"name": "Work", "body": SIG}), 201)["data"]
    assert s["id"] and (s["grant_id"], s["name"], s["body"], s["object"]) == (gid, "Work", SIG, "signature")
    assert s["created_at"] == s["updated_at"] == reset.now()
    assert ok(api(us, "GET", f"{base}/{s['id']}"))["data"] == s
    reset.advance("2m")
    upd = ok(api(us, "PUT", f"{base}/{s['id']}", {"name": "Work (new)"}))["data"]
    assert (upd["id"], upd["name"], upd["body"]) == (s["id"], "Work (new)", SIG)
    assert upd["updated_at"] == s["created_at"] + 120
    # The grant's own access token works as well as the API key.
    mine = ok(api(us, "GET", base, key=grant["access_token"]))
    assert [x["id"] for x in mine["data"]] == [s["id"]] and not mine.get("next_cursor")

    for bad in ({"name": "No body"}, {"body": SIG}, {"name": "Huge", "body": "<p>" + "x" * (100 * 1024 + 1) + "</p>"}):
        err(api(us, "POST", base, bad), 400, "invalid_request_error")
    ok(api(us, "DELETE", f"{base}/{s['id']}"))
    err(api(us, "GET", f"{base}/{s['id']}"), 404, "not_found_error")
    err(api(us, "PUT", f"{base}/{s['id']}", {"name": "x"}), 404, "not_found_error")
    err(api(us, "GET", "/v3/grants/no-such-grant/signatures"), 404)


def test_at_most_ten_signatures_per_grant(reset, us):
    gid = reset.create_grant("ten.sigs@gmail.com", "google")["id"]
    base = f"/v3/grants/{gid}/signatures"
    made = [ok(api(us, "POST", base, {"name": f"S{i}", "body": f"<p>{i}</p>"}), 201)["data"]["id"] for i in range(10)]
    err(api(us, "POST", base, {"name": "Eleventh", "body": "<p>11</p>"}), 400, "invalid_request_error")
    first = ok(api(us, "GET", base, params={"limit": 6}))
    assert len(first["data"]) == 6 and first["next_cursor"]
    rest = ok(api(us, "GET", base, params={"limit": 6, "page_token": first["next_cursor"]}))
    assert sorted(x["id"] for x in first["data"] + rest["data"]) == sorted(made)
    ok(api(us, "DELETE", f"{base}/{made[0]}"))
    ok(api(us, "POST", base, {"name": "Eleventh", "body": "<p>11</p>"}), 201)
    # Another grant has its own ten.
    other = reset.create_grant("other.sigs@gmail.com", "google")["id"]
    ok(api(us, "POST", f"/v3/grants/{other}/signatures", {"name": "S", "body": "<p>s</p>"}), 201)


def test_signature_appended_on_send_and_drafts(reset, us, nylas):
    gid = reset.create_grant("signed.sender@gmail.com", "google")["id"]
    sig = ok(api(us, "POST", f"/v3/grants/{gid}/signatures", {"name": "Work", "body": SIG}), 201)["data"]
    # nylas 6.18's typed send request has no signature_id, but the dict is sent as given.
    sent = nylas.messages.send(gid, {"to": [{"email": "zed@example.com"}], "subject": "Signed",
                                     "body": "<p>Hello</p>", "signature_id": sig["id"]}).data
    assert nylas.messages.find(gid, sent.id).data.body == "<p>Hello</p><br>" + SIG

    draft = nylas.drafts.create(gid, {"to": [{"email": "zed@example.com"}], "subject": "Draft signed",
                                      "body": "<p>Draft</p>", "signature_id": sig["id"]}).data
    assert nylas.drafts.find(gid, draft.id).data.body == "<p>Draft</p><br>" + SIG
    plain = nylas.drafts.create(gid, {"to": [{"email": "zed@example.com"}], "subject": "Signed at send",
                                      "body": "<p>Later</p>"}).data
    out = raw(nylas, "POST", f"/v3/grants/{gid}/drafts/{plain.id}", {"signature_id": sig["id"]})["data"]
    assert nylas.messages.find(gid, out["id"]).data.body == "<p>Later</p><br>" + SIG

    refused(lambda: nylas.messages.send(gid, {"to": [{"email": "zed@example.com"}], "subject": "x", "body": "y",
                                              "signature_id": MISSING}), 404, "not_found_error")
    refused(lambda: nylas.drafts.create(gid, {"subject": "x", "body": "y", "signature_id": MISSING}), 404,
            "not_found_error")
    # Another grant's signature is unknown here.
    other = reset.create_grant("other.signer@gmail.com", "google")["id"]
    refused(lambda: nylas.messages.send(other, {"to": [{"email": "zed@example.com"}], "subject": "x", "body": "y",
                                                "signature_id": sig["id"]}), 404, "not_found_error")


# --- API keys ----------------------------------------------------------------------------------

def test_api_key_lifecycle(reset, us):
    base = f"/v3/admin/applications/{us.application_id}/api-keys"
    k = ok(api(us, "POST", base, {"name": "ci-key", "expires_in": 30}))["data"]
    assert k["id"] and k["name"] == "ci-key" and k["application_id"] == us.application_id
    assert isinstance(k["api_key"], str) and k["api_key"] and k["api_key"] != us.api_key
    assert k["status"] == "active" and isinstance(k["permissions"], list)
    assert k["created_at"] == k["updated_at"] == reset.now()
    assert k["expires_at"] == k["created_at"] + 30 * 86400

    # The new key works at once, for this application.
    assert ok(api(us, "GET", "/v3/grants", key=k["api_key"]))["data"] == []
    assert ok(api(us, "GET", "/v3/applications", key=k["api_key"]))["data"]["application_id"] == us.application_id
    listed = ok(api(us, "GET", base))["data"]
    mine = [x for x in listed if x["id"] == k["id"]]
    assert len(mine) == 1 and "api_key" not in mine[0] and mine[0]["name"] == "ci-key"
    assert all("api_key" not in x for x in listed)
    one = ok(api(us, "GET", f"{base}/{k['id']}"))["data"]
    assert one["id"] == k["id"] and "api_key" not in one and one["expires_at"] == k["expires_at"]

    ok(api(us, "DELETE", f"{base}/{k['id']}"))
    err(api(us, "GET", "/v3/grants", key=k["api_key"]), 401)
    err(api(us, "GET", f"{base}/{k['id']}"), 404, "not_found_error")
    err(api(us, "DELETE", f"{base}/{k['id']}"), 404, "not_found_error")
    assert ok(api(us, "GET", "/v3/grants"))["request_id"]  # the seeded key is untouched


def test_api_key_expiry_and_scope(reset, us, eu):
    base = f"/v3/admin/applications/{us.application_id}/api-keys"
    k = ok(api(us, "POST", base, {"name": "short", "expires_in": 1}))["data"]
    assert k["expires_at"] == k["created_at"] + 86400
    ok(api(us, "GET", "/v3/grants", key=k["api_key"]))
    reset.advance("25h")
    err(api(us, "GET", "/v3/grants", key=k["api_key"]), 401)
    # Another application's ID in the path is refused; so is a key of one region in the other.
    r = api(us, "POST", f"/v3/admin/applications/{eu.application_id}/api-keys", {"name": "theirs"})
    assert r.status_code in (401, 404), r.text
    err(r, r.status_code)
    fresh = ok(api(us, "POST", base, {"name": "us only"}))["data"]
    err(api(eu, "GET", "/v3/grants", key=fresh["api_key"]), 401)
    err(api(us, "POST", base, {"name": 5}), 400, "invalid_request_error")


# --- bad input across the families ---------------------------------------------------------------

def _creates(us: App, gid: str, tpl: str) -> dict[str, tuple[dict, dict]]:
    """path → (a body of wrong types, a valid body) for each family's create."""
    return {
        "/v3/lists": ({"name": 5, "type": "domain"}, {"name": "L", "type": "domain"}),
        "/v3/rules": ({"name": "R", "match": "all", "actions": "block"}, rule_body()),
        "/v3/policies": ({"name": ["P"]}, {"name": "P"}),
        "/v3/workspaces": ({"name": "W", "domain": 7}, {"name": "W", "domain": "w.example"}),
        "/v3/templates": ({"name": "T", "subject": "s", "body": 5}, {"name": "T", "subject": "s", "body": "b"}),
        "/v3/workflows": ({"name": "W", "template_id": tpl, "trigger_event": "booking.created", "is_enabled": "yes"},
                          {"name": "W", "template_id": tpl, "trigger_event": "booking.created"}),
        f"/v3/grants/{gid}/signatures": ({"name": "S", "body": 12}, {"name": "S", "body": "<p>s</p>"}),
        f"/v3/grants/{gid}/templates": ({"name": 1, "subject": "s", "body": "b"}, {"name": "T", "subject": "s", "body": "b"}),
        "/v3/admin/domains": ({"name": "D", "domain_address": 3}, {"name": "D", "domain_address": "d.acme.example"}),
        f"/v3/admin/applications/{us.application_id}/api-keys": ({"name": "K", "expires_in": "never"}, {"name": "K"}),
    }


def test_malformed_json_and_wrong_types_are_400(reset, us):
    gid = reset.create_grant("bad.input@gmail.com", "google")["id"]
    tpl = template(us)["id"]
    problems = []
    for path, (wrong, valid) in _creates(us, gid, tpl).items():
        for label, kwargs in (("malformed", {"data": b'{"name": "x",'}), ("not-an-object", {"data": b'[1, 2]'}),
                              ("wrong-types", {"body": wrong})):
            r = api(us, "POST", path, **kwargs)
            if r.status_code != 400 or r.json().get("error", {}).get("type") != "invalid_request_error":
                problems.append(f"{label} POST {path} -> {r.status_code} {r.text[:200]}")
        # ... while the valid body goes through (so the 400s above were about the input).
        r = api(us, "POST", path, body=valid)
        if r.status_code not in (200, 201):
            problems.append(f"valid POST {path} -> {r.status_code} {r.text[:200]}")
    assert not problems, "\n".join(problems)


def test_unknown_ids_are_404(reset, us, nylas):
    gid = reset.create_grant("unknown.ids@gmail.com", "google")["id"]
    paths = ["/v3/lists/{}", "/v3/lists/{}/items", "/v3/rules/{}", "/v3/policies/{}", "/v3/workspaces/{}",
             "/v3/templates/{}", "/v3/workflows/{}", f"/v3/grants/{gid}/signatures/{{}}",
             f"/v3/grants/{gid}/templates/{{}}", f"/v3/grants/{gid}/workflows/{{}}", "/v3/admin/domains/{}",
             f"/v3/admin/applications/{us.application_id}/api-keys/{{}}"]
    problems = []
    for p in paths:
        for method, body in (("GET", _UNSET), ("DELETE", _UNSET)):
            if p.endswith("/items") and method == "DELETE":
                body = {"items": ["a.example"]}
            r = api(us, method, p.format(MISSING), body)
            if r.status_code != 404 or r.json().get("error", {}).get("type") != "not_found_error":
                problems.append(f"{method} {p.format(MISSING)} -> {r.status_code} {r.text[:200]}")
    for p in ("/v3/grants/{}/rule-evaluations", "/v3/grants/{}/signatures", "/v3/grants/{}/templates",
              "/v3/grants/{}/workflows"):
        r = api(us, "GET", p.format("no-such-grant"))
        if r.status_code != 404:
            problems.append(f"GET {p.format('no-such-grant')} -> {r.status_code} {r.text[:200]}")
    assert not problems, "\n".join(problems)


LIST_PATHS = ["/v3/lists", "/v3/rules", "/v3/policies", "/v3/workspaces", "/v3/templates", "/v3/workflows",
              "/v3/admin/domains"]


def test_missing_or_foreign_auth_is_401(reset, us, eu):
    gid = reset.create_grant("auth.checks@gmail.com", "google")["id"]
    paths = LIST_PATHS + [f"/v3/grants/{gid}/signatures", f"/v3/grants/{gid}/rule-evaluations",
                          f"/v3/admin/applications/{us.application_id}/api-keys"]
    problems = []
    for p in paths:
        for label, kwargs in (("no auth", {"auth": False}), ("bogus key", {"key": "nyk_v0_not_a_key"}),
                              ("EU key on the US region", {"key": eu.api_key})):
            r = api(us, "GET", p, **kwargs)
            if r.status_code != 401 or not r.json().get("error"):
                problems.append(f"{label}: GET {p} -> {r.status_code} {r.text[:200]}")
    r = api(us, "POST", "/v3/lists", {"name": "L", "type": "domain"}, auth=False)
    if r.status_code != 401:
        problems.append(f"no auth: POST /v3/lists -> {r.status_code}")
    # The EU key works on its own region.
    for p in LIST_PATHS:
        r = api(eu, "GET", p)
        if r.status_code != 200:
            problems.append(f"EU key on EU: GET {p} -> {r.status_code} {r.text[:200]}")
    assert not problems, "\n".join(problems)
