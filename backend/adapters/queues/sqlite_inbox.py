"""The event inbox in the SQLite file: object-created notifications of local direct uploads.

The same visibility rules as the job queue (a received message is hidden, not removed, until acked), in a
table of its own, so the job worker and the upload consumer never take each other's messages.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from backend.adapters.records.sqlite.db import Database
from backend.ports import InboxMessage

_POLL = 0.2


class SqliteEventInbox:
    """Args: db: the record store's database; clock: epoch seconds for visibility (tests pass a fake)."""

    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._clock = clock

    def send(self, body: str) -> None:
        with self._db.tx() as conn:
            conn.execute("INSERT INTO inbox (body, visible_at) VALUES (?, ?)", (body, self._clock()))

    def receive(self, wait_seconds: float = 1.0, visibility_seconds: int = 60) -> InboxMessage | None:
        deadline = time.monotonic() + wait_seconds
        while True:
            message = self._try_receive(visibility_seconds)
            if message is not None or time.monotonic() >= deadline:
                return message
            time.sleep(_POLL)

    def _try_receive(self, visibility_seconds: int) -> InboxMessage | None:
        now = self._clock()
        receipt = uuid.uuid4().hex
        with self._db.tx() as conn:
            row = conn.execute(
                "SELECT seq, body, receive_count FROM inbox WHERE visible_at <= ? ORDER BY seq LIMIT 1", (now,)
            ).fetchone()
            if row is None:
                return None
            conn.execute(
                "UPDATE inbox SET visible_at = ?, receipt = ?, receive_count = receive_count + 1 WHERE seq = ?",
                (now + visibility_seconds, receipt, row["seq"]),
            )
        return InboxMessage(row["body"], f"{row['seq']}:{receipt}", row["receive_count"] + 1)

    def ack(self, message: InboxMessage) -> None:
        seq, receipt = message.receipt.split(":", 1)
        with self._db.tx() as conn:
            conn.execute("DELETE FROM inbox WHERE seq = ? AND receipt = ?", (int(seq), receipt))
