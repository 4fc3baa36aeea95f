"""Append-only audit log in SQLite (triggers refuse UPDATE and DELETE), hash-chained in ``seq`` order.

Each insert reads the newest row's hash inside its own IMMEDIATE transaction (writers are serialised by
SQLite's write lock), so two writers can never chain to the same row. The row's hash covers the stored body
(see :mod:`backend.domain.audit_chain`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from backend.adapters.records.sqlite.changes import log_change
from backend.adapters.records.sqlite.db import Database, decode_cursor, encode_cursor
from backend.domain.audit_chain import GENESIS, ChainLink, canonical, event_fields, link_hash
from backend.domain.changes import ChangeKind
from backend.domain.models import AuditEvent, Page

_BATCH = 500


class SqliteAuditLog:
    def __init__(self, db: Database) -> None:
        self._db = db

    def append(self, event: AuditEvent) -> None:
        fields = event_fields(event)
        with self._db.tx() as conn:
            last = conn.execute("SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
            # A newest row without a hash was written before the chain: the chain starts here.
            prev = last["hash"] if last is not None and last["hash"] is not None else GENESIS
            conn.execute(
                "INSERT INTO audit_log (at, actor, patient_id, body, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?)",
                (event.at, event.actor, event.patient_id, canonical(fields), prev, link_hash(prev, fields)),
            )
            log_change(conn, ChangeKind.AUDIT, event.patient_id or "", event.action, event.actor, role=event.role)

    def chain(self) -> Iterator[ChainLink]:
        after = 0
        while True:
            rows = self._db.query(
                "SELECT seq, body, prev_hash, hash FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?", (after, _BATCH)
            )
            for r in rows:
                yield ChainLink(seq=r["seq"], fields=json.loads(r["body"]), prev_hash=r["prev_hash"], hash=r["hash"])
            if len(rows) < _BATCH:
                return
            after = rows[-1]["seq"]

    def chain_head(self) -> tuple[int, str] | None:
        # The newest row is the head: the delete trigger keeps the end of the log from being cut off.
        return None

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
