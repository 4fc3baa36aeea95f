"""SQLite plumbing: a connection per thread, WAL, foreign keys, versioned migrations.

Every statement is parameterised; table names are constants of this package. With a data key the file is a
SQLCipher database (encrypted pages, WAL included); each connection is keyed and checked before any statement
could write to the file, so a wrong key fails with a message and leaves the file untouched.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from backend.adapters.crypto.keys import DataKey
from backend.adapters.crypto.sqlcipher import connect as open_connection
from backend.adapters.records.sqlite.schema import MIGRATIONS
from backend.domain.errors import StoreUnavailable


class Database:
    """Owns the file; hands each thread its own connection.

    Args:
        path: the database file.
        key: the data key (an encrypted SQLCipher file), or None for a plain SQLite file.

    Raises:
        DataKeyError: the file is encrypted and the key is missing or wrong (or a key was given for a plain file).
    """

    def __init__(self, path: Path, key: DataKey | None = None) -> None:
        self.path = Path(path)
        self.key = key
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # A new database is readable by its owner only (SQLite gives its WAL and shm files the same mode).
        with contextlib.suppress(FileExistsError):
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        self._local = threading.local()
        self._migrate_lock = threading.Lock()
        self.migrate()

    def connect(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = open_connection(self.path, self.key, timeout=30.0, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
        return conn

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """An IMMEDIATE transaction: writers queue on the lock instead of failing mid-way."""
        conn = self.connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as e:
            raise StoreUnavailable("The database is busy; try again in a moment.") from e
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")

    def query(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> list[sqlite3.Row]:
        return self.connect().execute(sql, params).fetchall()

    def migrate(self) -> None:
        """Apply migrations newer than ``PRAGMA user_version``, each in its own transaction."""
        with self._migrate_lock, self.tx() as conn:
            current = conn.execute("PRAGMA user_version").fetchone()[0]
            for number, script in enumerate(MIGRATIONS, start=1):
                if number <= current:
                    continue
                for statement in _statements(script):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {int(number)}")

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


def encode_cursor(values: list[Any]) -> str:
    """An opaque page cursor from the sort-key values of the last row."""
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode()


def decode_cursor(cursor: str | None) -> list[Any] | None:
    if not cursor:
        return None
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError):
        return None
    return values if isinstance(values, list) else None


def _statements(script: str) -> list[str]:
    """Split a script on ``;`` while keeping trigger bodies (which contain ``;``) whole."""
    out: list[str] = []
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                out.append(pending.strip())
            pending = ""
    if pending.strip(" \n;"):
        out.append(pending.strip())
    return out
