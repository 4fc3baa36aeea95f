"""Documents read but not yet confirmed, held by the API process between the two calls.

Reading (OCR) and saving are two steps, as on the digitize page: the clinician checks the list in between.
The page keeps the reading in its session; the API keeps it here, for its reader only, for a short while.
Behind several API processes a client must confirm on the process that read it (sticky sessions), or read
again: a reading is working state, never a record.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace

from backend.domain.errors import NotFound
from backend.services.digitize import Reading

TTL_S = 30 * 60
MAX_BYTES = 256 * 1024 * 1024
GONE = "No such reading (it expired after 30 minutes, or was read by someone else): upload the document again."


@dataclass(frozen=True)
class Held:
    reading: Reading
    data: bytes
    username: str
    patient_id: str
    expires_at: float  # seconds on the cache's clock


class ReadingCache:
    """At most ``max_bytes`` of documents, each for ``ttl_s`` seconds; the oldest go first when full."""

    def __init__(self, ttl_s: float = TTL_S, max_bytes: int = MAX_BYTES, clock: Callable[[], float] = time.time):
        self._ttl, self._max, self._clock = ttl_s, max_bytes, clock
        self._held: OrderedDict[str, Held] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, reading: Reading, data: bytes, username: str, patient_id: str) -> tuple[str, float]:
        """Hold a reading (without its page images); returns its id and when it expires (epoch seconds)."""
        reading_id = f"RD_{secrets.token_hex(12)}"
        held = Held(replace(reading, pages=[]), data, username, patient_id, self._clock() + self._ttl)
        with self._lock:
            self._expire()
            self._held[reading_id] = held
            while sum(len(h.data) for h in self._held.values()) > self._max and len(self._held) > 1:
                self._held.popitem(last=False)
        return reading_id, held.expires_at

    def take(self, reading_id: str, username: str, patient_id: str) -> Held:
        """The reading, if this user read it for this patient and it has not expired; NotFound otherwise."""
        with self._lock:
            self._expire()
            held = self._held.get(reading_id)
            if held is None or held.username != username or held.patient_id != patient_id:
                raise NotFound(GONE)
            return held

    def drop(self, reading_id: str) -> None:
        with self._lock:
            self._held.pop(reading_id, None)

    def _expire(self) -> None:
        now = self._clock()
        for key in [k for k, h in self._held.items() if h.expires_at <= now]:
            del self._held[key]
