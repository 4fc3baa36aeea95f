"""Clinical notes and medication history in SQLite, keyed (patient_id, timestamp ms)."""

from __future__ import annotations

import json
import sqlite3
from typing import Any, Generic, TypeVar

from backend.adapters.records.sqlite.changes import log_change
from backend.adapters.records.sqlite.db import Database, decode_cursor, encode_cursor
from backend.domain.changes import ChangeKind
from backend.domain.errors import ConcurrentUpdate, NotFound, SignedNoteImmutable
from backend.domain.legacy_rows import note_from_row
from backend.domain.models import HistoryEntry, Note, NoteStatus, Page, now_ms

R = TypeVar("R", Note, HistoryEntry)
_MAX_BUMPS = 1000


class _Timeline(Generic[R]):
    """Rows of one patient ordered by timestamp; a colliding timestamp is bumped by 1 ms, never overwritten."""

    table: str
    model: type[R]
    label: str

    def __init__(self, db: Database) -> None:
        self._db = db

    def _read(self, body: str) -> R:
        return self.model.model_validate_json(body)

    def _insert(self, conn: sqlite3.Connection, record: R) -> None:
        raise NotImplementedError

    def add(self, record: R) -> R:
        for bump in range(_MAX_BUMPS):
            candidate = record.model_copy(update={"timestamp": record.timestamp + bump})
            try:
                with self._db.tx() as conn:
                    self._insert(conn, candidate)
                return candidate
            except sqlite3.IntegrityError:
                continue
        raise ConcurrentUpdate(f"Could not find a free timestamp for this {self.label}; try again.")

    def get(self, patient_id: str, timestamp: int) -> R:
        rows = self._db.query(
            f"SELECT body FROM {self.table} WHERE patient_id = ? AND ts = ?",  # noqa: S608  # nosec B608 - fixed SQL text (constant table/clauses), values bound
            (patient_id, timestamp),
        )
        if not rows:
            raise NotFound(f"No {self.label} {timestamp} for patient {patient_id}.")
        return self._read(rows[0]["body"])

    def list_for_patient(self, patient_id: str, cursor: str | None = None, limit: int = 50) -> Page[R]:
        after = decode_cursor(cursor)
        before = int(after[0]) if after else 2**62
        rows = self._db.query(
            f"SELECT ts, body FROM {self.table} WHERE patient_id = ? AND ts < ? ORDER BY ts DESC LIMIT ?",  # noqa: S608  # nosec B608 - fixed SQL text (constant table/clauses), values bound
            (patient_id, before, limit + 1),
        )
        items = [self._read(r["body"]) for r in rows[:limit]]
        nxt = encode_cursor([rows[limit - 1]["ts"]]) if len(rows) > limit else None
        return Page[R](items=items, next_cursor=nxt)


class SqliteNoteStore(_Timeline[Note]):
    table = "notes"
    model = Note
    label = "note"

    def _read(self, body: str) -> Note:
        return _note(body)

    def _insert(self, conn: sqlite3.Connection, record: Note) -> None:
        conn.execute(
            "INSERT INTO notes (patient_id, ts, status, updated_at, version, body) VALUES (?, ?, ?, ?, ?, ?)",
            (
                record.patient_id,
                record.timestamp,
                record.status.value,
                record.updated_at,
                record.version,
                record.model_dump_json(),
            ),
        )
        log_change(conn, ChangeKind.NOTE, record.patient_id, str(record.timestamp), record.status.value, new=True)

    def update(self, note: Note, expected_version: int) -> Note:
        """Replace a draft at ``expected_version``.

        Raises:
            SignedNoteImmutable: the stored note is signed (a trigger refuses it too, for writers outside this class).
            NotFound: no such note.
            ConcurrentUpdate: the stored version is not ``expected_version``.
        """
        stored = note.model_copy(update={"version": expected_version + 1, "updated_at": now_ms()})
        with self._db.tx() as conn:
            cur = conn.execute(
                "UPDATE notes SET status = ?, updated_at = ?, version = ?, body = ?"
                " WHERE patient_id = ? AND ts = ? AND version = ? AND status != ?",
                (
                    stored.status.value,
                    stored.updated_at,
                    stored.version,
                    stored.model_dump_json(),
                    note.patient_id,
                    note.timestamp,
                    expected_version,
                    NoteStatus.SIGNED.value,
                ),
            )
            if cur.rowcount == 0:
                row = conn.execute(
                    "SELECT status FROM notes WHERE patient_id = ? AND ts = ?", (note.patient_id, note.timestamp)
                ).fetchone()
                if row is None:
                    raise NotFound(f"No note {note.timestamp} for patient {note.patient_id}.")
                if row["status"] == NoteStatus.SIGNED.value:
                    raise SignedNoteImmutable()
                raise ConcurrentUpdate()
            log_change(conn, ChangeKind.NOTE, note.patient_id, str(note.timestamp), stored.status.value)
        return stored

    def changed_since(self, since: int, limit: int = 100) -> list[Note]:
        rows = self._db.query(
            "SELECT body FROM notes WHERE updated_at >= ? ORDER BY updated_at DESC LIMIT ?", (since, limit)
        )
        return [_note(r["body"]) for r in rows]

    def drafts(self, limit: int = 200) -> list[Note]:
        rows = self._db.query(
            "SELECT body FROM notes WHERE status = ? ORDER BY updated_at DESC LIMIT ?", (NoteStatus.DRAFT.value, limit)
        )
        return [_note(r["body"]) for r in rows]


def _note(body: str) -> Note:
    """A stored body as a ``Note``; bodies written by the previous version are upgraded as they are read."""
    row: dict[str, Any] = json.loads(body)
    return note_from_row(row)


class SqliteHistoryStore(_Timeline[HistoryEntry]):
    table = "history"
    model = HistoryEntry
    label = "history entry"

    def _insert(self, conn: sqlite3.Connection, record: HistoryEntry) -> None:
        conn.execute(
            "INSERT INTO history (patient_id, ts, version, body) VALUES (?, ?, ?, ?)",
            (record.patient_id, record.timestamp, record.version, record.model_dump_json()),
        )
