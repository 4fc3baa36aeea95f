"""Opening a SQLite file, plain (the standard library) or encrypted (SQLCipher 4, from the ``sqlcipher3`` wheel).

An encrypted connection is keyed before its first statement and checked at once: a wrong key or a plain
file fails here with a clear message, before any pragma or migration could write to the file.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, Literal

import sqlcipher3

from backend.adapters.crypto.errors import DataKeyError
from backend.adapters.crypto.keys import DataKey

# The driver errors stores catch, whichever driver opened the connection.
INTEGRITY_ERRORS: tuple[type[Exception], ...] = (sqlite3.IntegrityError, sqlcipher3.IntegrityError)
OPERATIONAL_ERRORS: tuple[type[Exception], ...] = (sqlite3.OperationalError, sqlcipher3.OperationalError)
DATABASE_ERRORS: tuple[type[Exception], ...] = (sqlite3.DatabaseError, sqlcipher3.DatabaseError)


def key_pragma(key: DataKey) -> str:
    """``PRAGMA key`` with SQLCipher's raw-key syntax (hex digits only: nothing user-supplied is interpolated)."""
    return f"PRAGMA key = \"x'{key.database_key().hex()}'\""


def connect(
    path: Path,
    key: DataKey | None,
    timeout: float = 30.0,
    isolation_level: Literal["DEFERRED", "EXCLUSIVE", "IMMEDIATE"] | None = None,
) -> Any:
    """A connection to ``path`` (plain when ``key`` is None), with ``Row`` rows, checked to be readable.

    Raises:
        DataKeyError: the file is encrypted and ``key`` is None or another key, or it is plain and a key was given.
    """
    if key is None:
        conn: Any = sqlite3.connect(path, timeout=timeout, isolation_level=isolation_level)
        conn.row_factory = sqlite3.Row
    else:
        conn = sqlcipher3.connect(str(path), timeout=timeout, isolation_level=isolation_level)
        conn.row_factory = sqlcipher3.Row
        # SQLCipher logs every failed page check to stderr; the failure reaches the user as the message below.
        conn.execute("PRAGMA cipher_log_level = NONE")
        conn.execute(key_pragma(key))
        conn.execute("PRAGMA cipher_compatibility = 4")  # files stay readable when a later SQLCipher changes defaults
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except DATABASE_ERRORS as e:
        conn.close()
        raise _unreadable(path, key) from e
    return conn


def attach_encrypted(conn: Any, path: Path, key: DataKey, alias: str = "encrypted") -> None:
    """Attach a new encrypted database at ``path`` to the plain ``conn`` (for ``sqlcipher_export``)."""
    if not alias.isidentifier():
        raise ValueError(f"not an identifier: {alias!r}")
    conn.execute(f"ATTACH DATABASE ? AS {alias} KEY ?", (str(path), f"x'{key.database_key().hex()}'"))


def _unreadable(path: Path, key: DataKey | None) -> DataKeyError:
    if key is None:
        return DataKeyError(
            f"The database {path} is encrypted (or damaged) and no data key is configured. Set COPILOT_DATA_KEY to "
            "its key. Nothing was opened or written."
        )
    return DataKeyError(
        f"The database {path} cannot be opened with the configured data key (id {key.key_id}): the key is wrong, "
        "or the file is not encrypted or is damaged. Nothing was opened or written. Set COPILOT_DATA_KEY to the key "
        "the data folder was encrypted with."
    )
