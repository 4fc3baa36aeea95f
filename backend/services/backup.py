"""Backup and restore of a local installation: the SQLite database and the blob folder.

A backup is a consistent snapshot taken while the app runs. The database is copied with SQLite's online
backup API in a single step: one read transaction over the WAL database, so writers keep going and a busy
clinic cannot make it start over (a step-wise copy restarts whenever another connection writes, and may never
finish). Then the blob files are copied. Blobs
are content-addressed, immutable and always written *before* the record that points at them, so every
blob the database snapshot refers to already exists when the snapshot is taken; blobs written later are
copied too, harmlessly. ``manifest.json`` lists the sha256 of every file; restore checks them all before
it touches the target. Backups hold every record: their files are owner-only (0600, folders 0700).

A restore refuses to run while an app process uses the target data dir (see ``data_lock``).

Encrypted data folders give encrypted backups: the database is copied page by page between two connections
keyed alike (it never exists in plain form), the blob files are copied as they are (encrypted), and the
folder's ``encryption.json`` goes along; the manifest records the key's public id. Restoring one needs the same
key (checked before anything is changed), and the restored folder is encrypted with it. The caller passes
``connect`` (a keyed opener from the app's assembly), so this module never sees a key.

Only the local adapters are covered: DynamoDB (point-in-time recovery) and S3 (versioning) have their own.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backend.domain.errors import UnsupportedInput, ValidationFailed
from backend.services.data_lock import DataDirLock

FORMAT = 1
DB_NAME = "copilot.sqlite3"
BLOBS = "blobs"
MANIFEST = "manifest.json"
ENCRYPTION_MARKER = "encryption.json"  # written by the encryption adapter: says which key a folder needs
_PENDING_MARKER = "encryption-pending.json"
# Opens a database file: ``sqlite3.connect`` for plain folders, a keyed SQLCipher opener for encrypted ones.
Connect = Callable[[Path], Any]


def _plain_connect(path: Path) -> sqlite3.Connection:
    """The opener of a plain (unencrypted) data folder."""
    return sqlite3.connect(path, timeout=30)


_ARCHIVE_SUFFIXES = (".tar", ".tar.gz", ".tgz")
# Blob keys live in these JSON fields of the stored records.
_BLOB_REFS = (("jobs", "$.blob_key"), ("notes", "$.audio_key"), ("history", "$.document_key"))
_CHUNK = 1024 * 1024
_FILE_MODE = 0o600
_DIR_MODE = 0o700


@dataclass
class Manifest:
    """What a backup holds: file hashes, row counts, and blob references found missing at snapshot time."""

    created_at: str
    schema_version: int
    files: dict[str, str] = field(default_factory=dict)  # relative path -> sha256
    counts: dict[str, int] = field(default_factory=dict)
    missing_blobs: list[str] = field(default_factory=list)
    format: int = FORMAT
    key_id: str = ""  # the public id of the data key the backup is encrypted with ("": not encrypted)

    def to_json(self) -> str:
        return json.dumps(self.__dict__, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        try:
            data: dict[str, Any] = json.loads(text)
            return cls(**data)
        except (ValueError, TypeError) as e:
            raise UnsupportedInput("The backup's manifest.json is damaged; use another backup.") from e


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def create_backup(
    db_path: Path, blob_root: Path, out: Path, connect: Connect = _plain_connect, key_id: str = ""
) -> Manifest:
    """Snapshot the database and blobs into ``out`` (a new folder, or a ``.tar``/``.tar.gz``/``.tgz`` archive).

    Args:
        db_path: the live database.
        blob_root: the blob folder.
        out: where the backup goes (must not exist).
        connect: opens a database file (keyed for an encrypted folder).
        key_id: the data key's public id when the folder is encrypted.

    Raises:
        ValidationFailed: ``out`` exists already, or there is no database to back up.
    """
    out = Path(out)
    if out.exists():
        raise ValidationFailed(f"{out} exists already; choose a new name for the backup.")
    if not Path(db_path).is_file():
        raise ValidationFailed(f"There is no database at {db_path}; check COPILOT_DATA_DIR.")
    out.parent.mkdir(parents=True, exist_ok=True)
    # TemporaryDirectory is 0700: nothing staged in it is readable by others at any moment.
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".backup-") as tmp:
        stage = Path(tmp) / "stage"
        stage.mkdir(mode=_DIR_MODE)
        manifest = _snapshot(Path(db_path), Path(blob_root), stage, connect, key_id)
        _owner_only(stage)
        if out.name.endswith(_ARCHIVE_SUFFIXES):
            mode = "w:gz" if out.name.endswith(("gz", ".tgz")) else "w"
            partial = Path(tmp) / "archive"
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _FILE_MODE)
            with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode=mode) as tar:  # type: ignore[call-overload]
                for child in sorted(stage.iterdir()):
                    tar.add(child, arcname=child.name, filter=_owner_only_member)
            os.replace(partial, out)
        else:
            os.replace(stage, out)
    return manifest


def _owner_only(root: Path) -> None:
    """Make ``root`` and everything under it readable by its owner only (folders 0700, files 0600)."""
    root.chmod(_DIR_MODE if root.is_dir() else _FILE_MODE)
    for path in root.rglob("*"):
        path.chmod(_DIR_MODE if path.is_dir() else _FILE_MODE)


def _owner_only_member(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.mode = _DIR_MODE if info.isdir() else _FILE_MODE
    info.uname = info.gname = ""
    return info


def _snapshot(db_path: Path, blob_root: Path, stage: Path, connect: Connect, key_id: str) -> Manifest:
    target = stage / DB_NAME
    _copy_database(db_path, target, connect=connect)
    snap = connect(target)
    try:
        snap.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
        schema_version = int(snap.execute("PRAGMA user_version").fetchone()[0])
        counts = _counts(snap)
        referenced = _referenced_blobs(snap)
    finally:
        snap.close()
    manifest = Manifest(
        created_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"), schema_version=schema_version, counts=counts, key_id=key_id
    )
    manifest.files[DB_NAME] = sha256_file(target)
    marker = db_path.parent / ENCRYPTION_MARKER
    if key_id and marker.is_file():
        shutil.copyfile(marker, stage / ENCRYPTION_MARKER)
        manifest.files[ENCRYPTION_MARKER] = sha256_file(stage / ENCRYPTION_MARKER)
    for path in _blob_files(blob_root):
        rel = path.relative_to(blob_root).as_posix()
        copy = stage / BLOBS / rel
        copy.parent.mkdir(parents=True, exist_ok=True)
        try:
            shutil.copyfile(path, copy)
        except FileNotFoundError:
            continue  # deleted since listing (a failed job's audio); not referenced by the snapshot's records
        manifest.files[f"{BLOBS}/{rel}"] = sha256_file(copy)
    manifest.missing_blobs = sorted(k for k in referenced if f"{BLOBS}/{k}" not in manifest.files)
    (stage / MANIFEST).write_text(manifest.to_json(), encoding="utf-8")
    return manifest


def _copy_database(db_path: Path, target: Path, progress: Any = None, connect: Connect = _plain_connect) -> None:
    """Copy the live database into ``target`` in one backup step (one read transaction, writers not blocked).

    ``progress`` is SQLite's per-step callback (tests count the steps). With a keyed ``connect`` both ends are
    encrypted with the same key, so the copy is never plain on disk.
    """
    source = connect(db_path)
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _FILE_MODE)  # owner-only from the start
        os.close(fd)
        dest = connect(target)
        try:
            # pages=-1: every page in a single step. A step-wise copy restarts from the first page whenever
            # another connection commits, so on a busy clinic it might never finish.
            source.backup(dest, pages=-1, progress=progress)
        finally:
            dest.close()
    finally:
        source.close()


def _blob_files(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    # Hidden entries are half-written temp files (".incoming", ".tmp-*"), never blobs.
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )


def _counts(conn: sqlite3.Connection) -> dict[str, int]:
    tables = [
        r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    ]
    # Table names come from sqlite_master of our own snapshot, not from user input.
    return {t: int(conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0]) for t in sorted(tables)}  # noqa: S608  # nosec B608 - names from our own sqlite_master


def _referenced_blobs(conn: sqlite3.Connection) -> set[str]:
    keys: set[str] = set()
    for table, path in _BLOB_REFS:
        sql = f"SELECT json_extract(body, ?) FROM {table}"  # noqa: S608  # nosec B608 - table names are constants above
        keys.update(r[0] for r in conn.execute(sql, (path,)) if r[0])
    return keys


def read_manifest(src: Path) -> Manifest:
    """The manifest of a backup folder or archive (without extracting anything else)."""
    src = Path(src)
    if src.is_dir():
        path = src / MANIFEST
        if not path.is_file():
            raise UnsupportedInput(f"{src} has no {MANIFEST}: it is not a backup made by `python -m backend backup`.")
        return Manifest.from_json(path.read_text(encoding="utf-8"))
    with _open_archive(src) as tar:
        member = tar.extractfile(MANIFEST) if MANIFEST in tar.getnames() else None
        if member is None:
            raise UnsupportedInput(f"{src} has no {MANIFEST}: it is not a backup made by `python -m backend backup`.")
        return Manifest.from_json(member.read().decode("utf-8"))


def _open_archive(src: Path) -> tarfile.TarFile:
    if not src.is_file():
        raise ValidationFailed(f"No backup at {src}.")
    try:
        return tarfile.open(src, "r:*")
    except tarfile.TarError as e:
        raise UnsupportedInput(f"{src} is not a backup archive (.tar, .tar.gz) or it is damaged.") from e


def has_data(data_dir: Path) -> bool:
    """True when ``data_dir`` holds a database or any blob (a speech model alone does not count)."""
    data_dir = Path(data_dir)
    return (data_dir / DB_NAME).exists() or bool(_blob_files(data_dir / BLOBS))


def restore_backup(
    src: Path, data_dir: Path, force: bool = False, connect: Connect = _plain_connect, key_id: str = ""
) -> Manifest:
    """Verify every file of the backup ``src`` against its manifest, then install it into ``data_dir``.

    With ``force``, an existing database and blob folder are moved aside to ``pre-restore-<time>/``
    (never deleted). Other content of the data dir (the speech model) is left alone.

    Args:
        src: a backup folder or archive.
        data_dir: the target data folder.
        force: replace existing data (moved aside).
        connect: opens the backed-up database (keyed with the backup's key for an encrypted backup).
        key_id: the public id of the key ``connect`` uses ("" when none is configured).

    Raises:
        ValidationFailed: ``data_dir`` holds data and ``force`` is off, or an app process is running on it
            (the message says how to stop it), or the backup is encrypted with another key (or none is given).
        UnsupportedInput: the backup is damaged (a file missing or its sha256 differs) — nothing is changed.
    """
    src, data_dir = Path(src), Path(data_dir)
    _check_backup_key(read_manifest(src), key_id)  # before the lock: a refused restore creates nothing
    with DataDirLock(data_dir).exclusive():
        return _restore_locked(src, data_dir, force, connect, key_id)


def _check_backup_key(manifest: Manifest, key_id: str) -> None:
    """Refuse, before anything is read or changed, a backup whose key is not the configured one.

    Raises:
        ValidationFailed: the backup is encrypted and no key, or another key, is configured.
    """
    if not manifest.key_id or manifest.key_id == key_id:
        return
    if not key_id:
        raise ValidationFailed(
            f"This backup is encrypted (key id {manifest.key_id}) and no data key is configured. Set "
            "COPILOT_DATA_KEY to the key it was made with, then run the restore again. Nothing was changed."
        )
    raise ValidationFailed(
        f"This backup is encrypted with another data key (id {manifest.key_id}; the configured key is {key_id}). "
        "Set COPILOT_DATA_KEY to the key it was made with. Nothing was changed."
    )


def _restore_locked(src: Path, data_dir: Path, force: bool, connect: Connect, key_id: str) -> Manifest:
    if has_data(data_dir) and not force:
        raise ValidationFailed(
            f"{data_dir} already holds a database or files. Restore into an empty folder, or add --force to replace "
            "them (the current ones are kept in a pre-restore folder)."
        )
    data_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=data_dir, prefix=".restore-") as tmp:
        stage = Path(tmp)
        if src.is_dir():
            manifest = read_manifest(src)
            for rel in manifest.files:
                _copy_checked(src / _safe_rel(rel), stage / _safe_rel(rel))
        else:
            manifest = _extract(src, stage)
        _check_backup_key(manifest, key_id)
        _verify(stage, manifest, connect if manifest.key_id else _plain_connect)
        if force and has_data(data_dir):
            _move_aside(data_dir)
        for name in (ENCRYPTION_MARKER, _PENDING_MARKER):  # the backup's own marker (if any) replaces them
            (data_dir / name).unlink(missing_ok=True)
        for name in (f"{DB_NAME}-wal", f"{DB_NAME}-shm"):
            (data_dir / name).unlink(missing_ok=True)
        blobs = stage / BLOBS
        blobs.mkdir(exist_ok=True)
        if (data_dir / BLOBS).exists():
            shutil.rmtree(data_dir / BLOBS)  # empty (has_data was False) or already moved aside
        _owner_only(blobs)
        (stage / DB_NAME).chmod(_FILE_MODE)
        os.replace(blobs, data_dir / BLOBS)
        if ENCRYPTION_MARKER in manifest.files:
            (stage / ENCRYPTION_MARKER).chmod(_FILE_MODE)
            os.replace(stage / ENCRYPTION_MARKER, data_dir / ENCRYPTION_MARKER)
        os.replace(stage / DB_NAME, data_dir / DB_NAME)
    return manifest


def _safe_rel(rel: str) -> Path:
    path = Path(rel)
    allowed = rel in (DB_NAME, ENCRYPTION_MARKER) or rel.startswith(f"{BLOBS}/")
    if path.is_absolute() or ".." in path.parts or not allowed:
        raise UnsupportedInput(f"The backup lists an unexpected file {rel[:80]!r}; it was not made by this app.")
    return path


def _copy_checked(source: Path, target: Path) -> None:
    if not source.is_file():
        raise UnsupportedInput(f"The backup is incomplete: {source.name} is missing. Use another backup.")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


def _extract(src: Path, stage: Path) -> Manifest:
    with _open_archive(src) as tar:
        names = tar.getnames()
        if MANIFEST not in names:
            raise UnsupportedInput(f"{src} has no {MANIFEST}: it is not a backup made by `python -m backend backup`.")
        manifest = Manifest.from_json(tar.extractfile(MANIFEST).read().decode("utf-8"))  # type: ignore[union-attr]
        for rel in manifest.files:
            member = tar.getmember(rel) if rel in names else None
            if member is None or not member.isfile():
                raise UnsupportedInput(f"The backup is incomplete: {rel} is missing. Use another backup.")
            target = stage / _safe_rel(rel)
            target.parent.mkdir(parents=True, exist_ok=True)
            with tar.extractfile(member) as f, target.open("wb") as out:  # type: ignore[union-attr]
                shutil.copyfileobj(f, out, _CHUNK)
    return manifest


def _verify(stage: Path, manifest: Manifest, connect: Connect) -> None:
    if manifest.format != FORMAT:
        raise UnsupportedInput(f"This backup has format {manifest.format}; this version reads format {FORMAT}.")
    if DB_NAME not in manifest.files:
        raise UnsupportedInput("The backup holds no database; use another backup.")
    for rel, digest in manifest.files.items():
        if sha256_file(stage / rel) != digest:
            raise UnsupportedInput(f"The backup is damaged: {rel} does not match its checksum. Use another backup.")
    conn = connect(stage / DB_NAME)
    try:
        # On an encrypted file this also checks every page's HMAC: a changed page fails here.
        ok = conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()
    if ok != "ok":
        raise UnsupportedInput(f"The backed-up database fails its integrity check ({ok}); use another backup.")


def _move_aside(data_dir: Path) -> Path:
    aside = data_dir / f"pre-restore-{time.strftime('%Y%m%d-%H%M%S')}"
    aside.mkdir()
    for name in (DB_NAME, f"{DB_NAME}-wal", f"{DB_NAME}-shm", BLOBS, ENCRYPTION_MARKER, _PENDING_MARKER):
        if (data_dir / name).exists():
            os.replace(data_dir / name, aside / name)
    return aside
