"""Whether a signed-in session may go on: idle time, and the account as it is now, not as it was at sign-in.

A session ends when its user has been idle too long, or when the account was disabled, deleted, given another
role or a new password since the session began. The password check needs no extra field in the user record:
every password change (also to the same password) stores a new salted hash, so a session keeps a digest of
the hash it began with and ends when the stored one differs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from backend.domain.errors import NotFound
from backend.domain.models import Role, User
from backend.ports import RecordStore
from backend.services.access import Principal

IDLE = "You were signed out after a period of inactivity. Please sign in again."
DISABLED = "Your account was disabled or removed by an administrator, so you have been signed out."
NEW_CREDENTIAL = "Your password was changed since you signed in. Please sign in again with the new password."
ROLE_CHANGED = "Your role was changed since you signed in. Please sign in again."
ENDED = "You were signed out in another tab or window of this browser. Please sign in again."


@dataclass(frozen=True)
class SessionStamp:
    """What a session remembers of its account from sign-in (never the password hash itself)."""

    username: str
    role: Role
    credential: str  # digest of the password hash at sign-in


def _credential(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:32]


def _current(stores: RecordStore, username: str) -> User | None:
    try:
        return stores.users.get(username)
    except NotFound:
        return None


def stamp_session(stores: RecordStore, principal: Principal) -> SessionStamp | None:
    """The stamp of a session that begins now, or None if the account no longer exists or is disabled."""
    user = _current(stores, principal.username)
    if user is None or user.disabled:
        return None
    return SessionStamp(username=user.username, role=user.role, credential=_credential(user))


def session_problem(
    stores: RecordStore, stamp: SessionStamp, last_action_s: float, now_s: float, idle_limit_s: float
) -> str | None:
    """Why the session must end now (a message for the user), or None if it may go on.

    Args:
        stores: the record store (one read of the user record).
        stamp: what the session recorded at sign-in.
        last_action_s: when the user last did something (seconds; automatic refreshes do not count).
        now_s: the current time in seconds, from the caller's clock.
        idle_limit_s: the longest allowed pause between user actions.
    """
    if now_s - last_action_s > idle_limit_s:
        return IDLE
    user = _current(stores, stamp.username)
    if user is None or user.disabled:
        return DISABLED
    if _credential(user) != stamp.credential:
        return NEW_CREDENTIAL
    if user.role is not stamp.role:
        return ROLE_CHANGED
    return None
