"""The data key's text form, and the decision (before anything is opened) whether a folder is encrypted."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail

from backend.adapters.crypto.errors import DataKeyError
from backend.adapters.crypto.keyring_source import load_from_keyring, save_to_keyring
from backend.adapters.crypto.keys import DataKey
from backend.adapters.crypto.marker import MARKER_NAME, PENDING_NAME, Marker, read_marker, write_marker
from backend.adapters.crypto.policy import resolve_encryption

SQLITE = b"SQLite format 3\x00" + bytes(84)


class MemoryKeyring(KeyringBackend):
    """An honest in-memory keyring backend (a desktop's keychain, without the desktop)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.entries.pop((service, username), None)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def no_keyring() -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


def _no_keyring() -> tuple[DataKey | None, str]:
    return None, "no OS keyring: NoKeyringError"


def test_key_text_round_trips_and_look_alikes_are_refused() -> None:
    key = DataKey.generate()
    assert len(key.text()) == 43
    assert DataKey.parse(f"  {key.text()}\n") == key
    assert DataKey.parse(key.text()).key_id == key.key_id
    for bad in ("", "secret", key.text()[:-1], key.text() + "A", key.text()[:-1] + "+", key.secret.hex()):
        with pytest.raises(DataKeyError, match="not a data key"):
            DataKey.parse(bad)


def test_subkeys_differ_and_the_key_is_not_in_its_repr() -> None:
    key = DataKey.generate()
    assert len({key.database_key(), key.blob_key(), bytes.fromhex(key.key_id)}) == 3
    assert key.text() not in repr(key) and key.secret.hex() not in repr(key)


def test_auto_without_a_key_stays_plain_and_writes_nothing(tmp_path: Path) -> None:
    choice = resolve_encryption("auto", None, tmp_path, keyring_loader=_no_keyring)
    assert choice.key is None and choice.label == "off"
    assert list(tmp_path.iterdir()) == []


def test_auto_with_a_key_marks_a_new_folder(tmp_path: Path) -> None:
    key = DataKey.generate()
    choice = resolve_encryption("auto", key.text(), tmp_path)
    assert choice.key == key and choice.source == "COPILOT_DATA_KEY"
    assert read_marker(tmp_path) == Marker(key_id=key.key_id)
    assert (tmp_path / MARKER_NAME).stat().st_mode & 0o077 == 0


def test_the_wrong_key_is_refused_with_both_ids_and_nothing_written(tmp_path: Path) -> None:
    right, wrong = DataKey.generate(), DataKey.generate()
    write_marker(tmp_path, Marker(key_id=right.key_id))
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(DataKeyError) as e:
        resolve_encryption("auto", wrong.text(), tmp_path)
    assert right.key_id in e.value.message and wrong.key_id in e.value.message
    assert wrong.text() not in e.value.message
    assert sorted(p.name for p in tmp_path.iterdir()) == before


@pytest.mark.parametrize("mode", ["auto", "on"])
def test_an_encrypted_folder_without_a_key_says_how_to_give_it(tmp_path: Path, mode: str) -> None:
    write_marker(tmp_path, Marker(key_id=DataKey.generate().key_id))
    with pytest.raises(DataKeyError, match="Set COPILOT_DATA_KEY"):
        resolve_encryption(mode, None, tmp_path, keyring_loader=_no_keyring)


def test_on_without_any_key_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(DataKeyError, match="keys create"):
        resolve_encryption("on", None, tmp_path, keyring_loader=_no_keyring)
    assert list(tmp_path.iterdir()) == []


def test_off_refuses_an_encrypted_folder(tmp_path: Path) -> None:
    write_marker(tmp_path, Marker(key_id=DataKey.generate().key_id))
    with pytest.raises(DataKeyError, match="COPILOT_ENCRYPTION=off"):
        resolve_encryption("off", None, tmp_path)


def test_a_key_on_a_plain_folder_asks_for_encrypt_data(tmp_path: Path) -> None:
    (tmp_path / "copilot.sqlite3").write_bytes(SQLITE)
    with pytest.raises(DataKeyError, match="encrypt-data"):
        resolve_encryption("auto", DataKey.generate().text(), tmp_path)
    assert not (tmp_path / MARKER_NAME).exists()
    assert resolve_encryption("off", None, tmp_path).key is None


def test_an_unfinished_encryption_is_refused_with_or_without_a_key(tmp_path: Path) -> None:
    key = DataKey.generate()
    write_marker(tmp_path, Marker(key_id=key.key_id), PENDING_NAME)
    for mode, text in (("auto", None), ("auto", key.text()), ("off", None)):
        with pytest.raises(DataKeyError, match="interrupted"):
            resolve_encryption(mode, text, tmp_path, keyring_loader=_no_keyring)


def test_a_damaged_marker_is_reported(tmp_path: Path) -> None:
    (tmp_path / MARKER_NAME).write_text("{not json", encoding="utf-8")
    with pytest.raises(DataKeyError, match="damaged"):
        resolve_encryption("auto", None, tmp_path, keyring_loader=_no_keyring)


def test_the_keyring_supplies_the_key_when_the_setting_is_empty(tmp_path: Path, memory_keyring: MemoryKeyring) -> None:
    key = DataKey.generate()
    save_to_keyring(key)
    choice = resolve_encryption("auto", None, tmp_path)
    assert choice.key == key and choice.source == "OS keyring"
    assert choice.label == f"on (key from OS keyring, id {key.key_id})"
    with pytest.raises(DataKeyError, match="not consulted"):  # COPILOT_KEYRING=0: the folder now needs its key
        resolve_encryption("auto", None, tmp_path, use_keyring=False)


def test_the_keyring_never_replaces_a_stored_key(memory_keyring: MemoryKeyring) -> None:
    first = DataKey.generate()
    save_to_keyring(first)
    save_to_keyring(first)  # the same key again is harmless
    with pytest.raises(DataKeyError, match="already holds a data key"):
        save_to_keyring(DataKey.generate())
    assert load_from_keyring() == (first, "")


def test_a_headless_machine_has_no_keyring_and_says_so(tmp_path: Path, no_keyring: None) -> None:
    key, reason = load_from_keyring()
    assert key is None and "NoKeyringError" in reason
    with pytest.raises(DataKeyError, match="COPILOT_DATA_KEY"):
        save_to_keyring(DataKey.generate())
    assert resolve_encryption("auto", None, tmp_path).key is None  # zero configuration still works
