"""``encrypt-data``: encrypt a plain local data folder in place, so that an interruption loses nothing.

Order of work, each step atomic and idempotent, so the command can simply be run again after any stop:

1. ``encryption-pending.json`` is written first: until the run finishes, the app refuses to open the folder
   (with or without a key) and says to run the command again.
2. Each blob file is encrypted into a temp file beside it, flushed to disk and renamed over the plain one;
   files already encrypted with this key are skipped.
3. The database is checkpointed, exported with ``sqlcipher_export`` into a temp file, checked (integrity and
   the row count of every table) and renamed over the plain one.
4. ``encryption.json`` is written, then the pending mark removed.

The caller holds the data folder's exclusive lock (no app process may write meanwhile). The old plain bytes
are unlinked, not wiped: see SECURITY.md (use full-disk encryption as well).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from backend.adapters.crypto.blob_format import BlobCipher
from backend.adapters.crypto.errors import DataKeyError
from backend.adapters.crypto.keys import DataKey
from backend.adapters.crypto.marker import MARKER_NAME, PENDING_NAME, Marker, fsync_dir, read_marker, write_marker
from backend.adapters.crypto.policy import BLOBS, DB_NAME, SQLITE_HEADER
from backend.adapters.crypto.sqlcipher import attach_encrypted, connect

_CHUNK = 1024 * 1024
_EXPORT_NAME = f".{DB_NAME}.encrypting"


@dataclass
class EncryptReport:
    """What one run did."""

    key_id: str
    blobs_encrypted: int = 0
    blobs_already: int = 0
    database: str = "none"  # "encrypted", "already encrypted" or "none"
    tables: dict[str, int] = field(default_factory=dict)
    plain_leftovers: list[str] = field(default_factory=list)  # e.g. pre-restore folders: plain copies to delete


def encrypt_data_folder(data_dir: Path, key: DataKey, on_file: Callable[[str], None] | None = None) -> EncryptReport:
    """Encrypt the database and blob files of ``data_dir`` with ``key`` (see the module docstring).

    Args:
        data_dir: the local data folder; its app must be stopped (the caller holds the exclusive lock).
        key: the data key; it must be the one a previous, interrupted run used.
        on_file: called with each blob key as it is encrypted (progress; tests stop the run here).

    Raises:
        DataKeyError: the folder is encrypted with another key, or its database cannot be read.
    """
    data_dir = Path(data_dir)
    report = EncryptReport(key_id=key.key_id)
    for name in (MARKER_NAME, PENDING_NAME):
        marker = read_marker(data_dir, name)
        if marker is not None and marker.key_id != key.key_id:
            raise DataKeyError(
                f"{data_dir} is (being) encrypted with another data key (id {marker.key_id}); the configured key is "
                f"{key.key_id}. Nothing was changed. Set COPILOT_DATA_KEY to that key."
            )
    write_marker(data_dir, Marker(key_id=key.key_id), PENDING_NAME)
    cipher = BlobCipher(key)
    for path, blob_key in _blob_files(data_dir / BLOBS):
        if _encrypt_blob(path, blob_key, cipher):
            report.blobs_encrypted += 1
            if on_file is not None:
                on_file(blob_key)
        else:
            report.blobs_already += 1
    report.database, report.tables = _encrypt_database(data_dir, key)
    write_marker(data_dir, Marker(key_id=key.key_id))
    (data_dir / PENDING_NAME).unlink()
    fsync_dir(data_dir)
    report.plain_leftovers = sorted(p.name for p in data_dir.glob("pre-restore-*") if p.is_dir())
    return report


def _blob_files(root: Path) -> Iterator[tuple[Path, str]]:
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if path.is_file() and not any(part.startswith(".") for part in rel.parts):  # hidden: temp files
            yield path, rel.as_posix()


def _encrypt_blob(path: Path, blob_key: str, cipher: BlobCipher) -> bool:
    """Encrypt one blob file in place (temp file + fsync + rename); False when it was encrypted already."""
    with path.open("rb") as f:
        if cipher.owns(f.read(64)):
            return False
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as out, path.open("rb") as src:
            for part in cipher.encrypt(iter(lambda: src.read(_CHUNK), b""), blob_key):
                out.write(part)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    fsync_dir(path.parent)
    return True


def _encrypt_database(data_dir: Path, key: DataKey) -> tuple[str, dict[str, int]]:
    db = data_dir / DB_NAME
    if not db.is_file() or db.stat().st_size == 0:
        return "none", {}
    with db.open("rb") as f:
        plain = f.read(len(SQLITE_HEADER)) == SQLITE_HEADER
    if not plain:
        conn = connect(db, key)  # raises DataKeyError when it is not this key's
        try:
            return "already encrypted", _counts(conn)
        finally:
            conn.close()
    export = data_dir / _EXPORT_NAME
    export.unlink(missing_ok=True)  # left by an interrupted run: start it again
    source = connect(db, None, isolation_level=None)
    try:
        source.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # every committed page into the main file
        version = int(source.execute("PRAGMA user_version").fetchone()[0])
        expected = _counts(source)
    finally:
        source.close()
    _export(db, export, key, version)
    check = connect(export, key)
    try:
        ok = check.execute("PRAGMA integrity_check").fetchone()[0]
        counts = _counts(check)
    finally:
        check.close()
    if ok != "ok" or counts != expected:
        export.unlink(missing_ok=True)
        raise DataKeyError(
            f"The encrypted copy of {db} did not check out ({ok}); the plain database was left as it was. "
            "Run `python -m backend encrypt-data` again, or restore from a backup."
        )
    _fsync(export)
    for suffix in ("-wal", "-shm"):  # emptied by the checkpoint; a plain WAL must never meet the encrypted file
        (data_dir / f"{DB_NAME}{suffix}").unlink(missing_ok=True)
    os.replace(export, db)
    fsync_dir(data_dir)
    return "encrypted", counts


def _export(db: Path, export: Path, key: DataKey, version: int) -> None:
    import sqlcipher3

    conn = sqlcipher3.connect(str(db), isolation_level=None)  # the plain file, through SQLCipher's export
    try:
        attach_encrypted(conn, export, key)
        conn.execute("SELECT sqlcipher_export('encrypted')")
        conn.execute(f"PRAGMA encrypted.user_version = {int(version)}")  # export leaves it at 0
        conn.execute("DETACH DATABASE encrypted")
    finally:
        conn.close()
    export.chmod(0o600)


def _counts(conn: object) -> dict[str, int]:
    execute = conn.execute  # type: ignore[attr-defined]
    tables = [r[0] for r in execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    # Names from the file's own sqlite_master, quoted: not user input.
    return {t: int(execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0]) for t in sorted(tables)}  # noqa: S608  # nosec B608


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
