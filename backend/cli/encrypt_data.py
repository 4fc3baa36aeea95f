"""``python -m backend encrypt-data [--data-dir DIR]``: encrypt an existing plain data folder in place."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from backend.adapters.crypto.errors import DataKeyError
from backend.adapters.crypto.migrate import encrypt_data_folder
from backend.adapters.crypto.policy import CREATE_KEY, find_key
from backend.config import Settings
from backend.domain.errors import ValidationFailed
from backend.services.data_lock import DataDirLock


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "encrypt-data",
        help="encrypt the local database and stored files in place with the data key (stop the app first)",
    )
    parser.add_argument("--data-dir", type=Path, default=None, help="the data folder (default: COPILOT_DATA_DIR)")
    parser.set_defaults(func=_encrypt)


def _encrypt(args: argparse.Namespace) -> int:
    settings = Settings()
    if settings.resolved("store") != "sqlite" or settings.resolved("blobs") != "local":
        raise ValidationFailed(
            "encrypt-data covers the local SQLite database and blob folder; DynamoDB and S3 are encrypted by AWS (KMS)."
        )
    if settings.encryption == "off":
        raise ValidationFailed("COPILOT_ENCRYPTION=off: unset it (or set it to on) to encrypt the data folder.")
    secret = settings.data_key.get_secret_value() if settings.data_key else None
    found = find_key(secret, settings.keyring)
    if found.key is None:
        raise DataKeyError(f"There is no data key ({found.source}). {CREATE_KEY}")
    data_dir = args.data_dir or settings.data_dir
    with DataDirLock(data_dir).exclusive():
        report = encrypt_data_folder(data_dir, found.key)
    print(
        f"{data_dir} is encrypted with the key from {found.source} (id {report.key_id}): database "
        f"{report.database} ({sum(report.tables.values())} rows), {report.blobs_encrypted} stored files encrypted "
        f"now, {report.blobs_already} already encrypted."
    )
    for name in report.plain_leftovers:
        print(f"warning: {data_dir / name} holds an unencrypted copy kept by a restore; delete it when not needed.")
    print("Backups made before today are not encrypted: make a new backup, and delete the old ones when you can.")
    return 0
