"""The data key in the operating system's keyring (macOS Keychain, Windows Credential Manager, Secret Service).

A headless server usually has no keyring backend: reading then finds no key (with the reason), and storing
says to use ``COPILOT_DATA_KEY`` instead.
"""

from __future__ import annotations

import keyring
from keyring.errors import KeyringError

from backend.adapters.crypto.errors import DataKeyError
from backend.adapters.crypto.keys import DataKey

SERVICE = "clinical-copilot"
ACCOUNT = "data-key"
NO_KEYRING = (
    "This machine has no usable OS keyring ({reason}). Put the key in COPILOT_DATA_KEY (an environment variable "
    "or .streamlit/secrets.toml, readable only by the app's user) instead."
)


def load_from_keyring() -> tuple[DataKey | None, str]:
    """The key stored in the keyring, or None and why not (no backend, locked, nothing stored).

    Raises:
        DataKeyError: the keyring holds something that is not a data key.
    """
    try:
        text = keyring.get_password(SERVICE, ACCOUNT)
    except (KeyringError, RuntimeError, OSError) as e:  # no backend (headless), locked, D-Bus errors
        return None, f"no OS keyring: {type(e).__name__}"
    if not text:
        return None, "no key in the OS keyring"
    try:
        return DataKey.parse(text), ""
    except DataKeyError as e:
        raise DataKeyError(
            f"The OS keyring entry {SERVICE}/{ACCOUNT} is not a data key. Nothing was opened; fix or delete it."
        ) from e


def save_to_keyring(key: DataKey) -> None:
    """Store ``key`` in the keyring, refusing to replace another key (that would make the data unreadable).

    Raises:
        DataKeyError: no usable keyring on this machine, or it holds a different key already.
    """
    existing, _ = load_from_keyring()
    if existing is not None and existing.secret != key.secret:
        raise DataKeyError(
            f"The OS keyring already holds a data key (id {existing.key_id}); it was not replaced, because the data "
            "encrypted with it would become unreadable."
        )
    try:
        keyring.set_password(SERVICE, ACCOUNT, key.text())
    except (KeyringError, RuntimeError, OSError) as e:
        raise DataKeyError(NO_KEYRING.format(reason=type(e).__name__)) from e


def replace_in_keyring(old: DataKey, new: DataKey) -> None:
    """After a key rotation: put ``new`` where ``old`` was (only if the keyring still holds ``old``).

    Raises:
        DataKeyError: the keyring does not hold ``old`` (or there is no usable keyring).
    """
    existing, reason = load_from_keyring()
    if existing is None or existing.secret != old.secret:
        raise DataKeyError(
            f"The OS keyring does not hold the old key (id {old.key_id}; {reason or 'it holds another one'}), so it "
            f"was left alone. Store the new key (id {new.key_id}) where the app reads it."
        )
    try:
        keyring.set_password(SERVICE, ACCOUNT, new.text())
    except (KeyringError, RuntimeError, OSError) as e:
        raise DataKeyError(NO_KEYRING.format(reason=type(e).__name__)) from e
