"""v2 contract: the UNMODIFIED official legacy Python SDK (`nylas-legacy==5.15.0`) against a
standalone simulator served over TLS (the SDK refuses non-https API servers).

Covered with the SDK: hosted auth (`authentication_url` → GET on the simulator → `send_authorization`),
`client.account`, account management through the application client (`accounts` list/get/metadata,
`downgrade`/`upgrade`, `revoke_all_tokens`, `token_info`, `revoke_token`, delete, application details,
IP addresses), messages, threads, drafts with versions, sending (saved draft, direct, raw MIME),
files, labels (Gmail) and folders (IMAP), delta (cursor, since, longpoll) and webhooks (with a local
receiver that answers the challenge). Native auth (`/connect/authorize` + `/connect/token`), which
the SDK does not wrap, and the wire-level error bodies are checked with `requests`.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import os
from datetime import datetime, timezone

import pytest
from nylas_legacy import APIClient
from nylas_legacy.client.delta_models import Delta, Deltas
from nylas_legacy.client.errors import MessageRejectedError, NylasApiError
from nylas_legacy.client.restful_models import (
    Account,
    Draft,
    File,
    Folder,
    Label,
    Message,
    SingletonAccount,
    Thread,
    Webhook,
)

from conftest import CALLBACK, DEFAULT_BIN
from receiver import Receiver
from v2sim import TLSSim, V2App, start_tls, stop_tls

GMAIL = "ben.bitdiddle@gmail.com"
IMAP = "nyla@example.com"
ALICE = "alice@example.com"
BOB = "bob@example.com"
IMAP_SETTINGS = {"imap_host": "imap.example.com", "imap_port": 993, "imap_username": IMAP, "imap_password": "secret",
                 "smtp_host": "smtp.example.com", "smtp_port": 465, "smtp_username": IMAP, "smtp_password": "secret",
                 "ssl_required": True}
GOOGLE_SETTINGS = {"google_client_id": "google-client", "google_client_secret": "google-secret",
                   "google_refresh_token": "1//refresh-token"}
UNAUTHORIZED = "Could not verify access credential."


# --- fixtures ----------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def tls_sim():
    """A second simulator process, with `--tls` (its own free ports and CA directory)."""
    binary = os.environ.get("NYLAS_SIM_BIN", str(DEFAULT_BIN))
    if not os.access(binary, os.X_OK):
        pytest.exit(f"simulator binary not found: {binary} (run `swift build` or set NYLAS_SIM_BIN)", returncode=2)
    s = start_tls(binary)
    try:
        yield s
    finally:
        stop_tls(s)


@pytest.fixture
def v2(tls_sim: TLSSim, monkeypatch) -> TLSSim:
    """The TLS simulator, freshly reset; the SDK (and `requests`) trust its CA for this test."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", tls_sim.ca)
    tls_sim.reset()
    return tls_sim


@pytest.fixture
def app(v2: TLSSim) -> V2App:
    return v2.us


@pytest.fixture
def admin(app: V2App) -> APIClient:
    """The application's SDK client (client secret, no access token): `/a/<client_id>/...` calls."""
    return app.client()


@pytest.fixture
def gmail(v2: TLSSim, app: V2App) -> APIClient:
    """An SDK client of a Gmail (label) account connected through hosted auth."""
    client, _ = hosted_auth(v2, app, GMAIL, provider="gmail")
    return client


@pytest.fixture
def imap(v2: TLSSim, app: V2App) -> APIClient:
    """An SDK client of an IMAP (folder) account connected through native auth."""
    token = native_auth(v2, app, IMAP, "imap", IMAP_SETTINGS, name="Nyla the Cheetah")
    return app.client(token["access_token"])


@pytest.fixture
def mail(v2: TLSSim, gmail: APIClient) -> dict:
    """Three messages in the Gmail account: a two-message thread (the first with an attachment)
    and a single read, starred message. Returns their IDs by name, oldest first."""
    now = v2.now()
    v2.deliver(GMAIL, **{"from": {"name": "Alice", "email": ALICE}, "to": GMAIL, "subject": "Quarterly report",
                         "body": "<p>Numbers attached.</p>", "date": now - 3600, "message_id": "<q1@example.com>",
                         "attachments": [{"filename": "report.txt", "content_type": "text/plain",
                                          "content": "revenue: 42"}]})
    v2.deliver(GMAIL, **{"from": {"name": "Bob", "email": BOB}, "to": GMAIL, "subject": "Lunch?",
                         "body": "Noodles at noon?", "date": now - 1800, "unread": False, "starred": True})
    v2.deliver(GMAIL, **{"from": {"name": "Alice", "email": ALICE}, "to": GMAIL, "subject": "Re: Quarterly report",
                         "body": "Any questions?", "date": now - 600, "in_reply_to": "<q1@example.com>"})
    by_subject = {m.subject: m for m in gmail.messages.all()}
    assert set(by_subject) == {"Quarterly report", "Lunch?", "Re: Quarterly report"}, by_subject
    return {"report": by_subject["Quarterly report"].id, "lunch": by_subject["Lunch?"].id,
            "reply": by_subject["Re: Quarterly report"].id}


# --- helpers -----------------------------------------------------------------------------------

def hosted_auth(sim: TLSSim, app: V2App, email: str, provider: str = "", state: str = "state-123",
                scopes=("email", "calendar", "contacts")) -> tuple[APIClient, dict]:
    """The SDK builds the authorize URL, the simulator redirects with a code, the SDK exchanges it."""
    client = app.client()
    url = client.authentication_url(CALLBACK, login_hint=email, state=state, scopes=scopes, provider=provider)
    params = sim.follow_auth_url(url)
    assert params.get("state") == state, params
    assert "code" in params, params
    token = client.send_authorization(params["code"])
    assert client.access_token == token["access_token"]
    return client, token


def native_auth(sim: TLSSim, app: V2App, email: str, provider: str, settings: dict, name: str | None = None,
                scopes: str = "email,calendar,contacts") -> dict:
    """`/connect/authorize` + `/connect/token` (not wrapped by the SDK): the account plus its token."""
    body = {"client_id": app.client_id, "email_address": email, "provider": provider, "settings": settings,
            "scopes": scopes}
    if name:
        body["name"] = name
    r = sim.raw("POST", "/connect/authorize", region=app.region, json=body)
    assert r.status_code == 200, r.text
    code = r.json()["code"]
    assert isinstance(code, str) and code
    r = sim.raw("POST", "/connect/token", region=app.region,
                json={"client_id": app.client_id, "client_secret": app.client_secret, "code": code})
    assert r.status_code == 200, r.text
    return r.json()


def error_body(response) -> dict:
    """A v2 error body: a flat `{"message", "type"}` object."""
    assert response.headers.get("Content-Type", "").startswith("application/json"), response.headers
    body = response.json()
    assert set(body) >= {"message", "type"}, body
    assert isinstance(body["message"], str) and body["message"]
    assert body["type"] in {"invalid_request_error", "api_error", "provider_error"}, body
    assert "error" not in body and "request_id" not in body, f"v3-style error body on v2: {body}"
    return body


def sdk_error(excinfo, status: int, type_: str = "invalid_request_error") -> dict:
    """The SDK raised its error for `status`, parsed the v2 body and reports both fields."""
    exc = excinfo.value
    assert isinstance(exc, NylasApiError), type(exc)
    assert exc.response.status_code == status, (exc.response.status_code, exc.response.text)
    body = error_body(exc.response)
    assert body["type"] == type_, body
    # The SDK only builds this text when the body has both `message` and `type`.
    assert f"Reason: {body['message']}. Nylas Error Type: {type_}" in str(exc), str(exc)
    return body


def plain(model) -> dict:
    return {k: v for k, v in model.items() if k not in ("api", "cls")}


def labels_by_name(client: APIClient) -> dict[str, Label]:
    return {label.name or label.display_name: label for label in client.labels.all()}


def folders_by_name(client: APIClient) -> dict[str, Folder]:
    return {folder.name or folder.display_name: folder for folder in client.folders.all()}


# --- authentication ----------------------------------------------------------------------------

def test_hosted_auth_url_redirect_and_code_exchange(v2, app):
    client = app.client()
    url = client.authentication_url(CALLBACK, login_hint=GMAIL, state="xyz", provider="gmail",
                                    scopes=["email.read_only", "calendar"])
    assert url.startswith(app.base_url + "/oauth/authorize?")
    params = v2.follow_auth_url(url)
    assert params["state"] == "xyz"
    token = client.send_authorization(params["code"])
    assert set(token) >= {"access_token", "account_id", "email_address", "provider", "token_type"}, token
    assert token["email_address"] == GMAIL
    assert token["provider"] == "gmail"
    assert token["token_type"] == "bearer"
    assert client.access_token == token["access_token"]

    account = client.account
    assert isinstance(account, SingletonAccount)
    assert account.id == account.account_id == token["account_id"]
    assert account.object == "account"
    assert account.email_address == GMAIL
    assert account.provider == "gmail"
    assert account.organization_unit == "label"
    assert account.sync_state == "running"
    assert isinstance(account.linked_at, datetime)  # the SDK converts the unix `linked_at`
    assert account.linked_at == datetime.utcfromtimestamp(v2.now())

    # the code is single use
    with pytest.raises(NylasApiError) as e:
        app.client().send_authorization(params["code"])
    assert 400 <= e.value.response.status_code < 500
    assert error_body(e.value.response)["type"] == "api_error"

    # the token's scopes are the ones asked for
    info = client.token_info()
    assert info["scopes"] == "email.read_only,calendar"
    assert info["state"] == "valid"


def test_hosted_auth_errors(v2, app):
    # a wrong client secret cannot redeem a code
    params = v2.follow_auth_url(app.client().authentication_url(CALLBACK, login_hint=GMAIL))
    wrong = APIClient(app.client_id, "not-the-secret", None, api_server=app.base_url)
    with pytest.raises(NylasApiError) as e:
        wrong.send_authorization(params["code"])
    assert sdk_error(e, 401, "api_error")["message"] == "Unable to associate credentials"
    # ... and the code was not burned by the failed attempt
    assert app.client().send_authorization(params["code"])["email_address"] == GMAIL

    # an unregistered redirect URI is refused (no redirect to it)
    url = app.client().authentication_url("https://evil.example.com/cb", login_hint=GMAIL)
    r = v2.http.get(url, allow_redirects=False, timeout=10)
    assert r.status_code == 400, r.text
    error_body(r)

    # an unknown client_id too
    url = APIClient("nosuchclient", "x", None, api_server=app.base_url).authentication_url(CALLBACK)
    r = v2.http.get(url, allow_redirects=False, timeout=10)
    assert r.status_code == 400, r.text
    error_body(r)

    # the user denies consent: back to the redirect URI with an error and the state
    v2.consent("deny")
    r = v2.http.get(app.client().authentication_url(CALLBACK, login_hint=GMAIL, state="s1"),
                    allow_redirects=False, timeout=10)
    assert r.status_code == 302
    assert r.headers["Location"].startswith(CALLBACK + "?")
    assert "error=" in r.headers["Location"] and "state=s1" in r.headers["Location"]
    assert "code=" not in r.headers["Location"]


def test_hosted_auth_client_side_token_flow(v2, app):
    """`response_type=token` delivers the token to the redirect URI directly (URL fragment)."""
    url = app.client().authentication_url(CALLBACK, login_hint=GMAIL, state="t1").replace(
        "response_type=code", "response_type=token")
    r = v2.http.get(url, allow_redirects=False, timeout=10)
    assert r.status_code == 302, r.text
    location = r.headers["Location"]
    assert location.startswith(CALLBACK + "#"), location
    fragment = dict(p.split("=", 1) for p in location.split("#", 1)[1].split("&"))
    assert fragment["state"] == "t1"
    assert app.client(fragment["access_token"]).account.email_address == GMAIL


def test_native_auth_imap_and_gmail(v2, app):
    account = native_auth(v2, app, IMAP, "imap", IMAP_SETTINGS, name="Nyla the Cheetah",
                          scopes="email.read_only,calendar.read_only,contacts.read_only")
    assert set(account) >= {"id", "object", "account_id", "name", "email_address", "provider", "organization_unit",
                            "sync_state", "linked_at", "billing_state", "access_token"}, account
    assert account["object"] == "account"
    assert account["id"] == account["account_id"]
    assert account["name"] == "Nyla the Cheetah"
    assert account["email_address"] == IMAP
    assert account["provider"] == "imap"
    assert account["organization_unit"] == "folder"
    assert account["sync_state"] == "running"
    assert account["billing_state"] == "paid"
    assert isinstance(account["linked_at"], int)

    me = app.client(account["access_token"]).account
    assert me.id == account["id"]
    assert me.name == "Nyla the Cheetah"
    assert me.organization_unit == "folder"

    google = native_auth(v2, app, GMAIL, "gmail", GOOGLE_SETTINGS)
    assert google["provider"] == "gmail"
    assert google["organization_unit"] == "label"
    assert google["id"] != account["id"]

    # re-authenticating the same mailbox in the same application keeps the account ID, with a new token
    again = native_auth(v2, app, IMAP, "imap", IMAP_SETTINGS)
    assert again["id"] == account["id"]
    assert again["access_token"] != account["access_token"]
    # both tokens work (re-auth does not revoke the older one)
    assert app.client(account["access_token"]).account.id == account["id"]


def test_native_auth_errors(v2, app):
    # a missing provider setting
    r = v2.raw("POST", "/connect/authorize", json={"client_id": app.client_id, "email_address": IMAP,
                                                    "provider": "imap", "settings": {"imap_host": "imap.example.com"}})
    assert r.status_code == 400, r.text
    error_body(r)
    # an unknown provider
    r = v2.raw("POST", "/connect/authorize", json={"client_id": app.client_id, "email_address": IMAP,
                                                    "provider": "carrier-pigeon", "settings": {}})
    assert r.status_code == 400, r.text
    error_body(r)
    # an unknown client
    r = v2.raw("POST", "/connect/authorize", json={"client_id": "nosuchclient", "email_address": IMAP,
                                                    "provider": "imap", "settings": IMAP_SETTINGS})
    assert 400 <= r.status_code < 500, r.text
    error_body(r)
    # a code is single use, and needs the right secret
    r = v2.raw("POST", "/connect/authorize", json={"client_id": app.client_id, "email_address": IMAP,
                                                    "provider": "imap", "settings": IMAP_SETTINGS})
    code = r.json()["code"]
    r = v2.raw("POST", "/connect/token", json={"client_id": app.client_id, "client_secret": "wrong", "code": code})
    assert r.status_code == 401, r.text
    assert error_body(r)["type"] == "api_error"
    r = v2.raw("POST", "/connect/token", json={"client_id": app.client_id, "client_secret": app.client_secret, "code": code})
    assert r.status_code == 200, r.text
    r = v2.raw("POST", "/connect/token", json={"client_id": app.client_id, "client_secret": app.client_secret, "code": code})
    assert 400 <= r.status_code < 500, r.text
    error_body(r)


def test_account_token_forms_and_error_bodies(v2, app, gmail):
    token = gmail.access_token
    # a bad token: the SDK raises its API error; the wire body is the flat v2 object
    with pytest.raises(NylasApiError) as e:
        app.client("not-a-token").account
    assert sdk_error(e, 401)["message"] == UNAUTHORIZED
    r = v2.raw("GET", "/account", token="not-a-token")
    assert r.status_code == 401
    assert error_body(r) == {"message": UNAUTHORIZED, "type": "invalid_request_error"}
    r = v2.raw("GET", "/messages")
    assert r.status_code == 401
    assert error_body(r) == {"message": UNAUTHORIZED, "type": "invalid_request_error"}

    # the three accepted forms of the account token
    for authorization in (f"Bearer {token}", "Basic " + base64.b64encode(f"{token}:".encode()).decode(), token):
        r = v2.raw("GET", "/account", authorization=authorization)
        assert r.status_code == 200, (authorization, r.text)
        assert r.json()["email_address"] == GMAIL

    # an unknown object: 404 with the v2 body
    with pytest.raises(NylasApiError) as e:
        gmail.messages.get("0000000000000000000000000")
    sdk_error(e, 404)
    r = v2.raw("GET", "/threads/0000000000000000000000000", token=token)
    assert r.status_code == 404
    assert set(error_body(r)) == {"message", "type"}

    # application-scoped routes want the client secret
    wrong = APIClient(app.client_id, "not-the-secret", None, api_server=app.base_url)
    with pytest.raises(NylasApiError) as e:
        wrong.accounts.all()
    sdk_error(e, 401)
    # an account token is not an application credential
    r = v2.raw("GET", f"/a/{app.client_id}/accounts", token=token)
    assert r.status_code == 401
    error_body(r)


def test_regions_are_isolated(v2):
    us, eu = v2.us, v2.eu
    assert us.client_id != eu.client_id
    us_user, us_token = hosted_auth(v2, us, GMAIL)
    eu_user, eu_token = hosted_auth(v2, eu, GMAIL)
    assert us_token["account_id"] != eu_token["account_id"]
    assert eu_user.account.id == eu_token["account_id"]
    # a US token is unknown in the EU and the other way round
    with pytest.raises(NylasApiError) as e:
        eu.client(us_token["access_token"]).account
    sdk_error(e, 401)
    with pytest.raises(NylasApiError) as e:
        us.client(eu_token["access_token"]).account
    sdk_error(e, 401)
    # the US application does not exist in the EU
    wrong_region = APIClient(us.client_id, us.client_secret, None, api_server=eu.base_url)
    with pytest.raises(NylasApiError) as e:
        wrong_region.accounts.all()
    sdk_error(e, 401)
    assert [a.id for a in eu.client().accounts.all()] == [eu_token["account_id"]]


# --- account management ------------------------------------------------------------------------

def test_management_list_get_metadata_and_application(v2, app, admin, gmail, imap):
    accounts = admin.accounts.all()
    assert all(isinstance(a, Account) for a in accounts)
    by_email = {a.email: a for a in accounts}
    assert set(by_email) == {GMAIL, IMAP}
    g = by_email[GMAIL]
    assert g.id == g.account_id == gmail.account.id
    assert g.provider == "gmail"
    assert by_email[IMAP].provider == "imap"
    for a in accounts:
        assert a.billing_state == "paid"
        assert a.sync_state == "running"
        assert a.authentication_type in ("oauth", "password")
        assert a.trial is False

    # paging as the SDK does it (limit/offset)
    assert len(admin.accounts.where(limit=1).all()) == 1
    assert [a.id for a in admin.accounts.all()] == [a.id for a in admin.accounts[0:2]]

    one = admin.accounts.get(g.id)
    assert one.email == GMAIL and one.account_id == g.id

    # only metadata is writable: the SDK's save() sends just that
    one.metadata = {"plan": "pro", "team": "blue"}
    one.save()
    assert one.metadata == {"plan": "pro", "team": "blue"}
    assert admin.accounts.get(g.id).metadata == {"plan": "pro", "team": "blue"}

    with pytest.raises(NylasApiError) as e:
        admin.accounts.get("0000000000000000000000000")
    sdk_error(e, 404)

    details = admin.application_details()
    assert set(details) >= {"application_name", "icon_url", "redirect_uris"}
    assert CALLBACK in details["redirect_uris"]
    updated = admin.update_application_details(application_name="Renamed v2 app",
                                               redirect_uris=[CALLBACK, "https://app.example.com/cb"])
    assert updated["application_name"] == "Renamed v2 app"
    assert admin.application_details()["redirect_uris"] == [CALLBACK, "https://app.example.com/cb"]

    ips = admin.ip_addresses()
    assert isinstance(ips["ip_addresses"], list) and ips["ip_addresses"]
    assert isinstance(ips["updated_at"], int)


def test_downgrade_keeps_the_account_and_upgrade_resumes_it(v2, app, admin, gmail, mail):
    account_id = gmail.account.id
    before = sorted(m.id for m in gmail.messages.all())
    account = admin.accounts.get(account_id)

    account.downgrade()
    down = admin.accounts.get(account_id)
    assert down.id == account_id
    assert down.billing_state == "cancelled"
    # still listed, API calls with its token are blocked
    assert account_id in [a.id for a in admin.accounts.all()]
    with pytest.raises(NylasApiError) as e:
        gmail.messages.all()
    assert "sync has been stopped" in sdk_error(e, 403)["message"]

    account.upgrade()
    up = admin.accounts.get(account_id)
    assert up.id == account_id
    assert up.billing_state == "paid"
    assert up.sync_state == "running"
    # the same token works again and the data (same IDs) is still there
    assert gmail.account.id == account_id
    assert sorted(m.id for m in gmail.messages.all()) == before
    assert gmail.messages.get(mail["lunch"]).subject == "Lunch?"


def test_delete_account(v2, app, admin, gmail, mail):
    account_id = gmail.account.id
    admin.accounts.delete(account_id)
    with pytest.raises(NylasApiError) as e:
        admin.accounts.get(account_id)
    sdk_error(e, 404)
    assert account_id not in [a.id for a in admin.accounts.all()]
    # the account's token is dead
    with pytest.raises(NylasApiError) as e:
        gmail.messages.all()
    assert e.value.response.status_code in (401, 404)
    error_body(e.value.response)
    # downgrade/upgrade of a deleted account: 404
    r = v2.raw("POST", f"/a/{app.client_id}/accounts/{account_id}/upgrade", authorization=app.basic())
    assert r.status_code == 404
    error_body(r)
    # connecting the mailbox again creates a new account
    again, token = hosted_auth(v2, app, GMAIL)
    assert token["account_id"] != account_id
    assert [a.id for a in admin.accounts.all()] == [token["account_id"]]


@pytest.mark.filterwarnings("ignore:Non-string passwords:DeprecationWarning")  # the SDK's revoke_token auth=(token, None)
def test_token_info_revoke_all_and_revoke(v2, app, admin, gmail):
    account_id = gmail.account.id
    info = gmail.token_info()
    assert set(info) >= {"created_at", "scopes", "state", "updated_at"}
    assert info["state"] == "valid"
    assert info["scopes"] == "email,calendar,contacts"
    assert isinstance(info["created_at"], int)
    assert gmail.token_info(account_id=account_id)["state"] == "valid"

    # two more tokens of the same account
    second, t2 = hosted_auth(v2, app, GMAIL)
    third, t3 = hosted_auth(v2, app, GMAIL)
    assert t2["account_id"] == t3["account_id"] == account_id

    # revoke every token but the one kept
    keep = gmail.access_token
    gmail.revoke_all_tokens(keep_access_token=keep)
    assert gmail.access_token == keep
    assert gmail.account.id == account_id
    for other in (second, third):
        with pytest.raises(NylasApiError) as e:
            other.account
        sdk_error(e, 401)
    r = v2.raw("POST", f"/a/{app.client_id}/accounts/{account_id}/token-info", authorization=app.basic(),
               json={"access_token": t2["access_token"]})
    assert r.status_code == 200 and r.json()["state"] == "revoked", r.text

    # revoke the current token itself
    fourth, t4 = hosted_auth(v2, app, GMAIL)
    fourth.revoke_token()
    assert fourth.access_token is None
    r = v2.raw("GET", "/account", token=t4["access_token"])
    assert r.status_code == 401
    error_body(r)
    assert gmail.account.id == account_id

    # revoke all (nothing kept): the SDK forgets its token, and the server too
    gmail.revoke_all_tokens()
    assert gmail.access_token is None
    r = v2.raw("GET", "/account", token=keep)
    assert r.status_code == 401
    # the account itself is still there
    assert admin.accounts.get(account_id).billing_state == "paid"


# --- messages ----------------------------------------------------------------------------------

def test_messages_list_and_filters(v2, gmail, mail):
    messages = gmail.messages.all()
    assert all(isinstance(m, Message) for m in messages)
    # newest first
    assert [m.id for m in messages] == [mail["reply"], mail["lunch"], mail["report"]]
    account_id = gmail.account.id
    for m in messages:
        assert m.object == "message"
        assert m.account_id == account_id
        assert isinstance(m.received_at, datetime)
        assert [label.name for label in m.labels] == ["inbox"]
        assert m.folder is None
    report = gmail.messages.get(mail["report"])
    assert report.from_ == [{"name": "Alice", "email": ALICE}]
    assert report.to[0]["email"] == GMAIL
    assert report.body == "<p>Numbers attached.</p>"
    assert report.snippet.startswith("Numbers attached.")
    assert report.unread is True and report.starred is False
    assert [f["filename"] for f in report.files] == ["report.txt"]
    assert report.files[0]["size"] == len("revenue: 42")

    def ids(**filters):
        return {m.id for m in gmail.messages.where(**filters).all()}

    assert ids(from_=ALICE) == {mail["report"], mail["reply"]}
    assert ids(from_=BOB) == {mail["lunch"]}
    assert ids(to=GMAIL) == set(mail.values())
    assert ids(any_email=BOB) == {mail["lunch"]}
    assert ids(subject="Lunch?") == {mail["lunch"]}
    assert ids(unread=True) == {mail["report"], mail["reply"]}  # the SDK sends `True`
    assert ids(unread=False) == {mail["lunch"]}
    assert ids(starred=True) == {mail["lunch"]}
    assert ids(in_="inbox") == set(mail.values())
    assert ids(in_="Inbox") == set(mail.values())
    assert ids(in_=labels_by_name(gmail)["inbox"].id) == set(mail.values())
    assert ids(in_="trash") == set()
    assert ids(has_attachment=True) == {mail["report"]}
    assert ids(filename="report.txt") == {mail["report"]}
    assert ids(thread_id=report.thread_id) == {mail["report"], mail["reply"]}
    # datetime filters are sent as unix seconds by the SDK
    cutoff = datetime.fromtimestamp(v2.now() - 1200, tz=timezone.utc)
    assert ids(received_after=cutoff) == {mail["reply"]}
    assert ids(received_before=cutoff) == {mail["report"], mail["lunch"]}

    # paging: limit, offset, slices and first()
    assert [m.id for m in gmail.messages.where(limit=2).all()] == [mail["reply"], mail["lunch"]]
    assert [m.id for m in gmail.messages[1:3]] == [mail["lunch"], mail["report"]]
    assert gmail.messages.first().id == mail["reply"]
    assert gmail.messages.where(offset=10).all() == []

    # views through the wire (the SDK builds models from every list item)
    token = gmail.access_token
    r = v2.raw("GET", "/messages", token=token, params={"view": "count", "from": ALICE})
    assert r.json() == {"count": 2}
    r = v2.raw("GET", "/messages", token=token, params={"view": "ids"})
    assert r.json() == [mail["reply"], mail["lunch"], mail["report"]]
    r = v2.raw("GET", "/messages", token=token, params={"view": "bogus"})
    assert r.status_code == 400
    error_body(r)
    r = v2.raw("GET", "/messages", token=token, params={"limit": 1001})
    assert r.status_code == 400
    error_body(r)


def test_message_get_expanded_raw_and_attachment(v2, gmail, mail):
    expanded = gmail.messages.where(view="expanded").get(mail["report"])
    assert expanded.headers["Message-Id"] == "<q1@example.com>"
    reply = gmail.messages.where(view="expanded").get(mail["reply"])
    assert reply.headers["In-Reply-To"] == "<q1@example.com>"

    raw = gmail.messages.get(mail["report"]).raw
    assert isinstance(raw, bytes)
    assert b"Subject: Quarterly report" in raw

    report = gmail.messages.get(mail["report"])
    attachment = report.files[0]
    f = gmail.files.get(attachment["id"])
    assert isinstance(f, File)
    assert f.filename == "report.txt"
    assert f.download() == b"revenue: 42"
    # `Message.attachments` is `GET /files?message_id=<id>`
    listed = report.attachments.all()
    assert [a.id for a in listed] == [attachment["id"]]
    assert listed[0].filename == "report.txt" and listed[0].message_ids == [report.id]
    assert gmail.messages.get(mail["lunch"]).attachments.all() == []


def test_message_updates(v2, gmail, mail):
    m = gmail.messages.get(mail["report"])
    m.mark_as_read()
    m.star()
    fresh = gmail.messages.get(mail["report"])
    assert fresh.unread is False and fresh.starred is True
    fresh.mark_as_unread()
    fresh.unstar()
    fresh = gmail.messages.get(mail["report"])
    assert fresh.unread is True and fresh.starred is False

    # labels: the complete set, through the SDK helpers
    finance = gmail.labels.create(display_name="Finance")
    finance.save()
    labels = labels_by_name(gmail)
    names = {label.display_name for label in fresh.update_labels([labels["inbox"].id, finance.id])}
    assert names == {"Inbox", "Finance"}
    assert {label.id for label in gmail.messages.get(mail["report"]).labels} == {labels["inbox"].id, finance.id}
    assert {m.id for m in gmail.messages.where(in_="Finance").all()} == {mail["report"]}
    assert {label.id for label in fresh.remove_label(finance.id)} == {labels["inbox"].id}
    assert {label.id for label in fresh.add_label(labels["important"].id)} == {labels["inbox"].id, labels["important"].id}

    # metadata through a plain PUT of the SDK's update path
    token = gmail.access_token
    r = v2.raw("PUT", f"/messages/{mail['lunch']}", token=token, json={"metadata": {"ticket": "T-1"}})
    assert r.status_code == 200 and r.json()["metadata"] == {"ticket": "T-1"}, r.text

    # removing every label is refused; labels must exist
    with pytest.raises(NylasApiError) as e:
        fresh.update_labels([])
    assert sdk_error(e, 400)["message"] == "Removing all labels is not allowed."
    with pytest.raises(NylasApiError) as e:
        fresh.update_labels(["0000000000000000000000000"])
    sdk_error(e, 400)
    # a Gmail account has no folders
    with pytest.raises(NylasApiError) as e:
        fresh.update_folder(labels["trash"].id)
    assert sdk_error(e, 404)["message"] == "GMail accounts don't support folders"
    # non-boolean flags
    r = v2.raw("PUT", f"/messages/{mail['lunch']}", token=token, json={"unread": "yes"})
    assert r.status_code == 400
    error_body(r)


# --- threads -----------------------------------------------------------------------------------

def test_threads(v2, gmail, mail):
    threads = gmail.threads.all()
    assert all(isinstance(t, Thread) for t in threads)
    assert len(threads) == 2
    report_thread, lunch_thread = threads  # most recent activity first
    assert report_thread.subject == "Quarterly report"
    assert report_thread.object == "thread"
    assert sorted(report_thread.message_ids) == sorted([mail["report"], mail["reply"]])
    assert report_thread.draft_ids == []
    assert {p["email"] for p in report_thread.participants} == {ALICE, GMAIL}
    assert report_thread.unread is True and report_thread.starred is False
    assert report_thread.has_attachments is True
    assert isinstance(report_thread.last_message_at, datetime)
    assert report_thread.last_message_timestamp == v2.now() - 600
    assert report_thread.first_message_timestamp == v2.now() - 3600
    assert [label.name for label in report_thread.labels] == ["inbox"]
    assert lunch_thread.message_ids == [mail["lunch"]]
    assert lunch_thread.starred is True

    got = gmail.threads.get(report_thread.id)
    assert got.subject == "Quarterly report"
    assert {m.id for m in got.messages.all()} == {mail["report"], mail["reply"]}

    expanded = gmail.threads.where(view="expanded").get(report_thread.id)
    inline = expanded.messages
    assert isinstance(inline, list) and all(isinstance(m, Message) for m in inline)
    assert {m.id for m in inline} == {mail["report"], mail["reply"]}
    assert all(m.body is None for m in inline)

    assert {t.id for t in gmail.threads.where(unread=False).all()} == {lunch_thread.id}
    assert {t.id for t in gmail.threads.where(from_=BOB).all()} == {lunch_thread.id}
    cutoff = datetime.fromtimestamp(v2.now() - 1200, tz=timezone.utc)
    assert {t.id for t in gmail.threads.where(last_message_after=cutoff).all()} == {report_thread.id}

    # updates apply to every message of the thread
    got.mark_as_read()
    got.star()
    assert all(not m.unread and m.starred for m in gmail.messages.where(thread_id=got.id).all())
    again = gmail.threads.get(got.id)
    assert again.unread is False and again.starred is True
    finance = gmail.labels.create(display_name="Finance")
    finance.save()
    inbox = labels_by_name(gmail)["inbox"]
    assert {label.id for label in again.update_labels([inbox.id, finance.id])} == {inbox.id, finance.id}
    assert all({label.id for label in m.labels} == {inbox.id, finance.id}
               for m in gmail.messages.where(thread_id=got.id).all())

    r = v2.raw("PUT", f"/threads/{got.id}", token=gmail.access_token, json={"subject": "nope"})
    assert r.status_code == 400
    assert error_body(r)["message"] == "Unexpected attribute: subject"
    with pytest.raises(NylasApiError) as e:
        gmail.threads.get("0000000000000000000000000")
    sdk_error(e, 404)


# --- drafts and sending ------------------------------------------------------------------------

def test_search_messages_and_threads(v2, gmail, mail):
    # the SDK's search: GET /messages/search?q= and /threads/search?q=, arrays of models
    found = gmail.messages.search("quarterly")
    assert all(isinstance(m, Message) for m in found)
    assert [m.id for m in found] == [mail["reply"], mail["report"]]  # newest first
    assert [m.id for m in gmail.messages.search("from:bob@example.com")] == [mail["lunch"]]
    assert [m.id for m in gmail.messages.search('subject:"Quarterly report" numbers')] == [mail["report"]]
    assert gmail.messages.search("nothing-matches-this") == []
    assert [m.id for m in gmail.messages.search("quarterly", limit=1, offset=1)] == [mail["report"]]
    threads = gmail.threads.search("noodles")
    assert all(isinstance(t, Thread) for t in threads)
    assert [t.message_ids for t in threads] == [[mail["lunch"]]]
    expanded = gmail.threads.search("quarterly", view="expanded")
    assert len(expanded) == 1 and {m["id"] for m in expanded[0].messages} == {mail["report"], mail["reply"]}
    # without q: the v2 engine's 400
    for path in ("/messages/search", "/threads/search"):
        r = v2.raw("GET", path, token=gmail.access_token)
        assert r.status_code == 400
        assert error_body(r) == {"message": "GET HTTP method must include query url parameter",
                                 "type": "invalid_request_error"}


def test_drafts_versions_and_send(v2, gmail, imap):
    draft = gmail.drafts.create(subject="Plan", to=[{"name": "Nyla", "email": IMAP}], body="<p>v0</p>")
    assert isinstance(draft, Draft)
    draft.save()
    assert draft.id and draft.object == "draft"
    assert draft.version == 0
    assert draft.to == [{"name": "Nyla", "email": IMAP}]
    assert draft["from"][0]["email"] == GMAIL  # the server fills in the sender

    stale = gmail.drafts.get(draft.id)
    assert stale.version == 0
    draft.subject = "Plan v1"
    draft.body = "<p>v1</p>"
    draft.save()  # PUT with the current version
    assert draft.version == 1
    assert draft.subject == "Plan v1"
    listed = gmail.drafts.all()
    assert [(d.id, d.version, d.subject) for d in listed] == [(draft.id, 1, "Plan v1")]

    # a stale version is a conflict, surfaced as the SDK's error
    stale.subject = "Lost update"
    with pytest.raises(NylasApiError) as e:
        stale.save()
    assert sdk_error(e, 409)["message"] == f"Draft {draft.id}.0 has already been updated to version 1"
    with pytest.raises(NylasApiError) as e:
        stale.send()
    sdk_error(e, 409)
    with pytest.raises(NylasApiError) as e:
        stale.delete()
    sdk_error(e, 409)
    assert gmail.drafts.get(draft.id).subject == "Plan v1"
    # version is required
    r = v2.raw("PUT", f"/drafts/{draft.id}", token=gmail.access_token, json={"subject": "x"})
    assert r.status_code == 400
    assert error_body(r)["message"] == "Must specify draft version"

    # send the saved draft: the sent message comes back, the draft is consumed
    sent = draft.send()
    assert sent["object"] == "message"
    assert sent["subject"] == "Plan v1"
    assert sent["to"][0]["email"] == IMAP
    assert sent["id"] != draft.id
    with pytest.raises(NylasApiError) as e:
        gmail.drafts.get(draft.id)
    sdk_error(e, 404)
    assert gmail.drafts.all() == []
    assert sent["id"] in {m.id for m in gmail.messages.where(in_="sent").all()}
    msg = gmail.messages.get(sent["id"])
    assert [label.name for label in msg.labels] == ["sent"]
    # the recipient (another simulated mailbox, an IMAP account: polled every 10 minutes) got it
    v2.advance("10m")
    assert "Plan v1" in {m.subject for m in imap.messages.all()}


def test_replies_join_the_thread(v2, gmail, mail):
    """Reply drafts, as the v2 engine makes them: `thread_id` alone replies to the thread's last message,
    `reply_to_message_id` joins that message's thread; the subject defaults to theirs."""
    report = gmail.messages.get(mail["report"])
    thread = gmail.threads.get(report.thread_id)
    draft = thread.create_reply()  # the SDK sets thread_id and the thread's subject
    draft.to = [{"name": "Alice", "email": ALICE}]
    draft.body = "Thanks, looks good."
    draft.save()
    assert draft.thread_id == thread.id
    assert draft.subject == "Quarterly report"
    assert draft.reply_to_message_id == mail["reply"]  # the thread's last message
    assert gmail.threads.get(thread.id).draft_ids == [draft.id]
    assert [d.id for d in thread.drafts.all()] == [draft.id]  # GET /drafts?thread_id=
    r = v2.raw("GET", f"/threads/{thread.id}", token=gmail.access_token, params={"view": "expanded"})
    assert [(d["id"], d["object"], d["version"]) for d in r.json()["drafts"]] == [(draft.id, "draft", 0)]

    draft.body = "Thanks, looks great."
    draft.save()  # an update keeps the thread
    assert draft.version == 1 and draft.thread_id == thread.id
    sent = draft.send()
    assert sent["thread_id"] == thread.id
    after = gmail.threads.get(thread.id)
    assert after.draft_ids == []
    assert sent["id"] in after.message_ids
    expanded = gmail.messages.where(view="expanded").get(sent["id"])
    assert expanded.headers["In-Reply-To"] == gmail.messages.where(view="expanded").get(mail["reply"]).headers["Message-Id"]

    # a reply to a message: that message's thread and subject
    lunch = gmail.messages.get(mail["lunch"])
    to_bob = gmail.drafts.create(to=[{"name": "Bob", "email": BOB}], body="Sure!", reply_to_message_id=lunch.id)
    to_bob.save()
    assert to_bob.thread_id == lunch.thread_id
    assert to_bob.subject == "Lunch?"
    # a message of another thread
    bad = gmail.drafts.create(to=[{"name": "Bob", "email": BOB}], thread_id=thread.id, reply_to_message_id=lunch.id)
    with pytest.raises(NylasApiError) as e:
        bad.save()
    sdk_error(e, 400)
    # sending directly with a thread_id also replies in that thread
    direct = gmail.drafts.create(to=[{"name": "Bob", "email": BOB}], body="On my way", thread_id=lunch.thread_id).send()
    assert direct["thread_id"] == lunch.thread_id
    assert direct["subject"] == "Lunch?"


def test_send_directly_raw_and_rejected(v2, gmail):
    direct = gmail.drafts.create(subject="Direct", to=[{"name": "Alice", "email": ALICE}], body="Hello Alice")
    sent = direct.send()  # no ID: the whole draft goes to /send
    assert sent["object"] == "message"
    assert sent["subject"] == "Direct"
    assert gmail.drafts.all() == []  # no draft left behind
    assert gmail.messages.get(sent["id"]).body == "Hello Alice"

    mime = (f"From: Ben <{GMAIL}>\r\nTo: Bob <{BOB}>\r\nSubject: Raw hello\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\nSent as MIME.\r\n")
    raw_sent = gmail.drafts.create().send_raw(mime)
    assert raw_sent["object"] == "message"
    assert raw_sent["subject"] == "Raw hello"
    assert raw_sent["to"] == [{"name": "Bob", "email": BOB}]

    # no recipient at all: 402, which the SDK maps to MessageRejectedError (not "payment required")
    with pytest.raises(MessageRejectedError) as e:
        gmail.drafts.create(subject="Nobody", body="?").send()
    response = e.value.args[0]  # MessageRejectedError(response)
    assert response.status_code == 402
    assert error_body(response)["type"] == "api_error"


def test_draft_delete_and_attachments(v2, gmail):
    upload = gmail.files.create()
    upload.filename = "notes.txt"
    upload.content_type = "text/plain"
    upload.data = "draft attachment"
    draft = gmail.drafts.create(subject="With file", to=[{"name": "Bob", "email": BOB}], body="see file")
    draft.attach(upload)  # uploads the file first
    assert upload.id and draft.file_ids == [upload.id]
    draft.save()
    assert [f["filename"] for f in draft.files] == ["notes.txt"]

    sent = draft.send()
    assert [f["filename"] for f in sent["files"]] == ["notes.txt"]
    message = gmail.messages.get(sent["id"])
    assert gmail.files.get(message.files[0]["id"]).download() == b"draft attachment"

    doomed = gmail.drafts.create(subject="Doomed", to=[{"name": "Bob", "email": BOB}])
    doomed.save()
    doomed.delete()  # DELETE with {"version": 0}
    with pytest.raises(NylasApiError) as e:
        gmail.drafts.get(doomed.id)
    sdk_error(e, 404)
    r = v2.raw("DELETE", "/drafts/0000000000000000000000000", token=gmail.access_token, json={"version": 0})
    assert r.status_code == 404
    error_body(r)


# --- files -------------------------------------------------------------------------------------

def test_files_upload_download_delete(v2, gmail):
    f = gmail.files.create()
    f.filename = "hello.txt"
    f.content_type = "text/plain"
    f.data = "Hello, world!"
    f.save()
    assert f.id and f.object == "file"
    assert f.size == 13
    assert f.filename == "hello.txt"
    assert f.content_type == "text/plain"

    blob = bytes(range(256)) * 4
    b = gmail.files.create()
    b.filename = "blob.bin"
    b.content_type = "application/octet-stream"
    b.stream = io.BytesIO(blob)
    b.save()
    assert b.size == len(blob)

    got = gmail.files.get(f.id)
    assert got.filename == "hello.txt" and got.size == 13
    assert got.download() == b"Hello, world!"
    assert gmail.files.get(b.id).download() == blob
    assert {x.id for x in gmail.files.all()} >= {f.id, b.id}
    assert [x.id for x in gmail.files.where(filename="hello.txt").all()] == [f.id]
    assert [x.id for x in gmail.files.where(content_type="application/octet-stream").all()] == [b.id]

    gmail.files.delete(f.id)
    with pytest.raises(NylasApiError) as e:
        gmail.files.get(f.id)
    sdk_error(e, 404)
    r = v2.raw("GET", f"/files/{f.id}/download", token=gmail.access_token)
    assert r.status_code == 404
    error_body(r)
    assert [x.id for x in gmail.files.all()] == [b.id]


# --- labels and folders ------------------------------------------------------------------------

def test_labels_crud_on_gmail(v2, gmail, mail):
    standard = labels_by_name(gmail)
    assert {"inbox", "sent", "drafts", "trash", "spam", "important"} <= set(standard)
    assert all(isinstance(label, Label) and label.object == "label" for label in standard.values())
    assert standard["inbox"].display_name == "Inbox"

    receipts = gmail.labels.create()
    receipts.display_name = "Receipts"
    receipts.save()
    assert receipts.id and receipts.object == "label"
    assert receipts.name is None
    assert gmail.labels.get(receipts.id).display_name == "Receipts"

    receipts.display_name = "Receipts/2026"
    receipts.save()  # PUT
    assert gmail.labels.get(receipts.id).display_name == "Receipts/2026"

    dup = gmail.labels.create(display_name="Receipts/2026")
    with pytest.raises(NylasApiError) as e:
        dup.save()
    sdk_error(e, 400)
    inbox = standard["inbox"]
    inbox.display_name = "Not the inbox"
    with pytest.raises(NylasApiError) as e:
        inbox.save()
    assert sdk_error(e, 400)["message"] == "Cannot modify a standard folder"

    # the label's messages
    gmail.messages.get(mail["lunch"]).add_label(receipts.id)
    assert [m.id for m in gmail.messages.where(in_=receipts.id).all()] == [mail["lunch"]]
    assert [m.id for m in gmail.messages.where(in_="Receipts/2026").all()] == [mail["lunch"]]

    gmail.messages.get(mail["lunch"]).remove_label(receipts.id)
    gmail.labels.delete(receipts.id)
    with pytest.raises(NylasApiError) as e:
        gmail.labels.get(receipts.id)
    sdk_error(e, 404)

    # the wrong organization unit
    with pytest.raises(NylasApiError) as e:
        gmail.folders.all()
    assert sdk_error(e, 404)["message"] == "GMail accounts don't support folders"
    r = v2.raw("GET", "/labels", token=gmail.access_token, params={"view": "count"})
    assert r.json() == {"count": len(standard)}


def test_folders_crud_on_imap(v2, imap):
    v2.deliver(IMAP, **{"from": {"name": "Alice", "email": ALICE}, "to": IMAP, "subject": "Project kickoff",
                        "body": "Let's start."})
    assert imap.messages.all() == []  # IMAP is polled: not synced yet
    v2.advance("10m")
    folders = folders_by_name(imap)
    assert {"inbox", "sent", "drafts", "trash"} <= set(folders)
    assert all(isinstance(f, Folder) and f.object == "folder" for f in folders.values())

    projects = imap.folders.create(display_name="Projects")
    projects.save()
    assert projects.id and projects.object == "folder" and projects.name is None

    msg = imap.messages.first()
    assert msg.folder.name == "inbox"
    assert msg.labels == []
    moved = msg.update_folder(projects.id)
    assert isinstance(moved, Folder) and moved.id == projects.id and moved.display_name == "Projects"
    assert imap.messages.get(msg.id).folder.id == projects.id
    assert [m.id for m in imap.messages.where(in_="Projects").all()] == [msg.id]
    assert imap.messages.where(in_="inbox").all() == []

    thread = imap.threads.get(msg.thread_id)
    assert [f.id for f in thread.folders] == [projects.id]

    projects.display_name = "Projects/2026"
    projects.save()
    assert imap.folders.get(projects.id).display_name == "Projects/2026"

    # a folder holding messages cannot be deleted; move the message back, then delete
    with pytest.raises(NylasApiError) as e:
        imap.folders.delete(projects.id)
    sdk_error(e, 400)
    assert msg.update_folder(folders["inbox"].id).name == "inbox"
    imap.folders.delete(projects.id)
    with pytest.raises(NylasApiError) as e:
        imap.folders.get(projects.id)
    sdk_error(e, 404)

    with pytest.raises(NylasApiError) as e:
        imap.folders.delete(folders["inbox"].id)
    assert sdk_error(e, 400)["message"] == "Cannot modify a standard folder"
    # the wrong organization unit, for the collection and for a message update
    with pytest.raises(NylasApiError) as e:
        imap.labels.all()
    assert sdk_error(e, 404)["message"] == "Non-GMail accounts don't support labels"
    with pytest.raises(NylasApiError) as e:
        msg.update_labels([folders["inbox"].id])
    assert sdk_error(e, 404)["message"] == "Non-GMail accounts don't support labels"
    r = v2.raw("PUT", f"/messages/{msg.id}", token=imap.access_token, json={"folder_id": None})
    assert r.status_code == 400
    assert error_body(r)["message"] == "Removing all folders is not allowed."


# --- delta -------------------------------------------------------------------------------------

def test_delta_cursor_since_and_longpoll(v2, gmail):
    cursor = gmail.deltas.latest_cursor()
    assert isinstance(cursor, str) and cursor

    empty = gmail.deltas.since(cursor)
    assert isinstance(empty, Deltas)
    assert empty.cursor_start == cursor and empty.cursor_end == cursor
    assert not empty.deltas

    v2.deliver(GMAIL, **{"from": ALICE, "to": GMAIL, "subject": "Delta me", "body": "change"})
    page = gmail.deltas.since(cursor)
    assert page.cursor_start == cursor
    assert page.cursor_end != cursor
    deltas = page.deltas
    assert deltas and all(isinstance(d, Delta) for d in deltas)
    created = [d for d in deltas if d.object == "message" and d.event == "create"]
    assert len(created) == 1, [plain(d) for d in deltas]
    message = created[0].attributes
    assert isinstance(message, Message)
    assert message.subject == "Delta me"
    assert message.id == created[0].id
    assert deltas[-1].cursor == page.cursor_end
    assert gmail.deltas.latest_cursor() == page.cursor_end

    # a change of the message shows up as a modify after cursor_end
    gmail.messages.get(message.id).mark_as_read()
    page2 = gmail.deltas.since(page.cursor_end)
    modified = [d for d in page2.deltas or [] if d.object == "message" and d.id == message.id]
    assert modified and modified[-1].event == "modify"
    assert modified[-1].attributes.unread is False

    # type filters (the SDK sends `excluded_types`)
    assert not [d for d in gmail.deltas.since(cursor, excluded_types=["message"]).deltas or []
                if d.object == "message"]
    only = gmail.deltas.since(cursor, include_types="message").deltas
    assert only and all(d.object == "message" for d in only)
    with pytest.raises(ValueError):
        gmail.deltas.since(cursor, include_types="message", excluded_types="label")  # SDK-side check

    # label changes are deltas of object "label" on a Gmail account
    label = gmail.labels.create(display_name="Delta label")
    label.save()
    labels = [d for d in gmail.deltas.since(page2.cursor_end).deltas or [] if d.object == "label"]
    assert [(d.event, d.id) for d in labels] == [("create", label.id)]
    assert isinstance(labels[0].attributes, Label)
    assert labels[0].attributes.display_name == "Delta label"

    # long-poll answers at once when changes are pending
    polled = gmail.deltas.longpoll(cursor, timeout=5)
    assert isinstance(polled, Deltas)
    assert polled.cursor_start == cursor
    assert any(d.object == "message" for d in polled.deltas)

    # a bad cursor: 400
    with pytest.raises(NylasApiError) as e:
        gmail.deltas.since("not-a-cursor")
    sdk_error(e, 400)


# --- webhooks ----------------------------------------------------------------------------------

@pytest.fixture
def receiver():
    r = Receiver()
    try:
        yield r
    finally:
        r.close()


def test_webhooks_crud_and_delivery(v2, app, admin, receiver):
    hook = admin.webhooks.create(callback_url=receiver.url, state="active",
                                 triggers=[Webhook.Trigger.MESSAGE_CREATED.value, "account.connected"])
    assert isinstance(hook, Webhook)
    hook.save()  # POST /a/<client_id>/webhooks; the simulator challenges the callback URL first
    assert hook.id
    assert hook.application_id == app.client_id
    assert hook.callback_url == receiver.url
    assert hook.state == "active"
    assert sorted(hook.triggers) == ["account.connected", "message.created"]
    assert hook.version == "2.0"
    assert len(receiver.challenges) == 1
    assert "challenge=" in receiver.challenges[0].path

    assert [w.id for w in admin.webhooks.all()] == [hook.id]
    got = admin.webhooks.get(hook.id)
    assert got.callback_url == receiver.url and got.state == "active"

    # a connected account and an arriving message are notified, signed with the client secret
    user, token = hosted_auth(v2, app, GMAIL)
    v2.deliver(GMAIL, **{"from": ALICE, "to": GMAIL, "subject": "Notify me", "body": "hello"})
    posts = receiver.wait_posts(2)
    payloads = []
    for post in posts:
        signature = post.header("X-Nylas-Signature")
        assert signature and Webhook.verify_webhook_signature(signature, post.body, app.client_secret)
        assert signature == hmac.new(app.client_secret.encode(), post.body, hashlib.sha256).hexdigest()
        payloads.append(json.loads(post.body))
    deltas = {d["type"]: d for p in payloads for d in p["deltas"]}
    assert set(deltas) == {"account.connected", "message.created"}
    connected = deltas["account.connected"]
    assert connected["object"] == "account"
    assert connected["object_data"]["id"] == connected["object_data"]["account_id"] == token["account_id"]
    created = deltas["message.created"]
    assert created["object"] == "message"
    assert isinstance(created["date"], int)
    data = created["object_data"]
    assert data["account_id"] == data["namespace_id"] == token["account_id"]
    assert data["object"] == "message"
    assert "attributes" in data and "metadata" in data
    # v2 notifications carry the ID only: the receiver fetches the object
    message = user.messages.get(data["id"])
    assert message.subject == "Notify me"

    # only `state` is writable: deactivate (no challenge), reactivate (challenged again)
    got.state = "inactive"
    got.save()  # PUT {"state": "inactive"}
    assert got.state == "inactive"
    assert admin.webhooks.get(hook.id).state == "inactive"
    assert len(receiver.challenges) == 1
    got.state = "active"
    got.save()
    assert admin.webhooks.get(hook.id).state == "active"
    assert len(receiver.challenges) == 2

    admin.webhooks.delete(hook.id)
    with pytest.raises(NylasApiError) as e:
        admin.webhooks.get(hook.id)
    sdk_error(e, 404)
    assert admin.webhooks.all() == []


def test_webhook_message_created_attributes(v2, app, admin, receiver):
    admin.webhooks.create(callback_url=receiver.url, triggers=["message.created"]).save()
    user, _ = hosted_auth(v2, app, GMAIL)
    v2.deliver(GMAIL, **{"from": ALICE, "to": GMAIL, "subject": "Attributes", "body": "hello", "date": v2.now() - 60})
    data = json.loads(receiver.wait_posts(1)[0].body)["deltas"][0]["object_data"]
    message = user.messages.get(data["id"])
    assert data["attributes"] == {"thread_id": message.thread_id, "received_date": v2.now() - 60}


def test_webhook_errors(v2, app, admin, receiver):
    # the callback URL fails the challenge: no webhook
    receiver.challenge = 404
    failing = admin.webhooks.create(callback_url=receiver.url, triggers=["message.created"], state="active")
    with pytest.raises(NylasApiError) as e:
        failing.save()
    sdk_error(e, 400)
    assert admin.webhooks.all() == []
    receiver.challenge = "wrong"
    with pytest.raises(NylasApiError) as e:
        admin.webhooks.create(callback_url=receiver.url, triggers=["message.created"]).save()
    sdk_error(e, 400)
    receiver.challenge = "echo"

    # an unknown trigger (a v3 one)
    with pytest.raises(NylasApiError) as e:
        admin.webhooks.create(callback_url=receiver.url, triggers=["grant.created"]).save()
    sdk_error(e, 400)
    # a wrong secret
    wrong = APIClient(app.client_id, "not-the-secret", None, api_server=app.base_url)
    with pytest.raises(NylasApiError) as e:
        wrong.webhooks.all()
    sdk_error(e, 401)
    with pytest.raises(NylasApiError) as e:
        admin.webhooks.get("0000000000000000000000000")
    sdk_error(e, 404)


# --- last: the migration report of this suite's own v2 calls --------------------------------------

def test_zz_migration_report_of_this_suite(v2, gmail, tmp_path, request):
    """`nylas-sim report migration --from-journal` over every v2 call this file made (the journal of
    each test is kept across resets): each endpoint called is listed with its call count and its v3
    replacement, and no call is left without one."""
    import subprocess
    gmail.messages.search("anything")
    journal = v2.journal + v2.journal_since_reset()
    # with the whole file run (not a -k selection), the journal holds every test's calls
    whole_file = sum(1 for item in request.session.items if item.fspath == request.node.fspath) > 20
    if whole_file:
        assert len(journal) > 300, len(journal)
    path = tmp_path / "journal.json"
    path.write_text(json.dumps({"data": journal}))
    binary = os.environ.get("NYLAS_SIM_BIN", str(DEFAULT_BIN))
    out = subprocess.run([binary, "report", "migration", "--from-journal", str(path), "--json"],
                         capture_output=True, text=True, timeout=60, check=True)
    report = json.loads(out.stdout)
    endpoints = {e["v2"]: e for e in report["endpoints"]}
    # every journal entry is counted under exactly one endpoint
    assert sum(e["calls"] for e in endpoints.values()) == len(journal)
    # calls the suite makes to paths that do not exist (error tests) are the only ones without a v3 equivalent
    unknown = {k for k, e in endpoints.items() if e["status"] == "unknown"}
    routed = [j for j in journal if j.get("status") != 404 or "Couldn't find" in (j.get("response_body") or "")]
    for k in unknown:
        method, p = k.split(" ", 1)
        assert all(not (j["method"] == method and j["path"] == p) for j in routed), f"{k} was answered but has no v3 replacement"
    for e in endpoints.values():
        if e["status"] != "unknown":
            assert e["status"] in {"migrated", "renamed", "removed"}, e
            assert e["v3"], e
    # the endpoints this file certainly calls, with the replacements of the diff view
    expect = {
        "GET /oauth/authorize": "GET /v3/connect/auth",
        "POST /oauth/token": "POST /v3/connect/token",
        "GET /account": "GET /v3/grants/me",
        "GET /messages": "GET /v3/grants/{grant_id}/messages",
        "GET /messages/search": "search_query_native",
        "GET /threads/search": "/threads",
        "POST /send": "POST /v3/grants/{grant_id}/messages/send",
        "GET /delta": "webhooks",
        "POST /a/{client_id}/webhooks": "POST /v3/webhooks",
        "POST /a/{client_id}/accounts/{id}/downgrade": "DELETE /v3/grants/{grant_id}",
    }
    if not whole_file:
        expect = {k: expect[k] for k in ("GET /messages/search", "GET /oauth/authorize", "POST /oauth/token")}
    for v2_call, replacement in expect.items():
        assert v2_call in endpoints, f"{v2_call} missing from the report: {sorted(endpoints)}"
        assert replacement in endpoints[v2_call]["v3"], endpoints[v2_call]
        assert endpoints[v2_call]["calls"] >= 1
    if whole_file:
        assert len(endpoints) - len(unknown) >= 30, sorted(endpoints)
    changes = " ".join(report["behaviour_changes"])
    bites = ("expire after one hour", "grant", "folders", "webhooks") if whole_file else ("expire after one hour",)
    for bite in bites:
        assert bite in changes, report["behaviour_changes"]
