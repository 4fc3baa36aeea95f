"""OIDC bearer JWTs over HTTP, checked against a JWKS served by a local HTTP server (the provider's stand-in):
signature, issuer, audience, expiry; a rotated key is fetched again; the account is bound to issuer + subject.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey

from backend.api.oidc import OidcVerifier
from backend.domain.models import Role
from backend.services.auth import add_user
from tests.helpers.api_client import ApiHarness, api_harness
from tests.helpers.http_server import QuietHandler, send_json, serve

NOW = 1_900_000_000
AUDIENCE = "copilot-api"
EMAIL = "dr.rao@clinic.example"


class Provider:
    """Serves a discovery document and a key set; ``keys`` can be swapped to rotate them."""

    def __init__(self) -> None:
        self.keys = [RSAKey.generate_key(2048, parameters={"kid": "k1", "alg": "RS256"}, private=True)]
        self.jwks_hits = 0
        self.issuer = ""  # the server's address, once it runs
        provider = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                if self.path == "/.well-known/openid-configuration":
                    body: dict[str, Any] = {"issuer": provider.issuer, "jwks_uri": provider.issuer + "/jwks"}
                elif self.path == "/jwks":
                    provider.jwks_hits += 1
                    body = {"keys": [k.as_dict(private=False) for k in provider.keys]}
                else:
                    self.send_error(404)
                    return
                send_json(self, 200, body)

        self.handler = Handler

    def token(self, key: Any = None, kid: str = "k1", alg: str = "RS256", **claims: Any) -> str:
        body = {
            "iss": self.issuer,
            "aud": AUDIENCE,
            "sub": "user-123",
            "email": EMAIL,
            "email_verified": True,
            "iat": NOW - 10,
            "exp": NOW + 600,
            **claims,
        }
        return jwt.encode({"alg": alg, "kid": kid}, body, key or self.keys[0])


@pytest.fixture
def provider() -> Iterator[Provider]:
    p = Provider()
    with serve(p.handler) as p.issuer:
        yield p


class Clock:
    def __init__(self) -> None:
        self.now = float(NOW)

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def harness(tmp_path: Path, provider: Provider, clock: Clock) -> ApiHarness:
    # The verifier finds the key set through the issuer's discovery document, as with a real provider.
    verifier = OidcVerifier(provider.issuer, AUDIENCE, clock=clock)
    h = api_harness(tmp_path, oidc=verifier, demo=False)
    add_user(h.app.stores, EMAIL, "not-used-here-123", Role.DOCTOR)
    return h


def _get(h: ApiHarness, token: str) -> Any:
    return h.client.get("/v1/patients", params={"q": "a"}, headers={"Authorization": f"Bearer {token}"})


def test_a_valid_token_acts_as_the_bound_account(harness: ApiHarness, provider: Provider) -> None:
    assert _get(harness, provider.token()).status_code == 200
    user = harness.app.stores.users.get(EMAIL)
    assert (user.sso_issuer, user.sso_subject) == (provider.issuer, "user-123")
    assert _get(harness, provider.token()).status_code == 200
    actions = [e.action for e in harness.app.stores.audit.query(actor=EMAIL).items]
    assert actions.count("user.sso.bind") == 1 and actions.count("auth.login.sso") == 1  # once, not per request
    assert "patient.search" in actions  # the service's own audit line, as the bound account
    # Another identity claiming the same address is refused (and audited) once the account is bound.
    other = _get(harness, provider.token(sub="someone-else"))
    assert other.status_code == 401


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": NOW - 120},  # expired (beyond the 30 s leeway)
        {"aud": "another-app"},
        {"iss": "https://evil.example"},
        {"email_verified": False},  # a first binding needs a verified address
        {"email": "nobody@clinic.example"},  # no such account
    ],
    ids=["expired", "audience", "issuer", "unverified", "no-account"],
)
def test_bad_claims_are_refused(harness: ApiHarness, provider: Provider, claims: dict[str, Any]) -> None:
    response = _get(harness, provider.token(**claims))
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"


def test_forged_signatures_are_refused(harness: ApiHarness, provider: Provider) -> None:
    stranger = RSAKey.generate_key(2048, parameters={"kid": "k1"}, private=True)
    assert _get(harness, provider.token(key=stranger)).status_code == 401  # same kid, another key
    secret = OctKey.generate_key(256)
    assert _get(harness, provider.token(key=secret, alg="HS256")).status_code == 401  # symmetric: not accepted
    assert _get(harness, "a.b.c").status_code == 401


def test_rotated_keys_are_fetched_again(harness: ApiHarness, provider: Provider, clock: Clock) -> None:
    assert _get(harness, provider.token()).status_code == 200
    hits = provider.jwks_hits
    new = RSAKey.generate_key(2048, parameters={"kid": "k2", "alg": "RS256"}, private=True)
    provider.keys = [new]
    clock.now += 61  # the key set is fetched again at most once a minute
    assert _get(harness, provider.token(key=new, kid="k2")).status_code == 200
    assert provider.jwks_hits == hits + 1
    # An unknown kid again within the minute does not make us fetch again (a flood of forged kids).
    assert _get(harness, provider.token(key=new, kid="k3")).status_code == 401
    assert provider.jwks_hits == hits + 1
