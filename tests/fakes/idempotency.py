"""An in-memory idempotency store: the same contract as the SQLite and DynamoDB adapters."""

from __future__ import annotations

import threading

from backend.domain.idempotency import IdempotencyRecord


class FakeIdempotencyStore:
    def __init__(self) -> None:
        self.rows: dict[str, IdempotencyRecord] = {}
        self._lock = threading.Lock()

    def claim(self, record: IdempotencyRecord, now_ms: int) -> IdempotencyRecord | None:
        with self._lock:
            current = self.rows.get(record.key)
            if current is not None and current.live(now_ms):
                return current
            self.rows[record.key] = record
            return None

    def complete(self, record: IdempotencyRecord) -> None:
        with self._lock:
            current = self.rows.get(record.key)
            if current is not None and current.fingerprint == record.fingerprint:
                self.rows[record.key] = record

    def release(self, key: str, fingerprint: str) -> None:
        with self._lock:
            current = self.rows.get(key)
            if current is not None and current.pending and current.fingerprint == fingerprint:
                del self.rows[key]

    def get(self, key: str, now_ms: int) -> IdempotencyRecord | None:
        current = self.rows.get(key)
        return current if current is not None and current.live(now_ms) else None
