"""v3 admin contract: applications, redirect URIs, connectors, credentials and grants — driven by the
official Python SDK 6.18.0 with the application's API key."""
from __future__ import annotations

import pytest
import requests
from nylas.models.errors import NylasApiError, NylasOAuthError
from nylas.models.response import DeleteResponse

from conftest import CALLBACK
from helpers import as_grant, hosted_auth

SEEDED_CONNECTORS = {"google", "microsoft", "imap", "icloud", "yahoo", "ews", "virtual-calendar"}


# --- applications ------------------------------------------------------------------------------

def test_application_info(reset, us, nylas):
    resp = nylas.applications.info()
    assert resp.request_id
    app = resp.data
    assert app.application_id == us.application_id
    assert app.organization_id
    assert app.region == "us"
    assert app.environment == "production"
    assert app.branding.name
    assert CALLBACK in [u.url for u in app.callback_uris]
    assert all(u.id and u.platform == "web" for u in app.callback_uris)


def test_application_update(reset, us, nylas):
    resp = nylas.applications.update({
        "branding": {"name": "Contract Test App", "description": "driven by nylas==6.18.0",
                     "website_url": "https://contract.example.com"},
        "hosted_authentication": {"title": "Welcome", "alignment": "center", "spacing": 5},
        "additional_settings": {"rotate_refresh_token": True},
    })
    assert resp.request_id
    app = resp.data
    assert app.application_id == us.application_id
    assert app.branding.name == "Contract Test App"
    assert app.branding.description == "driven by nylas==6.18.0"
    assert app.hosted_authentication.title == "Welcome"
    assert app.hosted_authentication.alignment == "center"
    assert app.hosted_authentication.spacing == 5

    again = nylas.applications.info().data
    assert again.branding.name == "Contract Test App"
    assert again.branding.website_url == "https://contract.example.com"
    assert again.hosted_authentication.title == "Welcome"

    # additional_settings is write-only.
    raw = requests.get(us.base_url + "/v3/applications", headers={"Authorization": f"Bearer {us.api_key}"},
                       timeout=10).json()
    assert "additional_settings" not in raw["data"]


def test_application_update_callback_uris(reset, us, nylas):
    app = nylas.applications.update({"callback_uris": [
        {"url": CALLBACK, "platform": "web"},
        {"url": "https://app.example.com/callback", "platform": "web"},
    ]}).data
    assert sorted(u.url for u in app.callback_uris) == sorted([CALLBACK, "https://app.example.com/callback"])
    assert sorted(u.url for u in nylas.applications.redirect_uris.list().data) == sorted(
        [CALLBACK, "https://app.example.com/callback"])
    with pytest.raises(NylasApiError) as exc:
        nylas.applications.update({"callback_uris": [{"url": "https://*.example.com/cb"}]})
    assert exc.value.status_code == 400
    assert len(nylas.applications.info().data.callback_uris) == 2, "a refused update changes nothing"


def test_admin_endpoints_need_the_api_key(reset, us):
    bogus = us.client(api_key="nyk_v0_bogus")
    for call in (bogus.applications.info, bogus.connectors.list, bogus.grants.list,
                 bogus.applications.redirect_uris.list, lambda: bogus.connectors.credentials.list("google")):
        with pytest.raises(NylasApiError) as exc:
            call()
        assert exc.value.status_code == 401
        assert exc.value.request_id


# --- redirect URIs -----------------------------------------------------------------------------

def test_redirect_uris_crud(reset, us, nylas):
    listed = nylas.applications.redirect_uris.list()
    assert listed.request_id
    assert [u.url for u in listed.data] == [CALLBACK]

    created = nylas.applications.redirect_uris.create(
        {"url": "https://app.example.com/oauth/callback", "platform": "web"})
    assert created.request_id
    uri = created.data
    assert uri.id and uri.url == "https://app.example.com/oauth/callback" and uri.platform == "web"

    found = nylas.applications.redirect_uris.find(uri.id).data
    assert (found.id, found.url, found.platform) == (uri.id, uri.url, "web")
    assert sorted(u.url for u in nylas.applications.redirect_uris.list().data) == sorted(
        [CALLBACK, "https://app.example.com/oauth/callback"])

    # The new URI is usable for hosted auth at once.
    url = nylas.auth.url_for_oauth2({"client_id": us.client_id, "redirect_uri": "https://app.example.com/oauth/callback",
                                     "login_hint": "uri@gmail.com"})
    r = requests.get(url, allow_redirects=False, timeout=10)
    assert r.status_code == 302 and r.headers["Location"].startswith("https://app.example.com/oauth/callback?code=")

    updated = nylas.applications.redirect_uris.update(uri.id, {"url": "https://app.example.com/oauth/cb2"}).data
    assert updated.id == uri.id and updated.url == "https://app.example.com/oauth/cb2" and updated.platform == "web"
    assert nylas.applications.redirect_uris.find(uri.id).data.url == "https://app.example.com/oauth/cb2"

    deleted = nylas.applications.redirect_uris.destroy(uri.id)
    assert isinstance(deleted, DeleteResponse) and deleted.request_id
    with pytest.raises(NylasApiError) as exc:
        nylas.applications.redirect_uris.find(uri.id)
    assert exc.value.status_code == 404
    assert [u.url for u in nylas.applications.redirect_uris.list().data] == [CALLBACK]

    # A removed URI is no longer accepted by hosted auth.
    url = nylas.auth.url_for_oauth2({"client_id": us.client_id, "redirect_uri": "https://app.example.com/oauth/cb2",
                                     "login_hint": "uri@gmail.com"})
    r = requests.get(url, allow_redirects=False, timeout=10)
    assert r.status_code == 400 and r.json()["error"]["type"] == "grant.callback_uri_not_allowed"


def test_redirect_uri_platform_settings(reset, nylas):
    js = nylas.applications.redirect_uris.create(
        {"url": "https://spa.example.com/cb", "platform": "js", "settings": {"origin": "https://spa.example.com"}}).data
    assert js.platform == "js" and js.settings.origin == "https://spa.example.com"
    with pytest.raises(NylasApiError) as exc:
        nylas.applications.redirect_uris.create({"url": "https://spa2.example.com/cb", "platform": "js"})
    assert exc.value.status_code == 400


def test_redirect_uri_wildcard_refused(reset, nylas):
    with pytest.raises(NylasApiError) as exc:
        nylas.applications.redirect_uris.create({"url": "https://*.example.com/callback", "platform": "web"})
    assert exc.value.status_code == 400
    assert exc.value.type == "invalid_request_error"
    assert [u.url for u in nylas.applications.redirect_uris.list().data] == [CALLBACK]


def test_redirect_uri_http_only_for_localhost(reset, nylas):
    with pytest.raises(NylasApiError) as exc:
        nylas.applications.redirect_uris.create({"url": "http://app.example.com/callback", "platform": "web"})
    assert exc.value.status_code == 400
    assert exc.value.type == "invalid_request_error"
    ok = nylas.applications.redirect_uris.create({"url": "http://localhost:8080/callback"}).data
    assert ok.url == "http://localhost:8080/callback" and ok.platform == "web"
    with pytest.raises(NylasApiError) as exc:
        nylas.applications.redirect_uris.update(ok.id, {"url": "http://evil.example.com/callback"})
    assert exc.value.status_code == 400
    assert nylas.applications.redirect_uris.find(ok.id).data.url == "http://localhost:8080/callback"


def test_redirect_uri_not_found(reset, nylas):
    for call in (lambda: nylas.applications.redirect_uris.find("00000000-0000-0000-0000-000000000000"),
                 lambda: nylas.applications.redirect_uris.destroy("00000000-0000-0000-0000-000000000000")):
        with pytest.raises(NylasApiError) as exc:
            call()
        assert exc.value.status_code == 404


# --- connectors --------------------------------------------------------------------------------

def test_connectors_list(reset, nylas):
    resp = nylas.connectors.list()
    assert resp.request_id
    assert {c.provider for c in resp.data} == SEEDED_CONNECTORS
    page = nylas.connectors.list({"limit": 2, "offset": 1}).data
    assert len(page) == 2
    assert [c.provider for c in page] == [c.provider for c in resp.data][1:3]


def test_connectors_crud(reset, nylas, sim):
    created = nylas.connectors.create({
        "provider": "zoom", "settings": {"client_id": "zoom-client", "client_secret": "zoom-secret"},
        "scope": ["meeting:write"]})
    assert created.request_id
    c = created.data
    assert c.provider == "zoom" and c.scope == ["meeting:write"]
    assert c.settings.get("client_id") == "zoom-client"
    assert "client_secret" not in c.settings, "connector secrets must not be echoed"
    assert sim.last_status("POST", "/v3/connectors") == 201

    found = nylas.connectors.find("zoom").data
    assert found.provider == "zoom" and found.scope == ["meeting:write"]
    assert "zoom" in {x.provider for x in nylas.connectors.list().data}

    updated = nylas.connectors.update("zoom", {"scope": ["meeting:write", "meeting:read"],
                                               "settings": {"client_id": "zoom-client-2"}}).data
    assert updated.provider == "zoom" and updated.scope == ["meeting:write", "meeting:read"]
    assert updated.settings.get("client_id") == "zoom-client-2"
    assert nylas.connectors.find("zoom").data.scope == ["meeting:write", "meeting:read"]

    deleted = nylas.connectors.destroy("zoom")
    assert isinstance(deleted, DeleteResponse) and deleted.request_id
    with pytest.raises(NylasApiError) as exc:
        nylas.connectors.find("zoom")
    assert exc.value.status_code == 404
    assert {x.provider for x in nylas.connectors.list().data} == SEEDED_CONNECTORS


def test_connector_second_for_same_provider_conflicts(reset, nylas):
    with pytest.raises(NylasApiError) as exc:
        nylas.connectors.create({"provider": "google",
                                 "settings": {"client_id": "g-client", "client_secret": "g-secret"}})
    assert exc.value.status_code == 409
    assert exc.value.type == "conflict"
    # Delete then create again works.
    nylas.connectors.destroy("google")
    c = nylas.connectors.create({"provider": "google", "settings": {"client_id": "g-client", "client_secret": "g-secret",
                                                                     "topic_name": "topic-1"}}).data
    assert c.provider == "google" and c.settings.get("topic_name") == "topic-1"


def test_connector_create_validation(reset, nylas):
    with pytest.raises(NylasApiError) as exc:
        nylas.connectors.create({"provider": "zoom", "settings": {"client_id": "only-id"}})
    assert exc.value.status_code == 400
    with pytest.raises(NylasApiError) as exc:
        nylas.connectors.create({"provider": "not-a-provider"})
    assert exc.value.status_code == 400


def test_deleted_connector_stops_hosted_auth(reset, us, nylas):
    nylas.connectors.destroy("yahoo")
    url = nylas.auth.url_for_oauth2({"client_id": us.client_id, "redirect_uri": CALLBACK, "provider": "yahoo",
                                     "login_hint": "x@yahoo.com"})
    r = requests.get(url, allow_redirects=False, timeout=10)
    assert r.status_code == 400
    assert r.json()["error"]["message"]


# --- credentials -------------------------------------------------------------------------------

def test_credentials_crud(reset, nylas, sim):
    now = sim.now()
    created = nylas.connectors.credentials.create("microsoft", {
        "name": "Admin consent", "credential_type": "adminconsent",
        "credential_data": {"client_id": "ms-client", "client_secret": "ms-secret", "tenant": "common"}})
    assert created.request_id
    cred = created.data
    assert cred.id and cred.name == "Admin consent" and cred.credential_type == "adminconsent"
    assert cred.created_at == now and cred.updated_at == now
    assert cred.hashed_data and "ms-secret" not in cred.hashed_data
    assert sim.last_status("POST", "/v3/connectors/microsoft/creds") == 201

    listed = nylas.connectors.credentials.list("microsoft")
    assert listed.request_id
    assert [c.id for c in listed.data] == [cred.id]
    assert nylas.connectors.credentials.list("google").data == []

    found = nylas.connectors.credentials.find("microsoft", cred.id).data
    assert (found.id, found.name, found.credential_type) == (cred.id, "Admin consent", "adminconsent")

    sim.advance("10m")
    updated = nylas.connectors.credentials.update("microsoft", cred.id, {"name": "Renamed"}).data
    assert updated.id == cred.id and updated.name == "Renamed"
    assert updated.created_at == now and updated.updated_at == now + 600
    assert nylas.connectors.credentials.find("microsoft", cred.id).data.name == "Renamed"

    deleted = nylas.connectors.credentials.destroy("microsoft", cred.id)
    assert isinstance(deleted, DeleteResponse) and deleted.request_id
    with pytest.raises(NylasApiError) as exc:
        nylas.connectors.credentials.find("microsoft", cred.id)
    assert exc.value.status_code == 404
    assert nylas.connectors.credentials.list("microsoft").data == []


def test_credentials_list_paging_and_order(reset, nylas, sim):
    ids = []
    for i in range(3):
        ids.append(nylas.connectors.credentials.create("google", {
            "name": f"sa-{i}", "credential_type": "serviceaccount",
            "credential_data": {"type": "service_account", "private_key_id": f"k{i}", "private_key": "-----BEGIN",
                                "client_email": f"sa{i}@proj.iam.gserviceaccount.com"}}).data.id)
        sim.advance("1s")
    newest_first = [c.id for c in nylas.connectors.credentials.list("google").data]
    assert newest_first == list(reversed(ids))
    asc = [c.id for c in nylas.connectors.credentials.list("google", {"order_by": "asc"}).data]
    assert asc == ids
    page = [c.id for c in nylas.connectors.credentials.list("google", {"order_by": "asc", "limit": 1, "offset": 1}).data]
    assert page == [ids[1]]


def test_active_credential_cannot_be_deleted(reset, nylas):
    cred = nylas.connectors.credentials.create("google", {
        "name": "connector override", "credential_type": "connector",
        "credential_data": {"client_id": "c", "client_secret": "s"}}).data
    assert nylas.connectors.update("google", {"active_credential_id": cred.id}).data.provider == "google"
    with pytest.raises(NylasApiError) as exc:
        nylas.connectors.credentials.destroy("google", cred.id)
    assert exc.value.status_code == 400
    assert nylas.connectors.credentials.find("google", cred.id).data.id == cred.id


# --- grants ------------------------------------------------------------------------------------

def test_grants_list_find_update(reset, nylas, sim):
    a = sim.create_grant("anna@gmail.com", "google")
    sim.advance("1s")
    b = sim.create_grant("ben@outlook.com", "microsoft")

    listed = nylas.grants.list()
    assert listed.request_id
    assert [g.id for g in listed.data] == [b["id"], a["id"]]  # default order: newest first
    assert {g.email for g in listed.data} == {"anna@gmail.com", "ben@outlook.com"}
    assert [g.id for g in nylas.grants.list({"limit": 1, "offset": 1}).data] == [a["id"]]
    assert [g.id for g in nylas.grants.list({"order_by": "asc"}).data] == [a["id"], b["id"]]
    assert [g.id for g in nylas.grants.list({"provider": "microsoft"}).data] == [b["id"]]
    assert [g.id for g in nylas.grants.list({"email": "anna@gmail.com"}).data] == [a["id"]]
    assert [g.id for g in nylas.grants.list({"since": b["created_at"]}).data] == [b["id"]]
    assert [g.id for g in nylas.grants.list({"before": b["created_at"]}).data] == [a["id"]]
    assert [g.id for g in nylas.grants.list({"grant_status": "invalid"}).data] == []

    found = nylas.grants.find(a["id"])
    assert found.request_id
    g = found.data
    assert g.id == a["id"] and g.email == "anna@gmail.com" and g.provider == "google"
    assert g.grant_status == "valid" and g.scope and g.created_at == a["created_at"]

    sim.advance("5m")
    updated = nylas.grants.update(a["id"], {"scope": ["https://www.googleapis.com/auth/gmail.readonly"]}).data
    assert updated.id == a["id"]
    assert updated.scope == ["https://www.googleapis.com/auth/gmail.readonly"]
    assert updated.updated_at == a["created_at"] + 301
    assert nylas.grants.find(a["id"]).data.scope == ["https://www.googleapis.com/auth/gmail.readonly"]


def test_grant_destroy_then_reauth_gives_new_grant(reset, us, nylas):
    tokens = hosted_auth(reset, nylas, us, "olga@gmail.com")
    old_id = tokens.grant_id
    assert nylas.grants.find(old_id).data.email == "olga@gmail.com"

    # Re-auth of a live grant keeps its id.
    again = hosted_auth(reset, nylas, us, "olga@gmail.com")
    assert again.grant_id == old_id

    deleted = nylas.grants.destroy(old_id)
    assert isinstance(deleted, DeleteResponse) and deleted.request_id
    with pytest.raises(NylasApiError) as exc:
        nylas.grants.find(old_id)
    assert exc.value.status_code == 404
    assert exc.value.type
    with pytest.raises(NylasApiError) as exc:
        nylas.grants.destroy(old_id)
    assert exc.value.status_code == 404
    assert nylas.grants.list().data == []

    # Its tokens die with it.
    with pytest.raises(NylasApiError) as exc:
        as_grant(us, tokens.access_token).grants.find("me")
    assert exc.value.status_code == 401
    with pytest.raises(NylasOAuthError) as exc:
        nylas.auth.refresh_access_token({"redirect_uri": CALLBACK, "refresh_token": tokens.refresh_token,
                                         "client_id": us.client_id})
    assert exc.value.status_code == 400 and exc.value.error == "invalid_grant"

    fresh = hosted_auth(reset, nylas, us, "olga@gmail.com")
    assert fresh.grant_id != old_id
    assert [g.id for g in nylas.grants.list().data] == [fresh.grant_id]
    assert nylas.grants.find(fresh.grant_id).data.email == "olga@gmail.com"


def test_grant_identifier_forms(reset, nylas, sim):
    a = sim.create_grant("pat@gmail.com", "google")
    assert nylas.grants.find(f"grant:{a['id']}").data.id == a["id"]
    assert nylas.grants.find("pat@gmail.com").data.id == a["id"]
    assert nylas.grants.find("email:pat@gmail.com").data.id == a["id"]
    with pytest.raises(NylasApiError) as exc:
        nylas.grants.find("nobody@gmail.com")
    assert exc.value.status_code == 404


def test_grants_of_other_region_are_invisible(reset, us, eu, sim):
    e = sim.create_grant("eve@gmail.com", "google", region="eu")
    assert [g.id for g in eu.client().grants.list().data] == [e["id"]]
    assert us.client().grants.list().data == []
    with pytest.raises(NylasApiError) as exc:
        us.client().grants.find(e["id"])
    assert exc.value.status_code == 404
