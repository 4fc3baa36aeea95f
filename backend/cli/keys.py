"""``python -m backend keys create [--keyring]`` and ``keys status``: the data key for encryption at rest."""

from __future__ import annotations

import argparse
from typing import Any

from backend.adapters.crypto.keyring_source import ACCOUNT, SERVICE, save_to_keyring
from backend.adapters.crypto.keys import DataKey
from backend.adapters.crypto.marker import PENDING_NAME, read_marker
from backend.adapters.crypto.policy import find_key
from backend.config import Settings


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
