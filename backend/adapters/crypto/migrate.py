"""``encrypt-data`` and ``keys rotate``: (re-)encrypt a local data folder in place; an interruption loses nothing.

``encrypt-data`` encrypts a plain folder; ``keys rotate`` re-encrypts an encrypted one from its old key to a new
one (``old_key``). Both follow the same steps.

Order of work, each step atomic and idempotent, so the command can simply be run again after any stop:

1. ``encryption-pending.json`` is written first: until the run finishes, the app refuses to open the folder
   (with or without a key) and says to run the command again.
2. Each blob file is encrypted into a temp file beside it, flushed to disk and renamed over the old one;
   files already encrypted with the (new) key are skipped. With ``old_key``, a file is first decrypted (and
   authenticated) with the old key; a plain file in an encrypted folder is refused, not adopted.
3. The database is checkpointed, exported with ``sqlcipher_export`` into a temp file, checked (integrity and
   the row count of every table) and renamed over the old one.
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

from backend.adapters.crypto.blob_format import HEADER_SIZE, BlobCipher, is_encrypted
from backend.adapters.crypto.errors import DataKeyError, TamperedFile
from backend.adapters.crypto.keys import DataKey
from backend.adapters.crypto.marker import MARKER_NAME, PENDING_NAME, Marker, fsync_dir, read_marker, write_marker
from backend.adapters.crypto.policy import BLOBS, DB_NAME, SQLITE_HEADER
from backend.adapters.crypto.sqlcipher import attach_encrypted, connect, key_pragma

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


def encrypt_data_folder(
    data_dir: Path,
    key: DataKey,
    on_file: Callable[[str], None] | None = None,
    old_key: DataKey | None = None,
) -> EncryptReport:
    """Encrypt the database and blob files of ``data_dir`` with ``key`` (see the module docstring).

    Args:
        data_dir: the local data folder; its app must be stopped (the caller holds the exclusive lock).
        key: the data key; it must be the one a previous, interrupted run used.
        on_file: called with each blob key as it is encrypted (progress; tests stop the run here).
        old_key: the folder's current key, to rotate from (None: the folder is plain).

    Raises:
        DataKeyError: the folder is encrypted with another key, or its database cannot be read.
        TamperedFile: a file fails authentication with the old key, or a plain file sits in an encrypted folder.
    """
    data_dir = Path(data_dir)
    report = EncryptReport(key_id=key.key_id)
    _check_markers(data_dir, key, old_key)
    cipher = BlobCipher(key)
    old_cipher = BlobCipher(old_key) if old_key is not None else None
    # Everything that can be refused from the headers alone is refused before the folder is marked pending.
    for path, blob_key in _blob_files(data_dir / BLOBS):
        with path.open("rb") as f:
            _check_blob(f.read(HEADER_SIZE), blob_key, cipher, old_cipher)
    _check_database(data_dir / DB_NAME, key, old_key)
    write_marker(data_dir, Marker(key_id=key.key_id), PENDING_NAME)
    for path, blob_key in _blob_files(data_dir / BLOBS):
        if _encrypt_blob(path, blob_key, cipher, old_cipher):
            report.blobs_encrypted += 1
            if on_file is not None:
                on_file(blob_key)
        else:
            report.blobs_already += 1
    report.database, report.tables = _encrypt_database(data_dir, key, old_key)
    write_marker(data_dir, Marker(key_id=key.key_id))
    (data_dir / PENDING_NAME).unlink()
    fsync_dir(data_dir)
    report.plain_leftovers = sorted(p.name for p in data_dir.glob("pre-restore-*") if p.is_dir())
    return report


def _check_markers(data_dir: Path, key: DataKey, old_key: DataKey | None) -> None:
    """Refuse a key that fits neither the folder nor an unfinished run, before anything is changed."""
    marker, pending = read_marker(data_dir, MARKER_NAME), read_marker(data_dir, PENDING_NAME)
    if pending is not None and pending.key_id != key.key_id:
        raise DataKeyError(
            f"An unfinished run is (re-)encrypting {data_dir} with the key id {pending.key_id}, not {key.key_id}. "
            "Nothing was changed. Run it again with that key."
        )
    fits = {key.key_id} | ({old_key.key_id} if old_key is not None else set())
    if marker is not None and marker.key_id not in fits:
        raise DataKeyError(
            f"{data_dir} is encrypted with another data key (id {marker.key_id}); the configured key is "
            f"{(old_key or key).key_id}. Nothing was changed. Set COPILOT_DATA_KEY to that key."
        )
    if old_key is not None and marker is None and pending is None:
        raise DataKeyError(f"{data_dir} is not encrypted: use `python -m backend encrypt-data` instead.")


def _blob_files(root: Path) -> Iterator[tuple[Path, str]]:
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if path.is_file() and not any(part.startswith(".") for part in rel.parts):  # hidden: temp files
            yield path, rel.as_posix()


def _encrypt_blob(path: Path, blob_key: str, cipher: BlobCipher, old_cipher: BlobCipher | None) -> bool:
    """Encrypt one blob file in place (temp file + fsync + rename); False when it was encrypted already."""
    with path.open("rb") as f:
        head = f.read(HEADER_SIZE)
    if cipher.owns(head):
        return False
    _check_blob(head, blob_key, cipher, old_cipher)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as out, path.open("rb") as src:
            plain: Iterator[bytes] = (
                iter(lambda: src.read(_CHUNK), b"") if old_cipher is None else old_cipher.decrypt(src, blob_key)
            )
            for part in cipher.encrypt(plain, blob_key):
                out.write(part)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    fsync_dir(path.parent)
    return True


def _check_blob(head: bytes, blob_key: str, cipher: BlobCipher, old_cipher: BlobCipher | None) -> None:
    """Refuse a file that is neither this run's to encrypt nor done already (from its header)."""
    if cipher.owns(head):
        return
    if is_encrypted(head) and (old_cipher is None or not old_cipher.owns(head)):
        raise DataKeyError(f"The stored file {blob_key} is encrypted with another data key; nothing was changed.")
    if old_cipher is not None and not is_encrypted(head):
        raise TamperedFile(
            f"The stored file {blob_key} is not encrypted, in an encrypted folder: it was not put there by the app. "
            "Restore it from a backup (or delete it) and run the command again."
        )


def _check_database(db: Path, key: DataKey, old_key: DataKey | None) -> None:
    """Refuse a database that neither key opens (or a plain one when rotating), before anything changes."""
    if not db.is_file() or db.stat().st_size == 0:
        return
    with db.open("rb") as f:
        plain = f.read(len(SQLITE_HEADER)) == SQLITE_HEADER
    if plain:
        if old_key is not None:
            raise DataKeyError(f"The database {db} is not encrypted: use `python -m backend encrypt-data` instead.")
        return
    for candidate in (key, old_key):
        if candidate is None:
            continue
        try:
            connect(db, candidate).close()
            return
        except DataKeyError:
            continue
    connect(db, old_key or key).close()  # raises the message of the key the folder should have


def _encrypt_database(data_dir: Path, key: DataKey, old_key: DataKey | None) -> tuple[str, dict[str, int]]:
    db = data_dir / DB_NAME
    if not db.is_file() or db.stat().st_size == 0:
        return "none", {}
    with db.open("rb") as f:
        plain = f.read(len(SQLITE_HEADER)) == SQLITE_HEADER
    if plain and old_key is not None:
        raise DataKeyError(f"The database {db} is not encrypted: use `python -m backend encrypt-data` instead.")
    if not plain:
        try:
            conn = connect(db, key)
        except DataKeyError:
            if old_key is None:
                raise
        else:
            try:
                return "already encrypted", _counts(conn)
            finally:
                conn.close()
    export = data_dir / _EXPORT_NAME
    export.unlink(missing_ok=True)  # left by an interrupted run: start it again
    source = connect(db, old_key, isolation_level=None)  # raises DataKeyError when it is not the old key's either
    try:
        source.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # every committed page into the main file
        version = int(source.execute("PRAGMA user_version").fetchone()[0])
        expected = _counts(source)
    finally:
        source.close()
    _export(db, export, key, version, old_key)
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


def _export(db: Path, export: Path, key: DataKey, version: int, old_key: DataKey | None) -> None:
    import sqlcipher3

    conn = sqlcipher3.connect(str(db), isolation_level=None)  # the old file, through SQLCipher's export
    try:
        if old_key is not None:
            conn.execute("PRAGMA cipher_log_level = NONE")
            conn.execute(key_pragma(old_key))
            conn.execute("PRAGMA cipher_compatibility = 4")
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
