"""The event inbox in the SQLite file: object-created notifications of local direct uploads.

The same visibility rules as the job queue (a received message is hidden, not removed, until acked), in a
table of its own, so the job worker and the upload consumer never take each other's messages.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from backend.adapters.queues.sqlite_visibility import VisibilityTable
from backend.adapters.records.sqlite.db import Database
from backend.ports import InboxMessage


class SqliteEventInbox:
    """Args: db: the record store's database; clock: epoch seconds for visibility (tests pass a fake)."""

    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self._table = VisibilityTable(db, "inbox", clock)

    def send(self, body: str) -> None:
        self._table.send(body)

    def receive(self, wait_seconds: float = 1.0, visibility_seconds: int = 60) -> InboxMessage | None:
        got = self._table.receive(wait_seconds, visibility_seconds)
        return None if got is None else InboxMessage(got.payload, got.receipt, got.receive_count)

    def ack(self, message: InboxMessage) -> None:
        self._table.ack(message.receipt)
