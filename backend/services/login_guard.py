"""Sign-in throttling for one server process: lock-out counting, per-client back-off, password-hashing slots.

The stored account (failed_attempts, locked_until) is the lock-out that counts for a known username; this
guard keeps the same count for names that have no account, so an unknown name answers exactly like a known
one, and it throttles each client (one address) across every name it tries, and the whole server once failures
from everywhere pile up (many addresses, each under its own limit).

An attempt is admitted before its password is checked and settled after: attempts still being checked count
against their client, so parallel requests from one address cannot all slip past its limit before any is counted.
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
IN_FLIGHT = "Another sign-in from this computer is being checked: try again in a few seconds."
GLOBAL = "Many failed sign-ins on this server at the moment: wait {seconds} second(s), then try again."


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
        global_free_failures: failures from all clients (within the window) before the server admits at most
            one attempt per ``global_interval_seconds``, whoever sends it.
        global_interval_seconds: the spacing of attempts server-wide while that limit holds.
    """

    max_failures: int = 5
    lock_minutes: int = 15
    client_free_failures: int = 10
    client_max_failures: int = 30
    client_backoff_cap_seconds: float = 60.0
    hash_slots: int = 2
    hash_wait_seconds: float = 20.0
    global_free_failures: int = 300
    global_interval_seconds: float = 1.0


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
    in_flight: int = 0  # admitted attempts not settled yet


@dataclass
class ClientCount:
    """What counting one failure did: blocked the client, or started the server-wide limit."""

    client_blocked: bool = False
    global_limited: bool = False


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
        self._global = _Client()  # failures of every client together; next_allowed spaces attempts

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
        """The message refusing ``client`` right now, or None if it may try (does not admit an attempt)."""
        with self._lock:
            return self._refusal(self._clients.get(client), self.clock())

    def client_wait(self, client: str) -> float:
        """Seconds until ``client`` may try again after its failures (0: now); for a Retry-After header."""
        now = self.clock()
        with self._lock:
            state = self._clients.get(client)
            if state is None:
                return 0.0
            return max(0.0, state.blocked_until - now, state.next_allowed - now)

    def admit(self, client: str) -> str | None:
        """Admit one attempt from ``client``, or return the message refusing it.

        Past its free failures a client has one attempt checked at a time, and attempts being checked count
        towards its block, so a burst of parallel requests gets no more checks than sequential ones would.
        Every admitted attempt must be settled with :meth:`settle`.
        """
        now = self.clock()
        p = self.policy
        with self._lock:
            state = self._clients.get(client)
            refusal = self._refusal(state, now) or self._global_refusal(now)
            if refusal is not None:
                return refusal
            if state is None:
                state = self._clients[client] = _Client(window_start=now)
                self._trim(self._clients)
            pending = state.failures + state.in_flight
            if state.in_flight and (pending >= p.client_max_failures or pending > p.client_free_failures):
                return IN_FLIGHT
            if self._global_failures(now) >= p.global_free_failures:
                self._global.next_allowed = now + p.global_interval_seconds
            state.in_flight += 1
            return None

    def settle(self, client: str) -> None:
        """End an attempt admitted by :meth:`admit` (after its failure, if any, was counted)."""
        with self._lock:
            state = self._clients.get(client)
            if state is not None and state.in_flight:
                state.in_flight -= 1

    def count_client(self, client: str) -> ClientCount:
        """Count a failed attempt from ``client`` (and towards the server-wide limit)."""
        now = self.clock()
        p = self.policy
        window = p.lock_minutes * 60
        with self._lock:
            result = ClientCount(global_limited=self._count_global(now))
            state = self._clients.pop(client, None) or _Client(window_start=now)
            self._clients[client] = state
            self._trim(self._clients)
            if state.blocked_until > now:
                return result
            if now - state.window_start > window:
                state.failures, state.window_start, state.blocked_until = 0, now, 0.0
            state.failures += 1
            if state.failures >= p.client_max_failures:
                state.blocked_until = now + window
                result.client_blocked = True
                return result
            if state.failures > p.client_free_failures:
                backoff = 2.0 ** (state.failures - p.client_free_failures - 1)
                state.next_allowed = now + min(backoff, p.client_backoff_cap_seconds)
            return result

    def _refusal(self, state: _Client | None, now: float) -> str | None:
        if state is None:
            return None
        if state.blocked_until > now:
            minutes = max(1, math.ceil((state.blocked_until - now) / 60))
            return f"Too many failed sign-ins from this computer: try again in {minutes} minute(s)."
        if state.next_allowed > now:
            seconds = max(1, math.ceil(state.next_allowed - now))
            return f"Too many failed sign-ins from this computer: wait {seconds} second(s), then try again."
        return None

    def _global_failures(self, now: float) -> int:
        if now - self._global.window_start > self.policy.lock_minutes * 60:
            self._global.failures, self._global.window_start, self._global.next_allowed = 0, now, 0.0
        return self._global.failures

    def _global_refusal(self, now: float) -> str | None:
        g = self._global
        if self._global_failures(now) >= self.policy.global_free_failures and g.next_allowed > now:
            return GLOBAL.format(seconds=max(1, math.ceil(g.next_allowed - now)))
        return None

    def _count_global(self, now: float) -> bool:
        """Count one failure server-wide; True for the one that starts the server-wide limit."""
        self._global_failures(now)
        self._global.failures += 1
        return self._global.failures == self.policy.global_free_failures

    def _trim(self, table: OrderedDict[str, _V]) -> None:
        while len(table) > self._max_entries:
            table.popitem(last=False)
