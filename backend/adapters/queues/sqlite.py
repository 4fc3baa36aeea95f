"""A durable job queue in the SQLite file, with SQS-like visibility timeouts.

A received message stays in the table, hidden until ``visible_at``; a worker that
dies without acking lets it reappear, so delivery is at-least-once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from backend.adapters.queues.sqlite_visibility import VisibilityTable
from backend.adapters.records.sqlite.db import Database
from backend.ports import QueueMessage


class SqliteJobQueue:
    """Args: path: the SQLite file (or an open database); clock: epoch seconds for visibility (tests pass a fake)."""

    def __init__(self, path: Path | Database, clock: Callable[[], float] = time.time) -> None:
        self._db = path if isinstance(path, Database) else Database(path)
        self._table = VisibilityTable(self._db, "queue", clock)

    def send(self, job_id: str) -> None:
        self._table.send(job_id)

    def receive(self, wait_seconds: float = 1.0, visibility_seconds: int = 120) -> QueueMessage | None:
        got = self._table.receive(wait_seconds, visibility_seconds)
        if got is None:
            return None
        return QueueMessage(job_id=got.payload, receipt=got.receipt, receive_count=got.receive_count)

    def ack(self, message: QueueMessage) -> None:
        self._table.ack(message.receipt)

    def extend(self, message: QueueMessage, visibility_seconds: int) -> None:
        self._table.extend(message.receipt, visibility_seconds)

    def release(self, message: QueueMessage) -> None:
        self.extend(message, 0)

    def depth(self) -> int:
        """Messages waiting or in flight (for the admin page and tests)."""
        return self._table.count()
