"""``python -m backend backup OUT`` and ``python -m backend restore IN [--data-dir DIR] [--force]``.

An encrypted data folder gives an encrypted backup; restoring it needs the same data key (COPILOT_DATA_KEY or
the OS keyring).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from backend.adapters.crypto.policy import find_key
from backend.adapters.crypto.sqlcipher import connect as keyed_connect
from backend.config import Settings
from backend.domain.errors import ValidationFailed
from backend.services import backup


def register(sub: Any) -> None:
    make = sub.add_parser("backup", help="snapshot the database and stored files (safe while the app runs)")
    make.add_argument("out", type=Path, help="a new folder, or an archive ending in .tar, .tar.gz or .tgz")
    make.set_defaults(func=_backup)
    restore = sub.add_parser(
        "restore", help="restore a backup into a data dir (stop the app first; refuses to overwrite without --force)"
    )
    restore.add_argument("src", type=Path, help="a backup folder or archive made by `backup`")
    restore.add_argument("--data-dir", type=Path, default=None, help="target data dir (default: COPILOT_DATA_DIR)")
    restore.add_argument("--force", action="store_true", help="replace existing data (it is moved to pre-restore-*/)")
    restore.set_defaults(func=_restore)


def _local(settings: Settings) -> None:
    if settings.resolved("store") != "sqlite" or settings.resolved("blobs") != "local":
        raise ValidationFailed(
            "Backup covers the local SQLite database and blob folder. For DynamoDB use point-in-time recovery, "
            "for S3 bucket versioning (both switched on by infra/template.yaml)."
        )


def _backup(args: argparse.Namespace) -> int:
    settings = Settings()
    _local(settings)
    from backend.bootstrap import data_encryption

    key = data_encryption(settings).key  # refuses a missing or wrong key before anything is read
    if key is None:
        manifest = backup.create_backup(settings.db_path, settings.blob_root, args.out)
    else:
        manifest = backup.create_backup(
            settings.db_path,
            settings.blob_root,
            args.out,
            connect=lambda path: keyed_connect(path, key),
            key_id=key.key_id,
        )
    blobs = len(manifest.files) - 1
    blobs -= 1 if backup.ENCRYPTION_MARKER in manifest.files else 0
    encrypted = f", encrypted with key id {manifest.key_id}" if manifest.key_id else ", NOT encrypted"
    print(f"backup written to {args.out}: {sum(manifest.counts.values())} rows, {blobs} stored files{encrypted}")
    if manifest.missing_blobs:
        print(f"warning: {len(manifest.missing_blobs)} file(s) referenced by records were already missing:")
        for missing in manifest.missing_blobs:
            print(f"  {missing}")
    return 0


def _restore(args: argparse.Namespace) -> int:
    settings = Settings()
    data_dir = args.data_dir or settings.data_dir
    secret = settings.data_key.get_secret_value() if settings.data_key else None
    key = find_key(secret, settings.keyring).key if settings.encryption != "off" else None
    if key is None:
        manifest = backup.restore_backup(args.src, data_dir, force=args.force)
    else:
        manifest = backup.restore_backup(
            args.src,
            data_dir,
            force=args.force,
            connect=lambda path: keyed_connect(path, key),
            key_id=key.key_id,
        )
    files = sum(1 for name in manifest.files if name.startswith(f"{backup.BLOBS}/"))
    print(f"restored {sum(manifest.counts.values())} rows and {files} stored files into {data_dir}")
    if manifest.key_id:
        print(f"the restored data is encrypted with key id {manifest.key_id}")
    elif key is not None:
        print("note: this backup is not encrypted; run `python -m backend encrypt-data` before starting the app")
    return 0
