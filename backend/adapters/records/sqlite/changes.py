"""The change log in SQLite: an append-only table written in the transaction of each change.

Stores call :func:`log_change` with their open transaction, so a change is in the log exactly when it is in
the store (a rollback drops both). ``id`` is an AUTOINCREMENT key, so it only grows, even after old changes are
pruned; a client resuming from before the oldest kept change gets the changes from there on.
"""

from __future__ import annotations

import json
import sqlite3

from backend.adapters.records.sqlite.db import Database
from backend.domain.changes import Change, ChangeKind
from backend.domain.models import now_ms

# The log is for live events, not history: every PRUNE_EVERY changes, changes older than KEEP_MS that are also
# more than KEEP_ROWS behind are dropped (a range on the key, so pruning never scans the table).
PRUNE_EVERY = 1000
KEEP_ROWS = 10_000
KEEP_MS = 7 * 24 * 3600 * 1000


def log_change(
    conn: sqlite3.Connection, kind: ChangeKind, patient_id: str, ref: str, state: str, **detail: object
) -> None:
    """Append one change inside the caller's transaction (and now and then drop old ones)."""
    at = now_ms()
    cur = conn.execute(
        "INSERT INTO changes (at, kind, patient_id, ref, state, detail) VALUES (?, ?, ?, ?, ?, ?)",
        (at, kind.value, patient_id, ref, state, json.dumps(detail, default=str)),
    )
    new_id = cur.lastrowid or 0
    if new_id % PRUNE_EVERY == 0 and new_id > KEEP_ROWS:
        conn.execute("DELETE FROM changes WHERE id <= ? AND at < ?", (new_id - KEEP_ROWS, at - KEEP_MS))


class SqliteChangeFeed:
    """``ChangeFeed`` over the ``changes`` table of the record store's file."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def read_after(self, after_id: int, limit: int = 100) -> list[Change]:
        rows = self._db.query(
            "SELECT id, at, kind, patient_id, ref, state, detail FROM changes WHERE id > ? ORDER BY id LIMIT ?",
            (after_id, limit),
        )
        return [_change(r) for r in rows]

    def last_id(self) -> int:
        return int(self._db.query("SELECT COALESCE(MAX(id), 0) AS n FROM changes")[0]["n"])

    def append(self, changes: list[Change]) -> int:
        """Store changes made elsewhere (the interface a stream consumer writes to); returns the last id."""
        with self._db.tx() as conn:
            for c in changes:
                conn.execute(
                    "INSERT INTO changes (at, kind, patient_id, ref, state, detail) VALUES (?, ?, ?, ?, ?, ?)",
                    (c.at, c.kind.value, c.patient_id, c.ref, c.state, json.dumps(c.detail, default=str)),
                )
        return self.last_id()


def _change(row: sqlite3.Row) -> Change:
    return Change(
        id=int(row["id"]),
        at=int(row["at"]),
        kind=ChangeKind(row["kind"]),
        patient_id=row["patient_id"],
        ref=row["ref"],
        state=row["state"],
        detail=json.loads(row["detail"]),
    )
