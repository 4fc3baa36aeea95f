"""Sign-in throttling: lock-out counting, per-client back-off, password-hashing slots.

The stored account (failed_attempts, locked_until) is the lock-out that counts for a known username; this
guard keeps the same count for names that have no account, so an unknown name answers exactly like a known
one, and it throttles each client (one address) across every name it tries, and the whole server once failures
from everywhere pile up (many addresses, each under its own limit).

An attempt is admitted before its password is checked and settled after: attempts still being checked count
against their client, so parallel requests from one address cannot all slip past its limit before any is counted.

The counts live in the record store's shared state when it has one (SQLite file, DynamoDB), so every UI and
API process behind a load balancer counts the same failures; each change is one atomic update. The
password-hashing slots stay per process: they bound this machine's memory and CPU.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

from backend.domain.errors import AuthenticationFailed
from backend.ports import RecordStore, SharedState, StateWrite
from backend.services.memory_state import MemoryState

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


IN_FLIGHT_STALE_S = 300.0  # an attempt not settled by then (its process died) no longer counts
NAME_KEEP_MS = 30 * 86_400_000  # a stored account keeps its count until a success: so does a name without one
_NAME, _CLIENT, _GLOBAL = "login-name:", "login-client:", "login-global"


def _client_key(client: object) -> str:
    # str(): the page passes what its framework reports as the address, whatever type that is in a test run.
    return _CLIENT + str(client)


@dataclass
class _Client:
    failures: int = 0
    window_start: float = 0.0
    next_allowed: float = 0.0
    blocked_until: float = 0.0
    in_flight: list[float] = field(default_factory=list)  # when each admitted, unsettled attempt goes stale

    @classmethod
    def of(cls, value: dict[str, Any] | None, now: float) -> _Client | None:
        if value is None:
            return None
        state = cls(**value)
        state.in_flight = [t for t in state.in_flight if t > now]
        return state

    def write(self, window_s: float) -> StateWrite:
        keep = max(self.window_start + window_s, self.blocked_until, self.next_allowed, *self.in_flight, 0.0)
        return StateWrite(asdict(self), int(keep * 1000) + 1)


@dataclass
class ClientCount:
    """What counting one failure did: blocked the client, or started the server-wide limit."""

    client_blocked: bool = False
    global_limited: bool = False


class LoginGuard:
    """Thread-safe sign-in throttle; build one per server process and pass it to every sign-in.

    Args:
        policy: the limits.
        clock: seconds since the epoch (injectable so tests never sleep).
        max_entries: names and clients remembered in memory when there is no shared state; the least recently
            seen are forgotten first, so a flood of made-up names cannot exhaust memory (known accounts keep
            their lock in the store regardless).
        state: the record store's shared state, so that every process counts the same failures.
    """

    def __init__(
        self,
        policy: LoginPolicy = LoginPolicy(),
        clock: Callable[[], float] = time.time,
        max_entries: int = 10_000,
        state: SharedState | None = None,
    ) -> None:
        self.policy = policy
        self.clock = clock
        self._state: SharedState = state if state is not None else MemoryState(max_entries)
        self._slots = threading.BoundedSemaphore(policy.hash_slots)

    @classmethod
    def for_store(cls, policy: LoginPolicy, stores: RecordStore) -> LoginGuard:
        """A guard counting in ``stores``' shared state (in this process when the store keeps none)."""
        return cls(policy, state=stores.state)

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
        value = self._state.get(_NAME + name, self.now_ms())
        return int(value["locked_until"]) if value is not None else 0

    def count_name(self, name: str) -> Count:
        """Count a refused attempt on a name that has no account (the store counts known accounts)."""
        now_ms = self.now_ms()

        def count(value: dict[str, Any] | None) -> tuple[StateWrite, Count]:
            failures, locked_until = (int(value["failures"]), int(value["locked_until"])) if value else (0, 0)
            counted = count_refusal(failures, locked_until, now_ms, self.policy)
            kept = {"failures": counted.failures, "locked_until": counted.locked_until}
            return StateWrite(kept, max(counted.locked_until, now_ms + NAME_KEEP_MS)), counted

        result: Count = self._state.update(_NAME + name, count, now_ms)
        return result

    def forget_name(self, name: str) -> None:
        self._state.delete(_NAME + name)

    def client_refusal(self, client: str) -> str | None:
        """The message refusing ``client`` right now, or None if it may try (does not admit an attempt)."""
        now = self.clock()
        return self._refusal(_Client.of(self._state.get(_client_key(client), int(now * 1000)), now), now)

    def client_wait(self, client: str) -> float:
        """Seconds until ``client`` may try again after its failures (0: now); for a Retry-After header."""
        now = self.clock()
        state = _Client.of(self._state.get(_client_key(client), int(now * 1000)), now)
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
        window = p.lock_minutes * 60

        def reserve(value: dict[str, Any] | None) -> tuple[StateWrite | None, str | None]:
            state = _Client.of(value, now)
            refusal = self._refusal(state, now)
            if refusal is not None:
                return None, refusal
            state = state or _Client(window_start=now)
            pending = state.failures + len(state.in_flight)
            if state.in_flight and (pending >= p.client_max_failures or pending > p.client_free_failures):
                return None, IN_FLIGHT
            state.in_flight.append(now + IN_FLIGHT_STALE_S)
            return state.write(window), None

        refusal: str | None = self._state.update(_client_key(client), reserve, int(now * 1000))
        if refusal is not None:
            return refusal

        def space(value: dict[str, Any] | None) -> tuple[StateWrite | None, str | None]:
            g = self._global_of(value, now)
            if g.failures >= p.global_free_failures:
                if g.next_allowed > now:
                    return None, GLOBAL.format(seconds=max(1, math.ceil(g.next_allowed - now)))
                g.next_allowed = now + p.global_interval_seconds
                return g.write(window), None
            return None, None

        refusal = self._state.update(_GLOBAL, space, int(now * 1000))
        if refusal is not None:
            self.settle(client)  # the server-wide limit refused it after all: its reservation goes
        return refusal

    def settle(self, client: str) -> None:
        """End an attempt admitted by :meth:`admit` (after its failure, if any, was counted)."""
        now = self.clock()
        window = self.policy.lock_minutes * 60

        def release(value: dict[str, Any] | None) -> tuple[StateWrite | None, None]:
            state = _Client.of(value, now)
            if state is None or not state.in_flight:
                return None, None
            state.in_flight.remove(min(state.in_flight))
            return state.write(window), None

        self._state.update(_client_key(client), release, int(now * 1000))

    def count_client(self, client: str) -> ClientCount:
        """Count a failed attempt from ``client`` (and towards the server-wide limit)."""
        now = self.clock()
        p = self.policy
        window = p.lock_minutes * 60

        def count_global(value: dict[str, Any] | None) -> tuple[StateWrite, bool]:
            g = self._global_of(value, now)
            g.failures += 1
            return g.write(window), g.failures == p.global_free_failures

        result = ClientCount(global_limited=self._state.update(_GLOBAL, count_global, int(now * 1000)))

        def count(value: dict[str, Any] | None) -> tuple[StateWrite | None, bool]:
            state = _Client.of(value, now) or _Client(window_start=now)
            if state.blocked_until > now:
                return None, False
            if now - state.window_start > window:
                state.failures, state.window_start, state.blocked_until = 0, now, 0.0
            state.failures += 1
            if state.failures >= p.client_max_failures:
                state.blocked_until = now + window
                return state.write(window), True
            if state.failures > p.client_free_failures:
                backoff = 2.0 ** (state.failures - p.client_free_failures - 1)
                state.next_allowed = now + min(backoff, p.client_backoff_cap_seconds)
            return state.write(window), False

        result.client_blocked = self._state.update(_client_key(client), count, int(now * 1000))
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

    def _global_of(self, value: dict[str, Any] | None, now: float) -> _Client:
        """The failures of every client together (a client-shaped record: next_allowed spaces attempts)."""
        g = _Client.of(value, now) or _Client(window_start=now)
        if now - g.window_start > self.policy.lock_minutes * 60:
            g.failures, g.window_start, g.next_allowed = 0, now, 0.0
        return g
