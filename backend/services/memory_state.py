"""Shared state kept in this process only: what sessions and throttles use when the record store has none.

It is the :class:`~backend.ports.SharedState` contract without the sharing: one process sees its own entries
(a restart forgets them). A lock makes each update atomic; the least recently written entries are forgotten
first past ``max_entries``, so a flood of made-up names or clients cannot exhaust memory.
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from backend.ports import StateWrite

MAX_ENTRIES = 50_000


class MemoryState:
    """Thread-safe in-process state (see the module docstring).

    Args:
        max_entries: entries kept at most (sessions, tickets, buckets, throttles together).
    """

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._max = max_entries
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, tuple[dict[str, Any], int]] = OrderedDict()

    def get(self, key: str, now_ms: int | None = None) -> dict[str, Any] | None:
        with self._lock:
            entry = self._entries.get(key)
        if entry is None or (now_ms is not None and entry[1] <= now_ms):
            return None
        return copy.deepcopy(entry[0])  # callers may change what they read: the stored value must not move

    def update(
        self, key: str, change: Callable[[dict[str, Any] | None], tuple[StateWrite | None, Any]], now_ms: int
    ) -> Any:
        with self._lock:
            entry = self._entries.get(key)
            current = copy.deepcopy(entry[0]) if entry is not None and entry[1] > now_ms else None
            write, result = change(current)
            if write is None:
                return result
            if write.value is None:
                self._entries.pop(key, None)
                return result
            if entry is None:
                self._prune(now_ms)
            self._entries.pop(key, None)
            self._entries[key] = (copy.deepcopy(write.value), write.expires_at_ms)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
            return result

    def delete(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def _prune(self, now_ms: int) -> None:
        # Only when a new key arrives, and only a few at a time: a write never pays for a long sweep.
        expired = [k for k, (_, expiry) in list(self._entries.items())[:200] if expiry <= now_ms]
        for key in expired:
            del self._entries[key]
