"""Per-caller token buckets: a steady rate with short bursts, on an injected clock (tests move time by hand)."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from backend.domain.errors import CopilotError


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    """``per_minute`` requests per key and minute, at most ``burst`` at once.

    Buckets live in this process: behind several API processes each allows the rate, so the clinic-wide limit
    is the rate times the number of processes (enough to stop a runaway script, which is what this is for).
    """

    def __init__(self, per_minute: int, burst: int | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = max(1, per_minute) / 60.0  # tokens per second
        self.burst = float(burst if burst is not None else max(1, per_minute // 5))
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Spend one request of ``key``: 0 if allowed, else the seconds until the next one is (a 429's Retry-After)."""
        with self._lock:
            now = self._clock()
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(self.burst, now)
                self._forget_idle(now)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.rate)
            bucket.at = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / self.rate

    def _forget_idle(self, now: float) -> None:
        # A bucket refilled to the brim holds nothing worth keeping: drop those so memory stays bounded.
        if len(self._buckets) < 10_000:
            return
        full_after = self.burst / self.rate
        for key in [k for k, b in self._buckets.items() if now - b.at > full_after]:
            del self._buckets[key]


def retry_after_header(seconds: float) -> str:
    """Whole seconds, rounded up, at least 1 (the header takes an integer)."""
    return str(max(1, math.ceil(seconds)))


class RateLimited(CopilotError):
    """The caller spent its requests for now; ``retry_after`` seconds until the next one."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"Too many requests: try again in {retry_after_header(retry_after)} second(s).")
        self.retry_after = retry_after
