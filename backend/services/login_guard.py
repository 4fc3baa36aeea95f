"""Sign-in throttling for one server process: lock-out counting, per-client back-off, password-hashing slots.

The stored account (failed_attempts, locked_until) is the lock-out that counts for a known username; this
guard keeps the same count for names that have no account, so an unknown name answers exactly like a known
one, and it throttles each client (one address) across every name it tries.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from backend.domain.errors import AuthenticationFailed

_V = TypeVar("_V")

BUSY = "Many sign-ins are being checked at the moment: please try again in a few seconds."


@dataclass(frozen=True)
class LoginPolicy:
    """Limits for sign-in attempts.

    Attributes:
        max_failures: refused attempts on one username that lock it.
        lock_minutes: how long a lock lasts (also the window over which a client's failures are counted).
        client_free_failures: failures from one client before it must wait between attempts.
        client_max_failures: failures from one client (within the window) that block it for ``lock_minutes``.
        client_backoff_cap_seconds: the longest wait between attempts imposed on a client.
        hash_slots: password checks that may run at once (argon2 takes 64 MiB each).
        hash_wait_seconds: how long an attempt waits for a free slot before it is refused as busy.
    """

    max_failures: int = 5
    lock_minutes: int = 15
    client_free_failures: int = 10
    client_max_failures: int = 30
    client_backoff_cap_seconds: float = 60.0
    hash_slots: int = 2
    hash_wait_seconds: float = 20.0


@dataclass(frozen=True)
class Count:
    """A username's refused-attempt count after one more refusal."""

    failures: int
    locked_until: int  # epoch ms; 0 = not locked
    just_locked: bool


def count_refusal(failures: int, locked_until: int, now_ms: int, policy: LoginPolicy) -> Count:
    """One more refused attempt: the rule shared by stored accounts and unknown names.

    A lock that has run out starts the count again; attempts during a lock are counted but do not extend it.
    """
    if locked_until and locked_until <= now_ms:
        failures, locked_until = 0, 0
    failures += 1
    if not locked_until and failures >= policy.max_failures:
        return Count(failures, now_ms + policy.lock_minutes * 60_000, True)
    return Count(failures, locked_until, False)


@dataclass
class _Client:
    failures: int = 0
    window_start: float = 0.0
    next_allowed: float = 0.0
    blocked_until: float = 0.0


class LoginGuard:
    """Thread-safe in-memory throttle; build one per server process and pass it to every sign-in.

    Args:
        policy: the limits.
        clock: seconds since the epoch (injectable so tests never sleep).
        max_entries: names and clients remembered; the least recently seen are forgotten first, so a flood
            of made-up names cannot exhaust memory (known accounts keep their lock in the store regardless).
    """

    def __init__(
        self, policy: LoginPolicy = LoginPolicy(), clock: Callable[[], float] = time.time, max_entries: int = 10_000
    ) -> None:
        self.policy = policy
        self.clock = clock
        self._max_entries = max_entries
        self._lock = threading.Lock()
        self._names: OrderedDict[str, tuple[int, int]] = OrderedDict()
        self._clients: OrderedDict[str, _Client] = OrderedDict()
        self._slots = threading.BoundedSemaphore(policy.hash_slots)

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    @contextmanager
    def hashing(self) -> Iterator[None]:
        """Hold one password-hashing slot; waits at most ``hash_wait_seconds``.

        Raises:
            AuthenticationFailed: every slot stayed busy (nothing was checked or counted).
        """
        if not self._slots.acquire(timeout=self.policy.hash_wait_seconds):
            raise AuthenticationFailed(BUSY)
        try:
            yield
        finally:
            self._slots.release()

    def name_locked_until(self, name: str) -> int:
        """Epoch ms until which ``name`` (a name without an account) is locked; 0 if it is not."""
        with self._lock:
            return self._names.get(name, (0, 0))[1]

    def count_name(self, name: str) -> Count:
        """Count a refused attempt on a name that has no account (the store counts known accounts)."""
        with self._lock:
            failures, locked_until = self._names.pop(name, (0, 0))
            count = count_refusal(failures, locked_until, self.now_ms(), self.policy)
            self._names[name] = (count.failures, count.locked_until)
            self._trim(self._names)
            return count

    def forget_name(self, name: str) -> None:
        with self._lock:
            self._names.pop(name, None)

    def client_refusal(self, client: str) -> str | None:
        """The message refusing ``client`` right now, or None if it may try."""
        now = self.clock()
        with self._lock:
            state = self._clients.get(client)
            if state is None:
                return None
            if state.blocked_until > now:
                minutes = max(1, math.ceil((state.blocked_until - now) / 60))
                return f"Too many failed sign-ins from this computer: try again in {minutes} minute(s)."
            if state.next_allowed > now:
                seconds = max(1, math.ceil(state.next_allowed - now))
                return f"Too many failed sign-ins from this computer: wait {seconds} second(s), then try again."
            return None

    def count_client(self, client: str) -> bool:
        """Count a failed attempt from ``client``; True when this one blocks it."""
        now = self.clock()
        p = self.policy
        window = p.lock_minutes * 60
        with self._lock:
            state = self._clients.pop(client, None) or _Client(window_start=now)
            self._clients[client] = state
            self._trim(self._clients)
            if state.blocked_until > now:
                return False
            if now - state.window_start > window:
                state.failures, state.window_start, state.blocked_until = 0, now, 0.0
            state.failures += 1
            if state.failures >= p.client_max_failures:
                state.blocked_until = now + window
                return True
            if state.failures > p.client_free_failures:
                backoff = 2.0 ** (state.failures - p.client_free_failures - 1)
                state.next_allowed = now + min(backoff, p.client_backoff_cap_seconds)
            return False

    def _trim(self, table: OrderedDict[str, _V]) -> None:
        while len(table) > self._max_entries:
            table.popitem(last=False)
