"""A durable job queue in the SQLite file, with SQS-like visibility timeouts.

A received message stays in the table, hidden until ``visible_at``; a worker that
dies without acking lets it reappear, so delivery is at-least-once.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path

from backend.adapters.records.sqlite.db import Database
from backend.ports import QueueMessage

_POLL = 0.2


class SqliteJobQueue:
    """Args: path: the SQLite file (or an open database); clock: epoch seconds for visibility (tests pass a fake)."""

    def __init__(self, path: Path | Database, clock: Callable[[], float] = time.time) -> None:
        self._db = path if isinstance(path, Database) else Database(path)
        self._clock = clock

    def send(self, job_id: str) -> None:
        with self._db.tx() as conn:
            conn.execute("INSERT INTO queue (job_id, visible_at) VALUES (?, ?)", (job_id, self._clock()))

    def receive(self, wait_seconds: float = 1.0, visibility_seconds: int = 120) -> QueueMessage | None:
        deadline = time.monotonic() + wait_seconds
        while True:
            message = self._try_receive(visibility_seconds)
            if message is not None or time.monotonic() >= deadline:
                return message
            time.sleep(_POLL)

    def _try_receive(self, visibility_seconds: int) -> QueueMessage | None:
        now = self._clock()
        receipt = uuid.uuid4().hex
        with self._db.tx() as conn:
            row = conn.execute(
                "SELECT seq, job_id, receive_count FROM queue WHERE visible_at <= ? ORDER BY seq LIMIT 1", (now,)
            ).fetchone()
            if row is None:
                return None
            conn.execute(
                "UPDATE queue SET visible_at = ?, receipt = ?, receive_count = receive_count + 1 WHERE seq = ?",
                (now + visibility_seconds, receipt, row["seq"]),
            )
        return QueueMessage(
            job_id=row["job_id"], receipt=f"{row['seq']}:{receipt}", receive_count=row["receive_count"] + 1
        )

    def ack(self, message: QueueMessage) -> None:
        seq, receipt = message.receipt.split(":", 1)
        with self._db.tx() as conn:
            conn.execute("DELETE FROM queue WHERE seq = ? AND receipt = ?", (int(seq), receipt))

    def extend(self, message: QueueMessage, visibility_seconds: int) -> None:
        seq, receipt = message.receipt.split(":", 1)
        with self._db.tx() as conn:
            conn.execute(
                "UPDATE queue SET visible_at = ? WHERE seq = ? AND receipt = ?",
                (self._clock() + visibility_seconds, int(seq), receipt),
            )

    def release(self, message: QueueMessage) -> None:
        self.extend(message, 0)

    def depth(self) -> int:
        """Messages waiting or in flight (for the admin page and tests)."""
        return int(self._db.query("SELECT COUNT(*) AS n FROM queue")[0]["n"])
