"""Who is calling: a personal API token or, when configured, the clinic's OIDC bearer JWT -> a Principal.

``current_principal`` is the dependency every route takes (``Principal = Depends(current_principal)``); it
also spends one request of the caller's rate limit, so a refused (429) request does no work. Failed
authentications are counted per client address (as for sign-in on the pages): past 10 a client waits between
attempts (1, 2, 4 ... up to 60 s), past 30 it is refused for 15 minutes, before its token is even looked up.
Behind a reverse proxy, run the server with the proxy's forwarded address trusted, or every caller shares it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from backend.api.oidc import OidcVerifier
from backend.api.ratelimit import RateLimited, RateLimiter
from backend.bootstrap import App
from backend.domain.api_tokens import looks_like_token
from backend.domain.errors import AuthenticationFailed
from backend.services.access import Principal
from backend.services.api_tokens import principal_for_oidc_claims, principal_for_token
from backend.services.login_guard import LoginGuard

SEND_BEARER = "Send a token: Authorization: Bearer TOKEN (create one with `python -m backend tokens create USERNAME`)."
_bearer = HTTPBearer(auto_error=False, description="A personal API token (cop_...) or the clinic's OIDC JWT")


@dataclass
class Authenticator:
    """What the dependency needs, built once per app (see ``create_app``)."""

    app: App
    limiter: RateLimiter
    oidc: OidcVerifier | None = None
    failures: LoginGuard | None = None  # failed authentications per client address

    def authenticate(self, token: str, client: str) -> tuple[Principal, str]:
        """:meth:`principal`, refused (429) while ``client`` waits after failures; each failure is counted."""
        guard = self.failures
        if guard is None:
            return self.principal(token)
        wait = guard.client_wait(client)
        if wait > 0:
            guard.count_client(client)  # as on the sign-in page: hammering while told to wait leads to the block
            raise RateLimited(guard.client_wait(client))
        try:
            return self.principal(token)
        except AuthenticationFailed:
            guard.count_client(client)
            raise

    def principal(self, token: str) -> tuple[Principal, str]:
        """The caller and its rate-limit key; AuthenticationFailed for anything else."""
        nurse_can_sign = self.app.settings.nurse_can_sign
        if looks_like_token(token) or self.oidc is None or token.count(".") != 2:
            principal = principal_for_token(self.app.stores, token, nurse_can_sign=nurse_can_sign)
            return principal, "token:" + hashlib.sha256(token.encode()).hexdigest()[:24]
        claims = self.oidc.claims(token)
        principal = principal_for_oidc_claims(self.app.stores, claims, nurse_can_sign=nurse_can_sign)
        return principal, "oidc:" + principal.username


def current_app(request: Request) -> App:
    """The App this API was built over."""
    app: App = request.app.state.copilot
    return app


def current_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    """The authenticated caller (401 without a valid token, 429 over the rate limit)."""
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise AuthenticationFailed(SEND_BEARER)
    authenticator: Authenticator = request.app.state.authenticator
    client = request.client.host if request.client is not None else "unknown"
    principal, key = authenticator.authenticate(credentials.credentials.strip(), client[:64])
    wait = authenticator.limiter.take(key)
    if wait > 0:
        raise RateLimited(wait)
    return principal


AppDep = Annotated[App, Depends(current_app)]
PrincipalDep = Annotated[Principal, Depends(current_principal)]
