"""The REST API over a fresh data dir: demo accounts and patients, a token per role, expired and revoked ones."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from backend.api.app import create_app
from backend.api.oidc import OidcVerifier
from backend.bootstrap import App, build_app
from backend.config import Settings
from backend.domain.models import Role, now_ms
from backend.services import api_tokens
from backend.services.auth import add_user
from backend.services.demo import seed_demo

PID = "PAT_de000001"
ROLE_USERS = ("nurse", "doctor", "admin")


@dataclass
class ApiHarness:
    app: App
    api: FastAPI
    client: TestClient
    tokens: dict[str, str]  # nurse, doctor, admin, expired, revoked -> token

    def auth(self, who: str) -> dict[str, str]:
        """Headers of one caller ("none": no header)."""
        return {} if who == "none" else {"Authorization": f"Bearer {self.tokens[who]}"}


def api_harness(
    data_dir: Path,
    *,
    start_worker: bool = False,
    clock: Callable[[], float] | None = None,
    oidc: OidcVerifier | None = None,
    demo: bool = True,
    **settings: Any,
) -> ApiHarness:
    """Build the API (its worker runs only inside ``with harness.client:``, when ``start_worker``).

    ``demo``: seed the demo patients (``PID`` among them) and accounts; False: only the three accounts (faster).
    """
    options: dict[str, Any] = {"store": "sqlite", "blobs": "local", "queue": "sqlite", "llm": "offline"}
    options.update({"api_rate_per_minute": 1_000_000, **settings})
    app = build_app(Settings(data_dir=data_dir, **options))
    if demo:
        seed_demo(app.stores, days=30)
    else:
        for name in ROLE_USERS:
            add_user(app.stores, name, f"{name}-password", Role(name))
    tokens = {name: api_tokens.create_token(app.stores, None, name, days=30).token for name in ROLE_USERS}
    expired = api_tokens.create_token(app.stores, None, "doctor", days=1)
    stored = app.stores.api_tokens.get(expired.record.token_id)
    app.stores.api_tokens.update(stored.model_copy(update={"expires_at": now_ms() - 1}), stored.version)
    revoked = api_tokens.create_token(app.stores, None, "doctor", days=30)
    api_tokens.revoke_token(app.stores, None, revoked.record.token_id)
    tokens.update(expired=expired.token, revoked=revoked.token)
    extra: dict[str, Any] = {"clock": clock} if clock is not None else {}
    api = create_app(app, oidc=oidc, start_worker=start_worker, **extra)
    return ApiHarness(app, api, TestClient(api, raise_server_exceptions=False), tokens)
