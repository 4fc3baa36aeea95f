"""Shared state in SQLite: one row per key (a JSON body and an expiry), updated inside one IMMEDIATE transaction.

Every process that opens the same file sees the same rows, and ``BEGIN IMMEDIATE`` takes the write lock before
the read, so two processes' read-modify-writes of one key run one after the other (neither can let the
121st request of a bucket through). Expired rows are removed a few at a time when a new key is written.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from backend.adapters.records.sqlite.db import Database
from backend.ports import StateWrite

PRUNE_BATCH = 100


class SqliteSharedState:
    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, key: str, now_ms: int | None = None) -> dict[str, Any] | None:
        rows = self._db.query("SELECT body, expires_at FROM shared_state WHERE key = ?", (key,))
        if not rows or (now_ms is not None and int(rows[0]["expires_at"]) <= now_ms):
            return None
        value: dict[str, Any] = json.loads(rows[0]["body"])
        return value

    def update(
        self, key: str, change: Callable[[dict[str, Any] | None], tuple[StateWrite | None, Any]], now_ms: int
    ) -> Any:
        with self._db.tx() as conn:
            row = conn.execute("SELECT body, expires_at FROM shared_state WHERE key = ?", (key,)).fetchone()
            current = json.loads(row["body"]) if row is not None and int(row["expires_at"]) > now_ms else None
            write, result = change(current)
            if write is None:
                return result
            if write.value is None:
                conn.execute("DELETE FROM shared_state WHERE key = ?", (key,))
                return result
            if row is None:
                conn.execute(
                    "DELETE FROM shared_state WHERE key IN "
                    "(SELECT key FROM shared_state WHERE expires_at <= ? LIMIT ?)",
                    (now_ms, PRUNE_BATCH),
                )
            conn.execute(
                "INSERT INTO shared_state (key, body, expires_at) VALUES (?, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET body = excluded.body, expires_at = excluded.expires_at",
                (key, json.dumps(write.value, separators=(",", ":")), int(write.expires_at_ms)),
            )
            return result

    def delete(self, key: str) -> None:
        with self._db.tx() as conn:
            conn.execute("DELETE FROM shared_state WHERE key = ?", (key,))
