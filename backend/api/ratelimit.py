"""Per-caller token buckets: a steady rate with short bursts, on an injected clock (tests move time by hand)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from backend.domain.errors import CopilotError
from backend.ports import SharedState, StateWrite
from backend.services.memory_state import MemoryState

_PREFIX = "rate:"


class RateLimiter:
    """``per_minute`` requests per key and minute, at most ``burst`` at once.

    The buckets live in ``state``: the record store's shared state, so every API process behind a load balancer
    spends the same bucket (each take is one atomic update: two processes never both let the last request
    through); without one, in this process only.

    Args:
        per_minute: the steady rate.
        burst: requests allowed at once (a fifth of the rate by default).
        clock: seconds since the epoch; processes sharing buckets must agree on it, so not a monotonic clock.
        state: where the buckets are kept.
    """

    def __init__(
        self,
        per_minute: int,
        burst: int | None = None,
        clock: Callable[[], float] = time.time,
        state: SharedState | None = None,
    ) -> None:
        self.rate = max(1, per_minute) / 60.0  # tokens per second
        self.burst = float(burst if burst is not None else max(1, per_minute // 5))
        self._clock = clock
        self._state: SharedState = state if state is not None else MemoryState()

    def take(self, key: str) -> float:
        """Spend one request of ``key``: 0 if allowed, else the seconds until the next one is (a 429's Retry-After)."""
        now = self._clock()
        # A bucket refilled to the brim holds nothing worth keeping: it expires then (and reads as full).
        expires_ms = int((now + self.burst / self.rate) * 1000) + 1

        def spend(bucket: dict[str, Any] | None) -> tuple[StateWrite, float]:
            tokens, at = (self.burst, now) if bucket is None else (float(bucket["tokens"]), float(bucket["at"]))
            tokens = min(self.burst, tokens + max(0.0, now - at) * self.rate)
            if tokens >= 1.0:
                return StateWrite({"tokens": tokens - 1.0, "at": now}, expires_ms), 0.0
            return StateWrite({"tokens": tokens, "at": now}, expires_ms), (1.0 - tokens) / self.rate

        wait: float = self._state.update(_PREFIX + key, spend, int(now * 1000))
        return wait


def retry_after_header(seconds: float) -> str:
    """Whole seconds, rounded up, at least 1 (the header takes an integer)."""
    return str(max(1, math.ceil(seconds)))


class RateLimited(CopilotError):
    """The caller spent its requests for now; ``retry_after`` seconds until the next one."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"Too many requests: try again in {retry_after_header(retry_after)} second(s).")
        self.retry_after = retry_after
