"""v3 authentication contract: hosted OAuth (+PKCE), token exchange/refresh/info/revoke, custom auth,
provider detection, regions, and the raw error envelopes — driven by the official Python SDK 6.18.0."""
from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from nylas.models.errors import NylasApiError, NylasOAuthError

from conftest import CALLBACK
from helpers import as_grant, hosted_auth

HOUR = 3600


def query_of(url: str) -> dict:
    return {k: v[0] if len(v) == 1 else v for k, v in parse_qs(urlparse(url).query).items()}


# --- hosted OAuth ------------------------------------------------------------------------------

def test_url_for_oauth2_then_code_exchange(reset, us, nylas):
    url = nylas.auth.url_for_oauth2({
        "client_id": us.client_id, "redirect_uri": CALLBACK, "provider": "google", "access_type": "offline",
        "login_hint": "alice@gmail.com", "state": "opaque-state-42",
        "scope": ["https://www.googleapis.com/auth/gmail.readonly", "profile"],
    })
    assert url.startswith(us.base_url + "/v3/connect/auth?")
    q = query_of(url)
    assert q["client_id"] == us.client_id and q["redirect_uri"] == CALLBACK
    assert q["response_type"] == "code" and q["access_type"] == "offline" and q["provider"] == "google"
    assert q["scope"] == "https://www.googleapis.com/auth/gmail.readonly profile"

    callback = reset.follow_auth_url(url)
    assert callback["state"] == "opaque-state-42"
    assert callback["code"]

    tokens = nylas.auth.exchange_code_for_token(
        {"redirect_uri": CALLBACK, "code": callback["code"], "client_id": us.client_id})
    assert tokens.access_token and tokens.grant_id
    assert tokens.expires_in == HOUR
    assert tokens.token_type == "Bearer"
    assert tokens.email == "alice@gmail.com"
    assert tokens.provider == "google"
    assert tokens.refresh_token, "access_type=offline must return a refresh token"
    assert tokens.scope.split(" ") == ["https://www.googleapis.com/auth/gmail.readonly", "profile"]
    assert tokens.id_token and tokens.id_token.count(".") == 2

    grant = nylas.grants.find(tokens.grant_id).data
    assert grant.email == "alice@gmail.com" and grant.provider == "google" and grant.grant_status == "valid"

    # Codes are single-use.
    with pytest.raises(NylasOAuthError) as exc:
        nylas.auth.exchange_code_for_token(
            {"redirect_uri": CALLBACK, "code": callback["code"], "client_id": us.client_id})
    assert exc.value.status_code == 400
    assert exc.value.error == "invalid_grant" and exc.value.error_code == 400


def test_online_access_has_no_refresh_token(reset, us, nylas):
    tokens = hosted_auth(reset, nylas, us, "bob@gmail.com", access_type="online")
    assert tokens.access_token and tokens.grant_id
    assert tokens.refresh_token is None


def test_url_for_oauth2_pkce_then_code_exchange(reset, us, nylas):
    pkce = nylas.auth.url_for_oauth2_pkce({
        "client_id": us.client_id, "redirect_uri": CALLBACK, "login_hint": "pkce@outlook.com", "state": "s1"})
    # The SDK's own hashing: base64(hex(sha256(secret))) without padding, method "s256".
    expected = base64.b64encode(hashlib.sha256(pkce.secret.encode()).hexdigest().encode()).decode().rstrip("=")
    assert pkce.secret_hash == expected
    q = query_of(pkce.url)
    assert q["code_challenge"] == expected and q["code_challenge_method"] == "s256"

    callback = reset.follow_auth_url(pkce.url)
    assert callback["state"] == "s1"
    tokens = nylas.auth.exchange_code_for_token({
        "redirect_uri": CALLBACK, "code": callback["code"], "client_id": us.client_id,
        "code_verifier": pkce.secret})
    assert tokens.email == "pkce@outlook.com"
    assert tokens.provider == "microsoft"
    assert tokens.expires_in == HOUR
    me = as_grant(us, tokens.access_token).grants.find("me").data
    assert me.id == tokens.grant_id and me.email == "pkce@outlook.com"


def test_pkce_wrong_or_missing_verifier_is_refused(reset, us, nylas):
    pkce = nylas.auth.url_for_oauth2_pkce({"client_id": us.client_id, "redirect_uri": CALLBACK,
                                           "login_hint": "pkce2@gmail.com"})
    code = reset.follow_auth_url(pkce.url)["code"]
    with pytest.raises(NylasOAuthError) as exc:
        nylas.auth.exchange_code_for_token({"redirect_uri": CALLBACK, "code": code, "client_id": us.client_id,
                                            "code_verifier": "not-the-secret"})
    assert exc.value.status_code == 400 and exc.value.error == "invalid_grant"

    pkce = nylas.auth.url_for_oauth2_pkce({"client_id": us.client_id, "redirect_uri": CALLBACK,
                                           "login_hint": "pkce2@gmail.com"})
    code = reset.follow_auth_url(pkce.url)["code"]
    with pytest.raises(NylasOAuthError) as exc:
        nylas.auth.exchange_code_for_token({"redirect_uri": CALLBACK, "code": code, "client_id": us.client_id})
    assert exc.value.status_code == 400 and exc.value.error == "invalid_request"


def test_exchange_with_wrong_redirect_uri_is_refused(reset, us, nylas):
    url = nylas.auth.url_for_oauth2({"client_id": us.client_id, "redirect_uri": CALLBACK,
                                     "login_hint": "carol@gmail.com"})
    code = reset.follow_auth_url(url)["code"]
    with pytest.raises(NylasOAuthError) as exc:
        nylas.auth.exchange_code_for_token({"redirect_uri": "http://localhost:3000/other", "code": code,
                                            "client_id": us.client_id})
    assert exc.value.error == "invalid_grant" and exc.value.error_code == 400


def test_unregistered_redirect_uri_is_refused_at_auth(reset, us, nylas):
    url = nylas.auth.url_for_oauth2({"client_id": us.client_id, "redirect_uri": "http://localhost:9999/nope",
                                     "login_hint": "dave@gmail.com"})
    r = requests.get(url, allow_redirects=False, timeout=10)
    assert r.status_code == 400
    body = r.json()
    assert body["error"]["type"] == "grant.callback_uri_not_allowed"
    assert body["request_id"]


def test_auth_url_sdk_extras_are_accepted(reset, us, nylas):
    """SDK-rendered extras: comma prompt (%2C), booleans as `True`, options=smtp_required, provider list."""
    url = nylas.auth.url_for_oauth2({
        "client_id": us.client_id, "redirect_uri": CALLBACK, "provider": "imap", "login_hint": "nina@example.com",
        "prompt": "detect,select_provider", "include_grant_scopes": True, "smtp_required": True, "state": "x y/z"})
    q = query_of(url)
    assert q["prompt"] == "detect,select_provider" and q["include_grant_scopes"] == "True"
    assert q["options"] == "smtp_required" and "smtp_required" not in q
    callback = reset.follow_auth_url(url)
    assert callback["state"] == "x y/z"
    tokens = nylas.auth.exchange_code_for_token(
        {"redirect_uri": CALLBACK, "code": callback["code"], "client_id": us.client_id})
    assert tokens.provider == "imap" and tokens.email == "nina@example.com"


def test_login_hint_selects_provider(reset, us, nylas):
    for email, provider in [("p1@gmail.com", "google"), ("p2@outlook.com", "microsoft"),
                            ("p3@icloud.com", "icloud"), ("p4@yahoo.com", "yahoo"), ("p5@example.com", "imap")]:
        tokens = hosted_auth(reset, nylas, us, email)
        assert (tokens.email, tokens.provider) == (email, provider)
        assert nylas.grants.find(tokens.grant_id).data.provider == provider


def test_consent_denied_redirects_with_error(reset, us, nylas):
    reset.consent("deny")
    url = nylas.auth.url_for_oauth2({"client_id": us.client_id, "redirect_uri": CALLBACK,
                                     "login_hint": "no@gmail.com", "state": "st"})
    callback = reset.follow_auth_url(url)
    assert callback["error"] == "access_denied" and callback["state"] == "st"
    assert "code" not in callback
    assert nylas.grants.list().data == []


def test_consent_page_then_approve(reset, us, nylas):
    reset.consent("page")
    url = nylas.auth.url_for_oauth2({"client_id": us.client_id, "redirect_uri": CALLBACK,
                                     "login_hint": "yes@gmail.com", "state": "st2"})
    page = requests.get(url, allow_redirects=False, timeout=10)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    m = re.search(r'id="approve" href="([^"]+)"', page.text)
    assert m, page.text
    callback = reset.follow_auth_url(us.base_url + m.group(1).replace("&amp;", "&"))
    assert callback["state"] == "st2"
    tokens = nylas.auth.exchange_code_for_token(
        {"redirect_uri": CALLBACK, "code": callback["code"], "client_id": us.client_id})
    assert tokens.email == "yes@gmail.com"


def test_unknown_client_id_at_auth(reset, us, eu, nylas):
    # The EU application's client id is unknown to the US region.
    url = nylas.auth.url_for_oauth2({"client_id": eu.client_id, "redirect_uri": CALLBACK, "login_hint": "q@gmail.com"})
    r = requests.get(url, allow_redirects=False, timeout=10)
    assert r.status_code == 400
    assert r.json()["error"]["type"] and r.json()["request_id"]


def test_eu_hosted_auth(reset, us, eu):
    eu_nylas = eu.client()
    url = eu_nylas.auth.url_for_oauth2({"client_id": eu.client_id, "redirect_uri": CALLBACK,
                                        "login_hint": "euro@gmail.com", "access_type": "offline"})
    assert url.startswith(eu.base_url + "/v3/connect/auth?")
    callback = reset.follow_auth_url(url)
    tokens = eu_nylas.auth.exchange_code_for_token(
        {"redirect_uri": CALLBACK, "code": callback["code"], "client_id": eu.client_id})
    assert eu_nylas.grants.find(tokens.grant_id).data.email == "euro@gmail.com"
    assert us.client().grants.list().data == []
    # An EU code cannot be redeemed in the US.
    url = eu_nylas.auth.url_for_oauth2({"client_id": eu.client_id, "redirect_uri": CALLBACK, "login_hint": "e2@gmail.com"})
    code = reset.follow_auth_url(url)["code"]
    with pytest.raises(NylasOAuthError) as exc:
        us.client().auth.exchange_code_for_token({"redirect_uri": CALLBACK, "code": code, "client_id": us.client_id})
    assert exc.value.status_code == 400


# --- refresh, expiry, token info, revoke -------------------------------------------------------

def test_access_token_expires_after_an_hour_and_refresh_works(reset, us, nylas):
    tokens = hosted_auth(reset, nylas, us, "erin@gmail.com")
    old = as_grant(us, tokens.access_token)

    reset.advance("59m")
    assert old.grants.find("me").data.id == tokens.grant_id

    reset.advance("2m")  # 61 minutes after issue
    with pytest.raises(NylasApiError) as exc:
        old.grants.find("me")
    assert exc.value.status_code == 401

    refreshed = nylas.auth.refresh_access_token({
        "redirect_uri": CALLBACK, "refresh_token": tokens.refresh_token, "client_id": us.client_id})
    assert refreshed.access_token and refreshed.access_token != tokens.access_token
    assert refreshed.grant_id == tokens.grant_id
    assert refreshed.expires_in == HOUR
    assert refreshed.email == "erin@gmail.com"

    me = as_grant(us, refreshed.access_token).grants.find("me").data
    assert me.id == tokens.grant_id
    with pytest.raises(NylasApiError) as exc:
        old.grants.find("me")
    assert exc.value.status_code == 401

    info = nylas.auth.validate_access_token(refreshed.access_token).data
    assert info.exp - info.iat == HOUR
    assert info.iat == reset.now()


def test_refresh_with_unknown_token_is_oauth_error(reset, us, nylas):
    with pytest.raises(NylasOAuthError) as exc:
        nylas.auth.refresh_access_token({"redirect_uri": CALLBACK, "refresh_token": "nyrt_bogus",
                                         "client_id": us.client_id})
    assert exc.value.status_code == 400
    assert exc.value.error == "invalid_grant" and exc.value.error_code == 400
    assert exc.value.error_description and exc.value.error_uri


def test_token_info(reset, us, nylas):
    tokens = hosted_auth(reset, nylas, us, "frank@gmail.com")
    now = reset.now()

    by_id = nylas.auth.id_token_info(tokens.id_token)
    assert by_id.request_id
    info = by_id.data
    assert info.iss == "https://nylas.com"
    assert info.aud == us.application_id
    assert info.sub == tokens.grant_id
    assert info.email == "frank@gmail.com"
    assert info.iat == now and info.exp == now + HOUR

    info = nylas.auth.validate_access_token(tokens.access_token).data
    assert info.iss == "https://nylas.com"
    assert info.aud == us.application_id
    assert info.sub == tokens.grant_id
    assert info.email == "frank@gmail.com"
    assert info.exp == info.iat + HOUR

    # tokeninfo errors use the OAuth shape ("connect/token" is a prefix of the path, so the SDK parses it as such).
    with pytest.raises(NylasOAuthError) as exc:
        nylas.auth.validate_access_token("nyat_not-a-token")
    assert exc.value.status_code == 400
    assert exc.value.error == "invalid_token" and exc.value.error_code == 400
    with pytest.raises(NylasOAuthError) as exc:
        nylas.auth.id_token_info(tokens.id_token[:-4] + "AAAA")
    assert exc.value.status_code == 400 and exc.value.error == "invalid_token"


def test_revoke(reset, us, nylas):
    tokens = hosted_auth(reset, nylas, us, "gina@gmail.com")
    grant_client = as_grant(us, tokens.access_token)
    assert grant_client.grants.find("me").data.id == tokens.grant_id

    assert nylas.auth.revoke(tokens.access_token) is True

    with pytest.raises(NylasApiError) as exc:
        grant_client.grants.find("me")
    assert exc.value.status_code == 401
    with pytest.raises(NylasOAuthError) as exc:
        nylas.auth.validate_access_token(tokens.access_token)
    assert exc.value.status_code == 400 and exc.value.error == "invalid_token"
    with pytest.raises(NylasOAuthError) as exc:
        nylas.auth.revoke(tokens.access_token)
    assert exc.value.status_code == 400 and exc.value.error == "invalid_token"

    # The parent refresh token is revoked with it.
    with pytest.raises(NylasOAuthError) as exc:
        nylas.auth.refresh_access_token({"redirect_uri": CALLBACK, "refresh_token": tokens.refresh_token,
                                         "client_id": us.client_id})
    assert exc.value.status_code == 400 and exc.value.error == "invalid_grant"

    # Revoking a token does not delete the grant.
    assert nylas.grants.find(tokens.grant_id).data.grant_status == "valid"


def test_grants_me_with_access_token(reset, us, nylas):
    tokens = hosted_auth(reset, nylas, us, "hank@yahoo.com")
    me = as_grant(us, tokens.access_token).grants.find("me")
    assert me.request_id
    assert me.data.id == tokens.grant_id
    assert me.data.email == "hank@yahoo.com" and me.data.provider == "yahoo"
    # `me` is access-token only (the reference names no status for an API key: 400 or 401).
    with pytest.raises(NylasApiError) as exc:
        nylas.grants.find("me")
    assert exc.value.status_code in (400, 401)
    # An access token is refused on API-key-only admin endpoints.
    with pytest.raises(NylasApiError) as exc:
        as_grant(us, tokens.access_token).grants.list()
    assert exc.value.status_code in (401, 403)
    with pytest.raises(NylasApiError) as exc:
        as_grant(us, tokens.access_token).grants.find(tokens.grant_id)
    assert exc.value.status_code in (401, 403)


# --- custom authentication ---------------------------------------------------------------------

def test_custom_authentication_imap(reset, us, nylas):
    resp = nylas.auth.custom_authentication({
        "provider": "imap",
        "settings": {"imap_username": "ivy@example.com", "imap_password": "s3cret", "imap_host": "imap.example.com",
                     "imap_port": 993, "smtp_host": "smtp.example.com", "smtp_port": 465},
        "state": "imap-state",
    })
    assert resp.request_id
    g = resp.data
    assert g.id and g.provider == "imap" and g.email == "ivy@example.com"
    assert g.grant_status == "valid" and g.state == "imap-state"
    assert g.settings.get("imap_host") == "imap.example.com"
    assert "imap_password" not in g.settings, "secrets must not be echoed"
    assert nylas.grants.find(g.id).data.email == "ivy@example.com"


def test_custom_authentication_google_and_reauth(reset, us, nylas):
    first = nylas.auth.custom_authentication({
        "provider": "google", "settings": {"refresh_token": "sim:jane@gmail.com"},
        "scope": ["https://www.googleapis.com/auth/gmail.readonly"]}).data
    assert first.provider == "google" and first.email == "jane@gmail.com"
    assert first.scope == ["https://www.googleapis.com/auth/gmail.readonly"]
    assert "refresh_token" not in (first.settings or {})
    again = nylas.auth.custom_authentication({
        "provider": "google", "settings": {"refresh_token": "sim:jane@gmail.com"}}).data
    assert again.id == first.id, "custom auth of an existing email re-authenticates the same grant"


@pytest.mark.parametrize("provider, settings, email", [
    ("icloud", {"username": "otto@icloud.com", "password": "app-pw"}, "otto@icloud.com"),
    ("ews", {"email": "ewa@corp.example.com", "ews_username": "CORP\\ewa", "ews_password": "pw",
             "ews_host": "mail.corp.example.com", "ews_port": 443}, "ewa@corp.example.com"),
    ("virtual-calendar", {"email": "room-101"}, "room-101"),
])
def test_custom_authentication_other_providers(reset, sim, nylas, provider, settings, email):
    g = nylas.auth.custom_authentication({"provider": provider, "settings": settings}).data
    assert g.provider == provider and g.email == email and g.grant_status == "valid"
    assert not {"password", "ews_password"} & set(g.settings or {})
    assert sim.last_status("POST", "/v3/connect/custom") == 201


def test_custom_authentication_status_and_auth(reset, sim, us, nylas):
    nylas.auth.custom_authentication({"provider": "google", "settings": {"refresh_token": "sim:st@gmail.com"}})
    assert sim.last_status("POST", "/v3/connect/custom") == 201
    tokens = hosted_auth(sim, nylas, us, "tok@gmail.com")
    with pytest.raises(NylasApiError) as exc:  # API key only
        as_grant(us, tokens.access_token).auth.custom_authentication(
            {"provider": "google", "settings": {"refresh_token": "sim:st2@gmail.com"}})
    assert exc.value.status_code in (401, 403)


def test_custom_authentication_validation_error(reset, us, nylas):
    with pytest.raises(NylasApiError) as exc:
        nylas.auth.custom_authentication({
            "provider": "imap",
            "settings": {"imap_username": "kim@example.com", "imap_password": "pw", "imap_port": 993},
        })
    assert exc.value.status_code == 400
    assert exc.value.type == "invalid_request_error"
    assert "imap_host" in str(exc.value)
    assert exc.value.request_id
    assert nylas.grants.list().data == []


# --- provider detection ------------------------------------------------------------------------

@pytest.mark.parametrize("email, provider", [
    ("someone@gmail.com", "google"), ("someone@outlook.com", "microsoft"), ("someone@icloud.com", "icloud"),
    ("someone@yahoo.com", "yahoo"), ("someone@example.com", "imap"),
])
def test_detect_provider(reset, nylas, email, provider):
    resp = nylas.auth.detect_provider({"email": email})
    assert resp.request_id
    assert resp.data.email_address == email
    assert resp.data.detected is True
    assert resp.data.provider == provider


def test_detect_provider_all_types(reset, nylas):
    # The SDK renders the boolean as `True`.
    data = nylas.auth.detect_provider({"email": "zed@icloud.com", "all_provider_types": True}).data
    assert data.detected is True and data.provider == "icloud" and data.type == "icloud"
    with pytest.raises(NylasApiError) as exc:
        nylas.auth.detect_provider({"email": "not-an-email"})
    assert exc.value.status_code == 400


# --- regions -----------------------------------------------------------------------------------

def test_api_key_is_bound_to_its_region(reset, us, eu):
    assert us.client().applications.info().data.region == "us"
    assert eu.client().applications.info().data.region == "eu"
    wrong = eu.client(api_key=us.api_key)  # US API key against the EU server
    with pytest.raises(NylasApiError) as exc:
        wrong.applications.info()
    assert exc.value.status_code == 401
    with pytest.raises(NylasApiError) as exc:
        wrong.grants.list()
    assert exc.value.status_code == 401


def test_access_token_is_bound_to_its_region(reset, us, eu, nylas):
    tokens = hosted_auth(reset, nylas, us, "lena@gmail.com")
    with pytest.raises(NylasApiError) as exc:
        eu.client(api_key=tokens.access_token).grants.find("me")
    assert exc.value.status_code == 401


# --- raw error envelopes -----------------------------------------------------------------------

def test_malformed_json_error_envelope(reset, us):
    r = requests.post(us.base_url + "/v3/connectors", data=b'{"provider": "zoom",',
                      headers={"Authorization": f"Bearer {us.api_key}", "Content-Type": "application/json"},
                      timeout=10)
    assert r.status_code == 400
    body = r.json()
    assert set(body) == {"request_id", "error"}
    assert isinstance(body["request_id"], str) and body["request_id"]
    assert isinstance(body["error"]["type"], str) and body["error"]["type"]
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert r.headers.get("x-request-id") == body["request_id"]


def test_unauthorized_error_envelope(reset, us):
    r = requests.get(us.base_url + "/v3/grants", headers={"Authorization": "Bearer nope"}, timeout=10)
    assert r.status_code == 401
    body = r.json()
    assert body["request_id"] and body["error"]["type"] and body["error"]["message"]


def test_oauth_error_envelope(reset, us):
    # Missing code.
    r = requests.post(us.base_url + "/v3/connect/token", timeout=10, json={
        "grant_type": "authorization_code", "client_id": us.client_id, "client_secret": us.api_key,
        "redirect_uri": CALLBACK})
    assert r.status_code == 400
    body = r.json()
    assert set(body) >= {"error", "error_description", "error_uri", "error_code"}
    assert "request_id" not in body
    assert body["error"] == "invalid_request"
    assert body["error_code"] == 400 and isinstance(body["error_code"], int)
    assert "code" in body["error_description"]
    assert isinstance(body["error_uri"], str) and body["error_uri"]

    # Unknown code, form-encoded (OAuth clients may use either encoding).
    r = requests.post(us.base_url + "/v3/connect/token", timeout=10, data={
        "grant_type": "authorization_code", "client_id": us.client_id, "client_secret": us.api_key,
        "redirect_uri": CALLBACK, "code": "nyc0_unknown"})
    assert r.status_code == 400
    body = r.json()
    assert body["error"] == "invalid_grant" and body["error_code"] == 400
    assert body["error_description"] and body["error_uri"]

    # Revoke of an unknown token.
    r = requests.post(us.base_url + "/v3/connect/revoke", params={"token": "nyat_unknown"}, timeout=10)
    assert r.status_code == 400
    body = r.json()
    assert body["error"] == "invalid_token" and body["error_code"] == 400
    assert set(body) >= {"error", "error_description", "error_uri", "error_code"}


def test_token_response_is_unenveloped(reset, us, nylas):
    url = nylas.auth.url_for_oauth2({"client_id": us.client_id, "redirect_uri": CALLBACK,
                                     "login_hint": "mo@gmail.com", "access_type": "offline"})
    code = reset.follow_auth_url(url)["code"]
    r = requests.post(us.base_url + "/v3/connect/token", timeout=10, json={
        "grant_type": "authorization_code", "client_id": us.client_id, "client_secret": us.api_key,
        "redirect_uri": CALLBACK, "code": code})
    assert r.status_code == 200
    body = r.json()
    assert "data" not in body and "request_id" not in body
    assert body["token_type"] == "Bearer" and body["expires_in"] == HOUR
    assert body["grant_id"] and body["access_token"] and body["refresh_token"]
    assert body["provider"] == "google" and isinstance(body["scope"], str)


def _raw_code(sim, app, email: str, **params) -> str:
    q = {"client_id": app.client_id, "redirect_uri": CALLBACK, "response_type": "code", "login_hint": email, **params}
    r = requests.get(app.base_url + "/v3/connect/auth", params=q, allow_redirects=False, timeout=10)
    assert r.status_code == 302, r.text
    return parse_qs(urlparse(r.headers["Location"]).query)["code"][0]


@pytest.mark.parametrize("method", ["S256", "plain"])
def test_rfc7636_pkce_without_client_secret(reset, us, method):
    """Other clients send RFC 7636 challenges (base64url of the raw digest, or plain) and no client_secret."""
    verifier = "a-very-long-random-code-verifier-0123456789-abcdefghijklmnop"
    challenge = verifier if method == "plain" else \
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    code = _raw_code(reset, us, "rfc@gmail.com", code_challenge=challenge, code_challenge_method=method)
    r = requests.post(us.base_url + "/v3/connect/token", timeout=10, json={
        "grant_type": "authorization_code", "client_id": us.client_id, "redirect_uri": CALLBACK,
        "code": code, "code_verifier": verifier})
    assert r.status_code == 200, r.text
    assert r.json()["email"] == "rfc@gmail.com"


def test_exchange_without_secret_or_verifier_is_refused(reset, us):
    code = _raw_code(reset, us, "nosecret@gmail.com")
    r = requests.post(us.base_url + "/v3/connect/token", timeout=10, json={
        "grant_type": "authorization_code", "client_id": us.client_id, "redirect_uri": CALLBACK, "code": code})
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_request" and r.json()["error_code"] == 400


def test_wrong_client_secret_is_refused(reset, us, nylas):
    code = _raw_code(reset, us, "badsecret@gmail.com")
    with pytest.raises(NylasOAuthError) as exc:
        nylas.auth.exchange_code_for_token({"redirect_uri": CALLBACK, "code": code, "client_id": us.client_id,
                                            "client_secret": "nyk_v0_wrong"})
    assert exc.value.status_code in (400, 401) and exc.value.error == "invalid_client"


def test_client_credentials_grant(reset, sim, us):
    g = sim.create_grant("cc@gmail.com", "google")
    r = requests.post(us.base_url + "/v3/connect/token", timeout=10, json={
        "grant_type": "client_credentials", "client_id": us.client_id, "client_secret": us.api_key,
        "grant_id": g["id"]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["grant_id"] == g["id"] and body["expires_in"] == HOUR and body["token_type"] == "Bearer"
    assert as_grant(us, body["access_token"]).grants.find("me").data.id == g["id"]


def test_offset_list_envelopes(reset, sim, us):
    sim.create_grant("l1@gmail.com", "google")
    headers = {"Authorization": f"Bearer {us.api_key}"}
    for path in ("/v3/grants", "/v3/connectors", "/v3/connectors/google/creds"):
        r = requests.get(us.base_url + path, params={"limit": 5, "offset": 0}, headers=headers, timeout=10)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["request_id"] and isinstance(body["data"], list)
        assert body["limit"] == 5 and body["offset"] == 0, path
