"""Signed-in sessions held by the server, so that a reload or a link finds its session again.

A browser tab's Streamlit session ends when the page reloads; the sign-in must outlive it without the browser
holding anything it could replay on its own. So the server keeps each signed-in session here (in memory: a
restart signs everyone out) under a random id, and the browser holds only that id, signed, in an HttpOnly
cookie. The cookie is set by an HTTP response, which a websocket script run cannot send: sign-in issues a
one-time ticket (60 seconds, single use) that the page exchanges for the cookie with one request.

Every sign-in opens a new id (rotation: an id known before sign-in is never the signed-in one); sign-out,
idle expiry and account changes end it, after which its cookie opens nothing. The account checks themselves
stay in :mod:`backend.services.sessions`; this table only remembers who signed in and when they last acted.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass, field, replace

from backend.services.access import Principal
from backend.services.sessions import SessionStamp

TICKET_SECONDS = 60.0  # long enough for a slow page to send its one request, short enough to be useless later
MAX_SESSIONS = 10_000  # a bound on memory: the oldest sessions make room (a clinic has tens of users)


@dataclass(frozen=True)
class OpenSession:
    """One signed-in session as the server remembers it (never the password or its hash)."""

    principal: Principal
    stamp: SessionStamp
    sso: bool
    last_action_s: float
    idle_limit_s: float
    streamlit_ids: frozenset[str] = field(default_factory=frozenset)

    def idle_at(self, now_s: float) -> bool:
        return now_s - self.last_action_s > self.idle_limit_s


class SessionRegistry:
    """Thread-safe table of signed-in sessions, their one-time cookie tickets and their browser tabs.

    Args:
        key: the cookie signing key (random per process by default: a restart invalidates every cookie, which
            matches the table itself being lost).
        max_sessions: how many sessions are kept at most.
    """

    def __init__(self, key: bytes | None = None, max_sessions: int = MAX_SESSIONS) -> None:
        self._key = key if key is not None else secrets.token_bytes(32)
        self._max = max_sessions
        self._lock = threading.Lock()
        self._sessions: dict[str, OpenSession] = {}
        self._tickets: dict[str, tuple[str, float]] = {}  # ticket -> (session id, expiry)
        self._tabs: dict[str, str] = {}  # Streamlit session id -> session id

    def open(
        self, principal: Principal, stamp: SessionStamp, sso: bool, now_s: float, idle_limit_s: float
    ) -> tuple[str, str]:
        """Start a session at sign-in.

        Returns:
            (session id, ticket): the id stays on the server (and in the cookie); the ticket is what the page
            sends once to get that cookie.
        """
        session_id, ticket = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        record = OpenSession(principal, stamp, sso, last_action_s=now_s, idle_limit_s=idle_limit_s)
        with self._lock:
            self._prune(now_s)
            while len(self._sessions) >= self._max:
                oldest = min(self._sessions, key=lambda s: self._sessions[s].last_action_s)
                self._drop(oldest)
            self._sessions[session_id] = record
            self._tickets[ticket] = (session_id, now_s + TICKET_SECONDS)
        return session_id, ticket

    def redeem(self, ticket: str, now_s: float) -> str | None:
        """The signed cookie value for a ticket, once; None for an unknown, used or expired ticket."""
        with self._lock:
            entry = self._tickets.pop(ticket, None)
            if entry is None or now_s > entry[1] or entry[0] not in self._sessions:
                return None
        return self._sign(entry[0])

    def ticket_pending(self, session_id: str, now_s: float) -> bool:
        """Whether the session's ticket is still waiting to be exchanged for its cookie."""
        with self._lock:
            return any(s == session_id and now_s <= expiry for s, expiry in self._tickets.values())

    def session_id_for_cookie(self, cookie: str | None) -> str | None:
        """The session id a cookie names, if the signature is ours (whether that session is open is not checked)."""
        if not cookie or "." not in cookie:
            return None
        session_id = cookie.partition(".")[0]
        # Bytes: compare_digest refuses str with non-ASCII characters, and a cookie may carry any.
        return session_id if hmac.compare_digest(self._sign(session_id).encode(), cookie.encode()) else None

    def find(self, session_id: str) -> OpenSession | None:
        """The open session with this id, or None (never opened, ended, or dropped by a restart)."""
        with self._lock:
            return self._sessions.get(session_id)

    def touch(self, session_id: str, now_s: float) -> None:
        """Record a user action (automatic refreshes must not call this)."""
        with self._lock:
            record = self._sessions.get(session_id)
            if record is not None and now_s > record.last_action_s:
                self._sessions[session_id] = replace(record, last_action_s=now_s)

    def attach(self, session_id: str, streamlit_id: str) -> None:
        """Note that a browser tab (a Streamlit session) runs in this signed-in session."""
        with self._lock:
            record = self._sessions.get(session_id)
            if record is None or streamlit_id in record.streamlit_ids:
                return
            self._sessions[session_id] = replace(record, streamlit_ids=record.streamlit_ids | {streamlit_id})
            self._tabs[streamlit_id] = session_id

    def tab_signed_in(self, streamlit_id: str, now_s: float) -> bool:
        """Whether a Streamlit session belongs to an open session that is not idle (for the upload guard)."""
        with self._lock:
            session_id = self._tabs.get(streamlit_id)
            record = self._sessions.get(session_id) if session_id is not None else None
            return record is not None and not record.idle_at(now_s)

    def end(self, session_id: str) -> None:
        """End a session: its cookie, ticket and tabs open nothing from now on."""
        with self._lock:
            self._drop(session_id)

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)

    def _sign(self, session_id: str) -> str:
        signature = hmac.new(self._key, session_id.encode(), hashlib.sha256).hexdigest()
        return f"{session_id}.{signature}"

    def _prune(self, now_s: float) -> None:
        for session_id in [k for k, r in self._sessions.items() if r.idle_at(now_s)]:
            self._drop(session_id)
        for ticket in [t for t, (_, expiry) in self._tickets.items() if now_s > expiry]:
            del self._tickets[ticket]

    def _drop(self, session_id: str) -> None:
        record = self._sessions.pop(session_id, None)
        if record is not None:
            for tab in record.streamlit_ids:
                self._tabs.pop(tab, None)
        for ticket in [t for t, (s, _) in self._tickets.items() if s == session_id]:
            del self._tickets[ticket]
