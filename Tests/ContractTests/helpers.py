"""Shared helpers of the contract tests (SDK-driven hosted OAuth)."""
from __future__ import annotations

from nylas import Client
from nylas.models.auth import CodeExchangeResponse

from conftest import CALLBACK, App, Sim


def hosted_auth(sim: Sim, nylas: Client, app: App, email: str, **config) -> CodeExchangeResponse:
    """Builds the hosted-auth URL with the SDK, opens it on the simulator, exchanges the code with the SDK."""
    cfg = {"client_id": app.client_id, "redirect_uri": CALLBACK, "login_hint": email, "access_type": "offline"}
    cfg.update(config)
    url = nylas.auth.url_for_oauth2(cfg)
    params = sim.follow_auth_url(url)
    assert "code" in params, params
    return nylas.auth.exchange_code_for_token(
        {"redirect_uri": CALLBACK, "code": params["code"], "client_id": app.client_id})


def as_grant(app: App, access_token: str) -> Client:
    """An SDK client that authenticates with a grant's access token instead of the API key."""
    return app.client(api_key=access_token)
