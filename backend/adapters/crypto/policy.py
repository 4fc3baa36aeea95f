"""Whether a data folder is encrypted, and with which key: decided before anything is opened or written.

``COPILOT_ENCRYPTION``:
- ``auto`` (default): on when a key is configured (``COPILOT_DATA_KEY``) or stored in the OS keyring, or when the
  folder is encrypted already (then the key is required); off otherwise, so ``make run`` needs no setup.
- ``on``: a key is required; a new folder is created encrypted.
- ``off``: plain files; an encrypted folder is refused rather than read as garbage.

A folder holding plain data is never opened with a key (half of it would be unreadable): the message says to
run ``python -m backend encrypt-data``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from backend.adapters.crypto.errors import DataKeyError
from backend.adapters.crypto.keys import DataKey
from backend.adapters.crypto.marker import PENDING_NAME, Marker, read_marker, write_marker

DB_NAME = "copilot.sqlite3"
BLOBS = "blobs"
SQLITE_HEADER = b"SQLite format 3\x00"
CREATE_KEY = (
    "Create one with `python -m backend keys create` and set COPILOT_DATA_KEY (environment or "
    ".streamlit/secrets.toml), or store it with `python -m backend keys create --keyring`."
)

KeyringLoader = Callable[[], tuple[DataKey | None, str]]


@dataclass(frozen=True)
class Encryption:
    """The decision for one data folder: the key (None: plain files) and where it came from."""

    key: DataKey | None
    source: str = ""  # "COPILOT_DATA_KEY" or "OS keyring"

    @property
    def label(self) -> str:
        """For the providers page and logs: ``on (key from …, id …)`` or ``off``."""
        if self.key is None:
            return "off"
        return f"on (key from {self.source}, id {self.key.key_id})"


def find_key(key_text: str | None, use_keyring: bool, keyring_loader: KeyringLoader | None = None) -> Encryption:
    """The configured key (the setting wins over the keyring), or no key and why (in ``source``).

    Raises:
        DataKeyError: the setting or the keyring entry is not a data key.
    """
    if key_text:
        return Encryption(DataKey.parse(key_text), "COPILOT_DATA_KEY")
    if not use_keyring:
        return Encryption(None, "COPILOT_DATA_KEY is not set and the OS keyring is not consulted")
    if keyring_loader is None:
        from backend.adapters.crypto.keyring_source import load_from_keyring

        keyring_loader = load_from_keyring
    key, reason = keyring_loader()
    return (
        Encryption(key, "OS keyring") if key is not None else Encryption(None, f"COPILOT_DATA_KEY is not set, {reason}")
    )


def resolve_encryption(
    mode: str,
    key_text: str | None,
    data_dir: Path,
    use_keyring: bool = True,
    keyring_loader: KeyringLoader | None = None,
) -> Encryption:
    """Decide for ``data_dir``; a new, empty folder opened with a key gets its marker now.

    Raises:
        DataKeyError: with a message saying what to do — the key is missing, malformed or not this folder's;
            the folder is encrypted but encryption is off; or the folder holds plain data (encrypt it first).
            Nothing was opened or written.
    """
    data_dir = Path(data_dir)
    pending = read_marker(data_dir, PENDING_NAME)
    if pending is not None:
        raise DataKeyError(
            f"Encrypting {data_dir} was interrupted (nothing was lost: each file is either its old plain self or "
            f"encrypted). Stop the app and run `python -m backend encrypt-data` again with the same key "
            f"(id {pending.key_id}) to finish."
        )
    marker = read_marker(data_dir)
    if mode == "off":
        if marker is not None:
            raise DataKeyError(
                f"The data folder {data_dir} is encrypted (key id {marker.key_id}), but COPILOT_ENCRYPTION=off. "
                "Set COPILOT_ENCRYPTION=auto and provide its key in COPILOT_DATA_KEY."
            )
        return Encryption(None)
    found = find_key(key_text, use_keyring, keyring_loader)
    key = found.key
    if key is None:
        if marker is not None:
            raise DataKeyError(
                f"The data folder {data_dir} is encrypted (key id {marker.key_id}) and no key is configured "
                f"({found.source}). Set COPILOT_DATA_KEY to the key it was created with. Nothing was opened."
            )
        if mode == "on":
            raise DataKeyError(f"COPILOT_ENCRYPTION=on, but there is no data key ({found.source}). {CREATE_KEY}")
        if _database_state(data_dir) == "encrypted":
            raise DataKeyError(
                f"The database in {data_dir} is encrypted, and no key is configured ({found.source}). Set "
                "COPILOT_DATA_KEY to its key; if `python -m backend encrypt-data` was interrupted, run it again."
            )
        return Encryption(None)
    if marker is not None:
        if marker.key_id != key.key_id:
            raise DataKeyError(
                f"The data key from {found.source} (id {key.key_id}) is not the key of {data_dir} "
                f"(id {marker.key_id}). Nothing was opened or changed. Set COPILOT_DATA_KEY to the key this folder "
                "was encrypted with."
            )
        return found
    state = _database_state(data_dir)
    if state == "encrypted" or (state == "none" and _has_blobs(data_dir)) or state == "plain":
        raise DataKeyError(
            f"A data key is configured (from {found.source}), but {data_dir} holds data that is not (fully) "
            "encrypted. Stop the app and run `python -m backend encrypt-data` to encrypt it in place (it can be "
            "run again if interrupted), or set COPILOT_ENCRYPTION=off to keep it plain."
        )
    write_marker(data_dir, Marker(key_id=key.key_id))
    return found


def _database_state(data_dir: Path) -> str:
    """``none``, ``plain`` (a SQLite header) or ``encrypted`` (SQLCipher files start with a random salt)."""
    path = data_dir / DB_NAME
    try:
        with path.open("rb") as f:
            head = f.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return "none"
    if not head:
        return "none"  # an empty file is a database SQLite has not written yet
    return "plain" if head == SQLITE_HEADER else "encrypted"


def _has_blobs(data_dir: Path) -> bool:
    root = data_dir / BLOBS
    if not root.is_dir():
        return False
    return any(
        p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts) for p in root.rglob("*")
    )
