"""``python -m backend keys create [--keyring]`` and ``keys status``: the data key for encryption at rest."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from backend.adapters.crypto.errors import DataKeyError
from backend.adapters.crypto.keyring_source import ACCOUNT, SERVICE, replace_in_keyring, save_to_keyring
from backend.adapters.crypto.keys import DataKey
from backend.adapters.crypto.marker import PENDING_NAME, read_marker
from backend.adapters.crypto.migrate import encrypt_data_folder
from backend.adapters.crypto.policy import CREATE_KEY, find_key
from backend.config import Settings
from backend.domain.errors import ValidationFailed
from backend.services.data_lock import DataDirLock

NEW_KEY = "COPILOT_NEW_DATA_KEY"


def register(sub: Any) -> None:
    parser = sub.add_parser("keys", help="the data key that encrypts the local database and stored files")
    actions = parser.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="make a new random data key and print it (or store it in the keyring)")
    create.add_argument(
        "--keyring", action="store_true", help="store it in the OS keyring instead of printing it (desktops only)"
    )
    create.set_defaults(func=_create)
    actions.add_parser("status", help="whether the data folder is encrypted, and whether the key fits").set_defaults(
        func=_status
    )
    rotate = actions.add_parser(
        "rotate",
        help="re-encrypt the data folder from COPILOT_DATA_KEY to the new key in COPILOT_NEW_DATA_KEY (stop the app)",
    )
    rotate.add_argument("--data-dir", type=Path, default=None, help="the data folder (default: COPILOT_DATA_DIR)")
    rotate.set_defaults(func=_rotate)


def _create(args: argparse.Namespace) -> int:
    key = DataKey.generate()
    if args.keyring:
        save_to_keyring(key)
        print(f"A new data key (id {key.key_id}) is stored in the OS keyring ({SERVICE} / {ACCOUNT}).")
    else:
        print("A new data key. Set it as COPILOT_DATA_KEY (environment or .streamlit/secrets.toml):")
        print()
        print(f"COPILOT_DATA_KEY={key.text()}")
        print()
    print(
        f"Key id {key.key_id}. Keep a copy of the key somewhere safe and apart from the backups (a password manager, "
        "a sealed envelope): without it, the encrypted data and backups cannot be read by anyone."
    )
    print(
        "A new data folder is encrypted from the start; an existing one: stop the app, run `python -m backend "
        "encrypt-data`."
    )
    return 0


def _status(args: argparse.Namespace) -> int:
    settings = Settings()
    data_dir = settings.data_dir
    secret = settings.data_key.get_secret_value() if settings.data_key else None
    found = find_key(secret, settings.keyring) if settings.encryption != "off" else None
    marker = read_marker(data_dir)
    pending = read_marker(data_dir, PENDING_NAME)
    print(f"data folder: {data_dir}")
    print(f"COPILOT_ENCRYPTION: {settings.encryption}")
    if found is None:
        print("key: not looked for (encryption off)")
    elif found.key is None:
        print(f"key: none ({found.source})")
    else:
        print(f"key: from {found.source}, id {found.key.key_id}")
    if pending is not None:
        print(f"folder: encryption unfinished (key id {pending.key_id}); run `python -m backend encrypt-data` again")
        return 1
    if marker is None:
        print("folder: not encrypted")
        return 0
    fits = found is not None and found.key is not None and found.key.key_id == marker.key_id
    print(
        f"folder: encrypted with key id {marker.key_id} ({'the configured key' if fits else 'NOT the configured key'})"
    )
    return 0 if fits else 1


def _rotate(args: argparse.Namespace) -> int:
    settings = Settings()
    if settings.resolved("store") != "sqlite" or settings.resolved("blobs") != "local":
        raise ValidationFailed("keys rotate covers the local SQLite database and blob folder.")
    secret = settings.data_key.get_secret_value() if settings.data_key else None
    old = find_key(secret, settings.keyring)
    if old.key is None:
        raise DataKeyError(f"There is no current data key ({old.source}); set COPILOT_DATA_KEY to it.")
    new_text = os.environ.get(NEW_KEY, "")
    if not new_text:
        raise ValidationFailed(
            f"Set {NEW_KEY} to the new key (make one with `python -m backend keys create` and keep a copy), then "
            "run this again. Nothing was changed."
        )
    new = DataKey.parse(new_text)
    if new.key_id == old.key.key_id:
        raise ValidationFailed(f"{NEW_KEY} is the current key; nothing to do. {CREATE_KEY}")
    data_dir = args.data_dir or settings.data_dir
    with DataDirLock(data_dir).exclusive():
        report = encrypt_data_folder(data_dir, new, old_key=old.key)
    print(
        f"{data_dir} is now encrypted with the new key (id {new.key_id}): database {report.database}, "
        f"{report.blobs_encrypted} stored files re-encrypted, {report.blobs_already} already done."
    )
    if old.source == "OS keyring":
        replace_in_keyring(old.key, new)
        print("The OS keyring now holds the new key.")
    else:
        print(f"Set COPILOT_DATA_KEY to the new key (id {new.key_id}) before starting the app.")
    print(
        f"Backups made before now still need the old key (id {old.key.key_id}): keep it until they are deleted, "
        "and make a new backup."
    )
    return 0
