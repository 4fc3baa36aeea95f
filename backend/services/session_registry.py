"""Signed-in sessions held by the server, so that a reload, a link or another server finds its session again.

A browser tab's Streamlit session ends when the page reloads; the sign-in must outlive it without the browser
holding anything it could replay on its own. So the server keeps each signed-in session under a random id, and
the browser holds only that id, signed, in an HttpOnly cookie. The cookie is set by an HTTP response, which a
websocket script run cannot send: sign-in issues a one-time ticket (60 seconds, single use) that the page
exchanges for the cookie with one request.

The sessions live in the record store's shared state (:meth:`SessionRegistry.share`), so every UI process behind
a load balancer honours a session opened on another, and a sign-out on one ends it on all. The store holds only
a digest of each session id (a copy of the database opens no session), and the cookie key is kept there too, so
every process signs alike. Without shared state (tests, or before the app is built) the table is in memory and
the key random per process: a restart then signs everyone out. Which browser tab runs in which session stays in
the process that serves the tab (a Streamlit session lives in one process).

Every sign-in opens a new id (rotation: an id known before sign-in is never the signed-in one); sign-out,
idle expiry and account changes end it, after which its cookie opens nothing. The account checks themselves
stay in :mod:`backend.services.sessions`; this table only remembers who signed in and when they last acted.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

from backend.domain.models import Role
from backend.ports import RecordStore, SharedState, StateWrite
from backend.services.access import Permission, Principal
from backend.services.memory_state import MemoryState
from backend.services.sessions import SessionStamp

TICKET_SECONDS = 60.0  # long enough for a slow page to send its one request, short enough to be useless later
MAX_SESSIONS = 10_000  # a bound on memory when the table is in this process (a clinic has tens of users)
KEY_ENTRY = "session-cookie-key"
FOREVER_MS = 253_402_300_799_000  # the last second of year 9999: the cookie key does not expire
_SESSION, _TICKET = "session:", "ticket:"


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


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _expiry_ms(last_action_s: float, idle_limit_s: float) -> int:
    return int((last_action_s + idle_limit_s) * 1000) + 1


def _value(record: OpenSession, ticket_until: float) -> dict[str, Any]:
    p, s = record.principal, record.stamp
    return {
        "username": p.username,
        "role": p.role.value,
        "extra": sorted(x.value for x in p.extra),
        "stamp": {"username": s.username, "role": s.role.value, "credential": s.credential},
        "sso": record.sso,
        "last_action_s": record.last_action_s,
        "idle_limit_s": record.idle_limit_s,
        "ticket_until": ticket_until,
    }


def _record(value: dict[str, Any], tabs: frozenset[str]) -> OpenSession:
    stamp = value["stamp"]
    return OpenSession(
        principal=Principal(value["username"], Role(value["role"]), frozenset(Permission(x) for x in value["extra"])),
        stamp=SessionStamp(username=stamp["username"], role=Role(stamp["role"]), credential=stamp["credential"]),
        sso=bool(value["sso"]),
        last_action_s=float(value["last_action_s"]),
        idle_limit_s=float(value["idle_limit_s"]),
        streamlit_ids=tabs,
    )


class SessionRegistry:
    """Thread-safe table of signed-in sessions, their one-time cookie tickets and this process's browser tabs.

    Args:
        key: the cookie signing key; by default the shared state's (random per process while in memory).
        max_sessions: sessions kept at most while the table is in memory (the shared store bounds itself by
            expiry: a session's entry expires when it would be idle).
        state: the record store's shared state (or :meth:`share` it later).
    """

    def __init__(
        self, key: bytes | None = None, max_sessions: int = MAX_SESSIONS, state: SharedState | None = None
    ) -> None:
        self._fixed_key = key
        self._lock = threading.Lock()
        self._state: SharedState = MemoryState(max_entries=2 * max_sessions)  # a session and its ticket
        self._key = key if key is not None else secrets.token_bytes(32)
        self._shared: SharedState | None = None
        self._tabs: dict[str, str] = {}  # Streamlit session id -> session id (tabs of this process only)
        self._use(state)

    def share(self, stores: RecordStore) -> None:
        """Keep sessions in ``stores``' shared state (every process using the same store sees them) from now on;
        the cookie key becomes the one stored there (made by whichever process comes first). Idempotent; a store
        without shared state changes nothing."""
        self._use(stores.state)

    def _use(self, state: SharedState | None) -> None:
        if state is None or state is self._shared:
            return
        key = self._fixed_key if self._fixed_key is not None else _shared_key(state)
        with self._lock:
            self._state, self._shared, self._key = state, state, key

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
        ticket_until = now_s + TICKET_SECONDS
        now_ms = int(now_s * 1000)
        state = self._state
        value = _value(record, ticket_until)
        state.update(
            _SESSION + _digest(session_id), lambda _: (StateWrite(value, _expiry_ms(now_s, idle_limit_s)), None), now_ms
        )
        ticket_entry = {"session": session_id, "until": ticket_until}
        ticket_expiry = int(ticket_until * 1000) + 1
        state.update(_TICKET + _digest(ticket), lambda _: (StateWrite(ticket_entry, ticket_expiry), None), now_ms)
        return session_id, ticket

    def redeem(self, ticket: str, now_s: float) -> str | None:
        """The signed cookie value for a ticket, once; None for an unknown, used or expired ticket."""
        if not ticket:
            return None
        state = self._state
        now_ms = int(now_s * 1000)
        entry: dict[str, Any] | None = state.update(
            _TICKET + _digest(ticket), lambda current: (StateWrite(None) if current else None, current), now_ms
        )
        if entry is None or now_s > float(entry["until"]):
            return None
        session_id = str(entry["session"])

        def used(current: dict[str, Any] | None) -> tuple[StateWrite | None, bool]:
            if current is None:
                return None, False
            expiry = _expiry_ms(float(current["last_action_s"]), float(current["idle_limit_s"]))
            return StateWrite({**current, "ticket_until": 0.0}, expiry), True

        if not state.update(_SESSION + _digest(session_id), used, now_ms):
            return None  # the session ended before its ticket was used
        return self._sign(session_id)

    def ticket_pending(self, session_id: str, now_s: float) -> bool:
        """Whether the session's ticket is still waiting to be exchanged for its cookie."""
        value = self._state.get(_SESSION + _digest(session_id))
        return value is not None and now_s <= float(value["ticket_until"])

    def session_id_for_cookie(self, cookie: str | None) -> str | None:
        """The session id a cookie names, if the signature is ours (whether that session is open is not checked)."""
        if not cookie or "." not in cookie:
            return None
        session_id = cookie.partition(".")[0]
        # Bytes: compare_digest refuses str with non-ASCII characters, and a cookie may carry any.
        return session_id if hmac.compare_digest(self._sign(session_id).encode(), cookie.encode()) else None

    def find(self, session_id: str) -> OpenSession | None:
        """The open session with this id, or None (never opened, ended, or forgotten once idle)."""
        value = self._state.get(_SESSION + _digest(session_id))
        if value is None:
            return None
        with self._lock:
            tabs = frozenset(t for t, s in self._tabs.items() if s == session_id)
        return _record(value, tabs)

    def touch(self, session_id: str, now_s: float) -> None:
        """Record a user action (automatic refreshes must not call this)."""

        def moved(current: dict[str, Any] | None) -> tuple[StateWrite | None, None]:
            if current is None or now_s <= float(current["last_action_s"]):
                return None, None
            expiry = _expiry_ms(now_s, float(current["idle_limit_s"]))
            return StateWrite({**current, "last_action_s": now_s}, expiry), None

        # Read whether or not it has expired, as long as it is still stored: callers touch only after the
        # session's checks passed (another tab's action may keep a session this tab let idle).
        self._state.update(_SESSION + _digest(session_id), moved, 0)

    def attach(self, session_id: str, streamlit_id: str) -> None:
        """Note that a browser tab (a Streamlit session of this process) runs in this signed-in session."""
        if self.find(session_id) is None:
            return
        with self._lock:
            self._tabs[streamlit_id] = session_id
            if len(self._tabs) > 4 * MAX_SESSIONS:  # tabs of ended sessions: forget the oldest
                del self._tabs[next(iter(self._tabs))]

    def tab_signed_in(self, streamlit_id: str, now_s: float) -> bool:
        """Whether a Streamlit session belongs to an open session that is not idle (for the upload guard)."""
        with self._lock:
            session_id = self._tabs.get(streamlit_id)
        record = self.find(session_id) if session_id is not None else None
        return record is not None and not record.idle_at(now_s)

    def end(self, session_id: str) -> None:
        """End a session, on every process: its cookie, ticket and tabs open nothing from now on."""
        self._state.delete(_SESSION + _digest(session_id))
        with self._lock:
            for tab in [t for t, s in self._tabs.items() if s == session_id]:
                del self._tabs[tab]

    def _sign(self, session_id: str) -> str:
        signature = hmac.new(self._key, session_id.encode(), hashlib.sha256).hexdigest()
        return f"{session_id}.{signature}"


def _shared_key(state: SharedState) -> bytes:
    """The cookie key every process sharing ``state`` signs with: the first process to need one makes it."""
    fresh = secrets.token_hex(32)

    def keep(current: dict[str, Any] | None) -> tuple[StateWrite | None, str]:
        if current is not None:
            return None, str(current["key"])
        return StateWrite({"key": fresh}, FOREVER_MS), fresh

    return bytes.fromhex(state.update(KEY_ENTRY, keep, 0))
