"""``python -m backend backup OUT`` and ``python -m backend restore IN [--data-dir DIR] [--force]``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

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
    manifest = backup.create_backup(settings.db_path, settings.blob_root, args.out)
    blobs = len(manifest.files) - 1
    print(f"backup written to {args.out}: {sum(manifest.counts.values())} rows, {blobs} stored files")
    if manifest.missing_blobs:
        print(f"warning: {len(manifest.missing_blobs)} file(s) referenced by records were already missing:")
        for key in manifest.missing_blobs:
            print(f"  {key}")
    return 0


def _restore(args: argparse.Namespace) -> int:
    settings = Settings()
    data_dir = args.data_dir or settings.data_dir
    manifest = backup.restore_backup(args.src, data_dir, force=args.force)
    print(f"restored {sum(manifest.counts.values())} rows and {len(manifest.files) - 1} stored files into {data_dir}")
    return 0
