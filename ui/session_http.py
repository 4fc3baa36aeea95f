"""The HTTP side of sign-in: the route that sets the HttpOnly session cookie, and the upload guard.

Both run in Streamlit's web server (Starlette, through ``st.App`` in ``streamlit_app.py``), outside any script
run. A script run talks to the browser over a websocket and cannot set a cookie, so after sign-in the page
sends its one-time ticket to ``POST <base>/_copilot/session`` (:data:`ROUTE`) and the response sets the cookie.
The route answers only same-origin requests carrying the ticket in a custom header: a cross-site form cannot
send that header, and a cross-site script would need a CORS permission this server never gives.

The upload guard refuses Streamlit's upload endpoint (``PUT <base>/_stcore/upload_file/<session>/<file>``) for
any Streamlit session that is not signed in, before the body is read.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from backend.services.clock import session_clock
from backend.services.session_registry import SessionRegistry

COOKIE = "copilot_session"  # over plain http (this machine only)
# Over https the name carries a prefix the browser enforces: a __Host- cookie can only be set by this origin over
# TLS with Path=/ (no sibling subdomain can plant its own session on users), __Secure- (under a base URL) over TLS.
HOST_COOKIE = "__Host-copilot_session"
SECURE_COOKIE = "__Secure-copilot_session"
TICKET_HEADER = "X-Copilot-Ticket"
ROUTE = "_copilot/session"
UPLOAD_PATH = re.compile(r"/_stcore/upload_file/(?P<session>[^/]+)/")
REFUSED_UPLOAD = b"Sign in before uploading files."


# One table per server process, made while this module is imported (imports are serialised, so concurrent first
# sign-ins cannot each make their own). It is shared by design, like Streamlit's cache_resource, and locks itself.
# Building the app points it at the record store's shared state (``ui.runtime.get_app``), so every UI process
# behind a load balancer honours the same sessions and the cookie route may redeem a ticket made on another.
_TABLE = SessionRegistry()
# The session clock, shared with the script runs (real time unless a test started the server with its hook).
_CLOCK = session_clock()


def registry() -> SessionRegistry:
    """The process's session table, shared by every script run and by this module's HTTP handlers."""
    return _TABLE


def _base(base_url: str) -> str:
    base = base_url.strip("/")
    return f"/{base}" if base else ""


def cookie_path(base_url: str) -> str:
    """The cookie's path: the app's base URL (``server.baseUrlPath``), or ``/``."""
    return _base(base_url) or "/"


def cookie_name(secure: bool, base_url: str) -> str:
    """The cookie's name for a page served over https (``secure``) or not, at ``base_url``."""
    if not secure:
        return COOKIE
    return HOST_COOKIE if cookie_path(base_url) == "/" else SECURE_COOKIE


def _same_origin(request: Request) -> bool:
    # Browsers send both on a fetch; a request that says it is cross-site, or comes from another origin, is refused.
    if request.headers.get("sec-fetch-site", "same-origin") != "same-origin":
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return True
    host = request.headers.get("host", "")
    return origin in {f"http://{host}", f"https://{host}"}


def _secure(request: Request) -> bool:
    # The browser's own view decides (its Origin header, as the page script reads st.context.url): behind a TLS
    # proxy the app itself sees http. Without an Origin, the scheme or the proxy's X-Forwarded-Proto.
    origin = request.headers.get("origin")
    if origin is not None:
        return origin.startswith("https://")
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto", "").lower() == "https"


def session_routes(
    base_url: str, table: Callable[[], SessionRegistry] = registry, clock: Callable[[], float] = _CLOCK
) -> list[Route]:
    """The route that exchanges a sign-in ticket for the HttpOnly session cookie.

    Args:
        base_url: Streamlit's ``server.baseUrlPath`` (empty when the app is served at the root).
        table: the session table (tests pass their own).
        clock: seconds, for the ticket's expiry.
    """

    async def bind(request: Request) -> Response:
        ticket = request.headers.get(TICKET_HEADER, "")
        value = table().redeem(ticket, clock()) if ticket and _same_origin(request) else None
        response = Response(status_code=204 if value else 403, headers={"Cache-Control": "no-store"})
        if value:
            secure = _secure(request)
            response.set_cookie(
                cookie_name(secure, base_url),
                value,
                path=cookie_path(base_url),
                httponly=True,
                secure=secure,
                samesite="strict",
            )
        return response

    return [Route(f"{_base(base_url)}/{ROUTE}", bind, methods=["POST"])]


class UploadGuard:
    """ASGI middleware: Streamlit's upload endpoint accepts files only for a signed-in, non-idle session.

    Args:
        app: the wrapped ASGI app.
        table: the session table (tests pass their own).
        clock: seconds, for the idle check.
    """

    def __init__(
        self, app: ASGIApp, table: Callable[[], SessionRegistry] = registry, clock: Callable[[], float] = _CLOCK
    ) -> None:
        self._app = app
        self._table = table
        self._clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("method") != "OPTIONS":
            match = UPLOAD_PATH.search(scope.get("path", ""))
            if match and not self._table().tab_signed_in(match["session"], self._clock()):
                refused = Response(REFUSED_UPLOAD, status_code=403, media_type="text/plain")
                await refused(scope, receive, send)
                return
        await self._app(scope, receive, send)
