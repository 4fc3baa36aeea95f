"""The REST API's assembly: ``create_app()`` -> a FastAPI app over one App (stores, blobs, queue, engines).

Versioned under ``/v1``; the OpenAPI schema is at ``/openapi.json`` and its docs at ``/docs``. Routers are added
per resource; another router only needs ``backend.api.auth.PrincipalDep`` to get the signed-in caller.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from pydantic import BaseModel

from backend.api import errors, openapi_doc
from backend.api.auth import Authenticator
from backend.api.idempotency import Idempotency
from backend.api.oidc import OidcVerifier
from backend.api.ratelimit import RateLimiter
from backend.api.routes import (
    ask,
    documents,
    events,
    fhir,
    jobs,
    metrics,
    notes,
    patients,
    recordings,
    timeline,
    uploads,
    wearables,
)
from backend.bootstrap import App, build_app, build_idempotency_store, start_background_work
from backend.domain.errors import ValidationFailed
from backend.services.login_guard import LoginGuard

ROUTERS: tuple[APIRouter, ...] = (
    patients.router,
    wearables.router,
    recordings.router,
    jobs.router,
    notes.router,
    documents.router,
    metrics.router,
    timeline.router,
    ask.router,
    fhir.router,
    events.router,
    uploads.router,
)
DESCRIPTION = """Clinical Co-Pilot's services for mobile apps and EHR integrations: the same roles, checks and
audit trail as the web pages. Authenticate with `Authorization: Bearer TOKEN` (a personal API token from
`python -m backend tokens create USERNAME`, or the clinic's OIDC token when configured)."""


class Health(BaseModel):
    status: str


def create_app(
    app: App | None = None,
    *,
    oidc: OidcVerifier | None = None,
    clock: Callable[[], float] = time.time,
    start_worker: bool = True,
    idempotency: Idempotency | None = None,
) -> FastAPI:
    """The API over ``app`` (built from the environment when None).

    Args:
        app: the running system; one per process, shared with nothing else that would build another.
        oidc: the bearer-JWT verifier; None builds one from ``COPILOT_API_OIDC_*`` when an issuer is set.
        clock: the rate limiter's clock (tests move it by hand).
        start_worker: start the in-process job worker on start-up when the queue is local (as the pages do).
        idempotency: where retried requests' first answers are kept; None: the record store's backend.
    """
    system = app or build_app()
    settings = system.settings

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if start_worker:
            start_background_work(system)
        yield

    api = FastAPI(
        title="Clinical Co-Pilot API",
        version="1",
        description=DESCRIPTION,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        lifespan=lifespan,
        max_body_size=_body_cap(system),
    )
    api.state.copilot = system
    api.state.authenticator = Authenticator(
        system,
        RateLimiter(settings.api_rate_per_minute, clock=clock, state=system.stores.state),
        oidc if oidc is not None else _oidc_from(system),
        failures=LoginGuard(clock=clock, state=system.stores.state),
    )
    api.state.idempotency = idempotency or Idempotency(build_idempotency_store(system))
    errors.install(api)
    for router in ROUTERS:
        api.include_router(router)
    openapi_doc.install(api)

    @api.get("/v1/health", response_model=Health, tags=["health"])
    def health() -> Health:
        """Liveness for load balancers (no token, no data)."""
        return Health(status="ok")

    return api


def _body_cap(system: App) -> int:
    """The largest body any route takes (its biggest upload and the form's framing): 413 past it, unread."""
    limits = system.limits
    return max(limits.max_audio_bytes, limits.max_import_bytes, limits.max_document_bytes) + 1024 * 1024


def _oidc_from(system: App) -> OidcVerifier | None:
    s = system.settings
    if not s.api_oidc_issuer:
        return None
    if not s.api_oidc_audience:
        raise ValidationFailed("COPILOT_API_OIDC_ISSUER is set without COPILOT_API_OIDC_AUDIENCE: set both.")
    return OidcVerifier(s.api_oidc_issuer, s.api_oidc_audience, s.api_oidc_jwks_url)
