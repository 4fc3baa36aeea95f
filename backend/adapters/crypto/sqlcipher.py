"""Opening a SQLite file, plain (the standard library) or encrypted (SQLCipher 4, from the ``sqlcipher3`` wheel).

An encrypted connection is keyed before its first statement and checked at once: a wrong key or a plain
file fails here with a clear message, before any pragma or migration could write to the file. It raises the
standard library's exception classes (``sqlite3.IntegrityError`` ...), so the stores need not know which
driver they were given.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, Literal

import sqlcipher3

from backend.adapters.crypto.errors import DataKeyError
from backend.adapters.crypto.keys import DataKey

SQLITE_NOTADB = 26
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
        conn = StdlibErrors(sqlcipher3.connect(str(path), timeout=timeout, isolation_level=isolation_level))
        conn.row_factory = sqlcipher3.Row
        # SQLCipher logs every failed page check to stderr; the failure reaches the user as the message below.
        conn.execute("PRAGMA cipher_log_level = NONE")
        conn.execute(key_pragma(key))
        conn.execute("PRAGMA cipher_compatibility = 4")  # files stay readable when a later SQLCipher changes defaults
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except DATABASE_ERRORS as e:
        conn.close()
        if getattr(e, "sqlite_errorcode", None) == SQLITE_NOTADB:  # wrong key, plain vs encrypted, or garbage
            raise _unreadable(path, key) from e
        raise  # busy, I/O errors ...: not a key problem
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


class StdlibErrors:
    """A SQLCipher connection that raises ``sqlite3``'s exception classes (same names) from its statements."""

    def __init__(self, conn: Any) -> None:
        object.__setattr__(self, "_conn", conn)

    def execute(self, sql: str, params: Any = ()) -> Any:
        try:
            return self._conn.execute(sql, params)
        except sqlcipher3.Error as e:
            raise _stdlib(e) from e

    def executemany(self, sql: str, rows: Any) -> Any:
        try:
            return self._conn.executemany(sql, rows)
        except sqlcipher3.Error as e:
            raise _stdlib(e) from e

    def backup(self, target: Any, **kwargs: Any) -> None:
        """SQLite's online backup into ``target`` (another SQLCipher connection, keyed alike)."""
        raw = target._conn if isinstance(target, StdlibErrors) else target
        try:
            self._conn.backup(raw, **kwargs)
        except sqlcipher3.Error as e:
            raise _stdlib(e) from e

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._conn, name, value)  # row_factory, isolation_level ... belong to the real connection

    def __enter__(self) -> Any:
        return self._conn.__enter__()

    def __exit__(self, *exc: object) -> Any:
        return self._conn.__exit__(*exc)


def _stdlib(error: Exception) -> Exception:
    """The ``sqlite3`` exception of the same class name (``IntegrityError`` ...), carrying the same message."""
    kind = getattr(sqlite3, type(error).__name__, None)
    if not (isinstance(kind, type) and issubclass(kind, sqlite3.Error)):
        kind = sqlite3.DatabaseError
    translated = kind(*error.args)
    for name in ("sqlite_errorcode", "sqlite_errorname"):
        if hasattr(error, name):
            setattr(translated, name, getattr(error, name))
    return translated
