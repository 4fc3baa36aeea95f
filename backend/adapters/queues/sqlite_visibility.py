"""A SQLite table read like an SQS queue: a received row is hidden until ``visible_at``, not removed, until acked.

The job queue and the upload event inbox keep their messages in tables of the same shape (``seq``, one payload
column, ``visible_at``, ``receipt``, ``receive_count``); this is the one copy of the visibility rules both use.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from backend.adapters.records.sqlite.db import Database

_POLL = 0.2


@dataclass(frozen=True)
class Received:
    """A row handed out: its payload, the receipt that acks or extends it, and how often it was handed out."""

    payload: str
    receipt: str
    receive_count: int


# The tables of this shape and their payload columns: the only names that reach the SQL text below, so the
# statements are fixed text with every value bound (the S608 notes refer here).
_PAYLOAD = {"queue": "job_id", "inbox": "body"}


class VisibilityTable:
    """Args: db: the database; table: ``queue`` (job ids) or ``inbox`` (event bodies); clock: epoch seconds."""

    def __init__(self, db: Database, table: Literal["queue", "inbox"], clock: Callable[[], float] = time.time) -> None:
        column = _PAYLOAD[table]
        self._db = db
        self._clock = clock
        self._insert = f"INSERT INTO {table} ({column}, visible_at) VALUES (?, ?)"  # noqa: S608  # nosec B608 - names from _PAYLOAD
        self._select = (
            f"SELECT seq, {column} AS payload, receive_count FROM {table} WHERE visible_at <= ? ORDER BY seq LIMIT 1"  # noqa: S608  # nosec B608 - names from _PAYLOAD
        )
        self._hide = f"UPDATE {table} SET visible_at = ?, receipt = ?, receive_count = receive_count + 1 WHERE seq = ?"  # noqa: S608  # nosec B608 - names from _PAYLOAD
        self._delete = f"DELETE FROM {table} WHERE seq = ? AND receipt = ?"  # noqa: S608  # nosec B608 - names from _PAYLOAD
        self._extend = f"UPDATE {table} SET visible_at = ? WHERE seq = ? AND receipt = ?"  # noqa: S608  # nosec B608 - names from _PAYLOAD
        self._count = f"SELECT COUNT(*) AS n FROM {table}"  # noqa: S608  # nosec B608 - names from _PAYLOAD

    def send(self, payload: str) -> None:
        """Add a row, visible at once."""
        with self._db.tx() as conn:
            conn.execute(self._insert, (payload, self._clock()))

    def receive(self, wait_seconds: float, visibility_seconds: int) -> Received | None:
        """Hand out the oldest visible row, hidden for ``visibility_seconds``; poll up to ``wait_seconds``."""
        deadline = time.monotonic() + wait_seconds
        while True:
            message = self._try_receive(visibility_seconds)
            if message is not None or time.monotonic() >= deadline:
                return message
            time.sleep(_POLL)

    def _try_receive(self, visibility_seconds: int) -> Received | None:
        now = self._clock()
        receipt = uuid.uuid4().hex
        with self._db.tx() as conn:
            row = conn.execute(self._select, (now,)).fetchone()
            if row is None:
                return None
            conn.execute(self._hide, (now + visibility_seconds, receipt, row["seq"]))
        return Received(row["payload"], f"{row['seq']}:{receipt}", row["receive_count"] + 1)

    def ack(self, receipt: str) -> None:
        """Remove the row, if ``receipt`` is still its latest (a redelivered row has a newer one)."""
        seq, token = receipt.split(":", 1)
        with self._db.tx() as conn:
            conn.execute(self._delete, (int(seq), token))

    def extend(self, receipt: str, visibility_seconds: int) -> None:
        """Hide the row for ``visibility_seconds`` from now, if ``receipt`` is still its latest."""
        seq, token = receipt.split(":", 1)
        with self._db.tx() as conn:
            conn.execute(self._extend, (self._clock() + visibility_seconds, int(seq), token))

    def count(self) -> int:
        """Rows waiting or in flight."""
        return int(self._db.query(self._count)[0]["n"])
