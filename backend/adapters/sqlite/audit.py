"""Append-only audit log in SQLite (triggers refuse UPDATE and DELETE)."""

from __future__ import annotations

from backend.adapters.sqlite.db import Database, decode_cursor, encode_cursor
from backend.domain.models import AuditEvent, Page


class SqliteAuditLog:
    def __init__(self, db: Database) -> None:
        self._db = db

    def append(self, event: AuditEvent) -> None:
        with self._db.tx() as conn:
            conn.execute(
                "INSERT INTO audit_log (at, actor, patient_id, body) VALUES (?, ?, ?, ?)",
                (event.at, event.actor, event.patient_id, event.model_dump_json()),
            )

    def query(
        self,
        *,
        patient_id: str | None = None,
        actor: str | None = None,
        since: int | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> Page[AuditEvent]:
        where: list[str] = []
        params: list[object] = []
        if patient_id is not None:
            where.append("patient_id = ?")
            params.append(patient_id)
        if actor is not None:
            where.append("actor = ?")
            params.append(actor)
        if since is not None:
            where.append("at >= ?")
            params.append(since)
        after = decode_cursor(cursor)
        if after:
            where.append("seq < ?")
            params.append(int(after[0]))
        clause = ("WHERE " + " AND ".join(where)) if where else ""
        rows = self._db.query(
            f"SELECT seq, body FROM audit_log {clause} ORDER BY seq DESC LIMIT ?",  # noqa: S608  # nosec B608 - fixed SQL text (constant table/clauses), values bound
            [*params, limit + 1],
        )
        items = [AuditEvent.model_validate_json(r["body"]) for r in rows[:limit]]
        nxt = encode_cursor([rows[limit - 1]["seq"]]) if len(rows) > limit else None
        return Page[AuditEvent](items=items, next_cursor=nxt)
