"""SQLite implementations of the record ports (the offline default)."""

from __future__ import annotations

from pathlib import Path

from backend.adapters.crypto.keys import DataKey
from backend.adapters.records.sqlite.api_tokens import SqliteApiTokenStore
from backend.adapters.records.sqlite.audit import SqliteAuditLog
from backend.adapters.records.sqlite.changes import SqliteChangeFeed
from backend.adapters.records.sqlite.db import Database
from backend.adapters.records.sqlite.jobs import SqliteJobStore
from backend.adapters.records.sqlite.leases import SqliteLeaseStore
from backend.adapters.records.sqlite.metrics import SqliteMetricStore
from backend.adapters.records.sqlite.notes import SqliteHistoryStore, SqliteNoteStore
from backend.adapters.records.sqlite.patients import SqlitePatientStore
from backend.adapters.records.sqlite.shared_state import SqliteSharedState
from backend.adapters.records.sqlite.users import SqliteUserStore
from backend.ports import RecordStore


def open_sqlite_store(path: Path, key: DataKey | None = None) -> RecordStore:
    """Open (creating and migrating) the SQLite file at ``path``; with ``key``, an encrypted (SQLCipher) file."""
    db = Database(path, key)
    return RecordStore(
        patients=SqlitePatientStore(db),
        users=SqliteUserStore(db),
        audit=SqliteAuditLog(db),
        notes=SqliteNoteStore(db),
        history=SqliteHistoryStore(db),
        metrics=SqliteMetricStore(db),
        jobs=SqliteJobStore(db),
        api_tokens=SqliteApiTokenStore(db),
        changes=SqliteChangeFeed(db),
        leases=SqliteLeaseStore(db),
        state=SqliteSharedState(db),
    )


__all__ = ["Database", "open_sqlite_store"]
