"""Idempotency keys in SQLite: one row per scoped key; a claim is one conditional upsert (atomic across processes).

The table is created here (``IF NOT EXISTS``) rather than by a schema migration: it holds only short-lived
replay copies, never a record of its own, and an older database simply gains it on first use.
"""

from __future__ import annotations

import json
import sqlite3

from backend.adapters.records.sqlite.db import Database
from backend.domain.idempotency import IdempotencyRecord

_TABLE = """
CREATE TABLE IF NOT EXISTS idempotency_keys (
    key TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    status INTEGER,
    body TEXT NOT NULL DEFAULT '',
    headers TEXT NOT NULL DEFAULT '{}'
)
"""


class SqliteIdempotencyStore:
    def __init__(self, db: Database) -> None:
        self._db = db
        with self._db.tx() as conn:
            conn.execute(_TABLE)

    def claim(self, record: IdempotencyRecord, now_ms: int) -> IdempotencyRecord | None:
        with self._db.tx() as conn:
            # Expired rows are dropped on the way: the table stays as small as the keys in use.
            conn.execute("DELETE FROM idempotency_keys WHERE expires_at <= ?", (now_ms,))
            cur = conn.execute(
                "INSERT INTO idempotency_keys (key, fingerprint, expires_at) VALUES (?, ?, ?) "
                "ON CONFLICT(key) DO NOTHING",
                (record.key, record.fingerprint, record.expires_at),
            )
            if cur.rowcount == 1:
                return None
            row = conn.execute("SELECT * FROM idempotency_keys WHERE key = ?", (record.key,)).fetchone()
            return _record(row)

    def complete(self, record: IdempotencyRecord) -> None:
        with self._db.tx() as conn:
            conn.execute(
                "UPDATE idempotency_keys SET status = ?, body = ?, headers = ?, expires_at = ? "
                "WHERE key = ? AND fingerprint = ?",
                (
                    record.status,
                    record.body,
                    json.dumps(record.headers),
                    record.expires_at,
                    record.key,
                    record.fingerprint,
                ),
            )

    def release(self, key: str, fingerprint: str) -> None:
        with self._db.tx() as conn:
            conn.execute(
                "DELETE FROM idempotency_keys WHERE key = ? AND fingerprint = ? AND status IS NULL", (key, fingerprint)
            )

    def get(self, key: str, now_ms: int) -> IdempotencyRecord | None:
        rows = self._db.query("SELECT * FROM idempotency_keys WHERE key = ? AND expires_at > ?", (key, now_ms))
        return _record(rows[0]) if rows else None


def _record(row: sqlite3.Row) -> IdempotencyRecord:
    return IdempotencyRecord(
        key=row["key"],
        fingerprint=row["fingerprint"],
        expires_at=int(row["expires_at"]),
        status=row["status"],
        body=row["body"],
        headers=dict(json.loads(row["headers"])),
    )
