"""The cookie route and the upload guard, driven as ASGI apps (real Starlette requests, no network)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from http.cookies import SimpleCookie
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send

from backend.domain.models import Role
from backend.services.access import Principal
from backend.services.session_registry import SessionRegistry
from backend.services.sessions import SessionStamp
from ui.session_http import (
    COOKIE,
    HOST_COOKIE,
    REFUSED_UPLOAD,
    SECURE_COOKIE,
    TICKET_HEADER,
    UploadGuard,
    session_routes,
)

NURSE = Principal("nurse", Role.NURSE)
STAMP = SessionStamp(username="nurse", role=Role.NURSE, credential="c" * 32)
T0 = 1_000_000.0
HOST = "clinic.example:8501"


def _call(
    app: Callable[[Scope, Receive, Send], Any], method: str, path: str, headers: dict[str, str] | None = None
) -> tuple[int, list[tuple[str, str]], bytes]:
    """One HTTP request through an ASGI app: (status, headers, body)."""
    sent: list[dict[str, Any]] = []
    raw = [(k.lower().encode(), v.encode()) for k, v in {"host": HOST, **(headers or {})}.items()]
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": raw,
        "server": ("clinic.example", 8501),
        "client": ("10.0.0.9", 50000),
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], [(k.decode(), v.decode()) for k, v in start["headers"]], body


@pytest.fixture()
def table() -> SessionRegistry:
    return SessionRegistry(key=b"k" * 32)


def _route_app(table: SessionRegistry, base: str = "") -> Starlette:
    return Starlette(routes=session_routes(base, table=lambda: table, clock=lambda: T0))


def _set_cookie(headers: list[tuple[str, str]]) -> str | None:
    return next((v for k, v in headers if k == "set-cookie"), None)


def test_the_ticket_sets_an_httponly_strict_cookie(table: SessionRegistry) -> None:
    session_id, ticket = table.open(NURSE, STAMP, False, T0, 1800)
    status, headers, _ = _call(
        _route_app(table),
        "POST",
        "/_copilot/session",
        {TICKET_HEADER: ticket, "origin": f"http://{HOST}", "sec-fetch-site": "same-origin"},
    )
    assert status == 204
    raw = _set_cookie(headers)
    assert raw is not None
    cookie = SimpleCookie(raw)[COOKIE]
    assert table.session_id_for_cookie(cookie.value) == session_id
    assert cookie["httponly"] and cookie["samesite"].lower() == "strict" and cookie["path"] == "/"
    assert not cookie["secure"]  # plain http on this machine; behind TLS the flag is set (below)
    assert not cookie["max-age"] and not cookie["expires"]  # a browser-session cookie; the server decides idle
    assert ("cache-control", "no-store") in headers
    again = _call(_route_app(table), "POST", "/_copilot/session", {TICKET_HEADER: ticket})
    assert again[0] == 403 and _set_cookie(again[1]) is None  # used once


@pytest.mark.parametrize(
    ("base", "path", "headers", "name", "cookie_path"),
    [
        ("", "/_copilot/session", {"origin": f"https://{HOST}"}, HOST_COOKIE, "/"),
        ("", "/_copilot/session", {"x-forwarded-proto": "https"}, HOST_COOKIE, "/"),
        ("/copilot/", "/copilot/_copilot/session", {"origin": f"https://{HOST}"}, SECURE_COOKIE, "/copilot"),
    ],
)
def test_over_https_the_cookie_is_secure_and_prefixed(
    table: SessionRegistry, base: str, path: str, headers: dict[str, str], name: str, cookie_path: str
) -> None:
    # The browser refuses a __Host- cookie from anyone but this origin over TLS: a sibling subdomain cannot plant
    # its own session on a user. Over https the app reads only the prefixed name.
    _, ticket = table.open(NURSE, STAMP, False, T0, 1800)
    status, sent, _ = _call(_route_app(table, base=base), "POST", path, {TICKET_HEADER: ticket, **headers})
    raw = _set_cookie(sent)
    assert status == 204 and raw is not None
    cookie = SimpleCookie(raw)[name]
    assert cookie["secure"] and cookie["httponly"] and cookie["path"] == cookie_path


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "https://evil.example"},
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "same-site", "origin": f"http://{HOST}"},
    ],
)
def test_cross_site_requests_get_no_cookie_and_leave_the_ticket(
    table: SessionRegistry, headers: dict[str, str]
) -> None:
    session_id, ticket = table.open(NURSE, STAMP, False, T0, 1800)
    status, sent, _ = _call(_route_app(table), "POST", "/_copilot/session", {TICKET_HEADER: ticket, **headers})
    assert status == 403 and _set_cookie(sent) is None
    assert table.ticket_pending(session_id, T0)  # a refused attempt does not use up the page's own ticket


def test_no_ticket_no_cookie_and_only_post(table: SessionRegistry) -> None:
    assert _call(_route_app(table), "POST", "/_copilot/session")[0] == 403
    _, ticket = table.open(NURSE, STAMP, False, T0, 1800)
    assert _call(_route_app(table), "GET", "/_copilot/session", {TICKET_HEADER: ticket})[0] == 405


class Inner:
    """The app behind the guard: records what reached it."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.paths.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def _guard(table: SessionRegistry, now: list[float]) -> tuple[UploadGuard, Inner]:
    inner = Inner()
    return UploadGuard(inner, table=lambda: table, clock=lambda: now[0]), inner


def test_uploads_are_refused_for_a_tab_that_is_not_signed_in(table: SessionRegistry) -> None:
    now = [T0]
    guard, inner = _guard(table, now)
    path = "/_stcore/upload_file/tab-1/file-1"
    status, _, body = _call(guard, "PUT", path)
    assert (status, body) == (403, REFUSED_UPLOAD) and inner.paths == []
    assert _call(guard, "PUT", "/base/_stcore/upload_file/tab-1/file-1")[0] == 403  # under a base URL too
    assert _call(guard, "OPTIONS", path)[0] == 200  # CORS preflight carries no file
    assert _call(guard, "GET", "/_stcore/health")[0] == 200  # everything else passes

    session_id, _ = table.open(NURSE, STAMP, False, T0, 1800)
    table.attach(session_id, "tab-1")
    assert _call(guard, "PUT", path)[0] == 200 and path in inner.paths
    assert _call(guard, "PUT", "/_stcore/upload_file/tab-2/file-1")[0] == 403  # another tab, not signed in

    now[0] = T0 + 1801  # idle: refused before the page even notices
    assert _call(guard, "PUT", path)[0] == 403
    now[0] = T0
    table.end(session_id)  # signed out
    assert _call(guard, "PUT", path)[0] == 403
