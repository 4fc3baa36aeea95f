"""Named leases in SQLite: one row per name; taking one is a single conditional upsert (atomic across processes)."""

from __future__ import annotations

import sqlite3

from backend.adapters.records.sqlite.db import Database
from backend.domain.leases import Lease


class SqliteLeaseStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def acquire(self, name: str, owner: str, now_ms: int, ttl_ms: int) -> Lease | None:
        with self._db.tx() as conn:
            cur = conn.execute(
                "INSERT INTO leases (name, owner, expires_at) VALUES (?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at "
                "WHERE leases.done_at IS NULL AND (leases.owner = excluded.owner OR leases.expires_at <= ?)",
                (name, owner, now_ms + ttl_ms, now_ms),
            )
            if cur.rowcount == 0:
                return None
            return _lease(conn.execute("SELECT * FROM leases WHERE name = ?", (name,)).fetchone())

    def finish(self, name: str, owner: str, now_ms: int, detail: str = "") -> bool:
        with self._db.tx() as conn:
            cur = conn.execute(
                "UPDATE leases SET done_at = ?, detail = ? WHERE name = ? AND owner = ? AND done_at IS NULL",
                (now_ms, detail[:500], name, owner),
            )
            return cur.rowcount == 1

    def release(self, name: str, owner: str) -> None:
        with self._db.tx() as conn:
            conn.execute(
                "UPDATE leases SET expires_at = 0 WHERE name = ? AND owner = ? AND done_at IS NULL", (name, owner)
            )

    def get(self, name: str) -> Lease | None:
        rows = self._db.query("SELECT * FROM leases WHERE name = ?", (name,))
        return _lease(rows[0]) if rows else None


def _lease(row: sqlite3.Row) -> Lease:
    return Lease(row["name"], row["owner"], int(row["expires_at"]), row["done_at"], row["detail"])
