"""Encryption at rest in local mode: real SQLCipher files and AES-GCM blob files in a temporary data folder.

Each test would fail on plain storage: the patient's name is looked for in every byte the folder holds.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

from backend.adapters.crypto import DataKey, DataKeyError, TamperedFile
from backend.adapters.crypto.marker import PENDING_NAME
from backend.adapters.crypto.migrate import encrypt_data_folder
from backend.adapters.records.sqlite import open_sqlite_store
from backend.bootstrap import App, build_app
from backend.config import Settings
from backend.domain.models import HistoryEntry, Role
from backend.services.access import Principal
from backend.services.patients import PatientInput, register_patient
from tests.conftest import ROOT

NURSE = Principal("nurse", Role.NURSE)
NAME = "Zebulon Quackenbush"
SECRET_AUDIO = f"RIFF consultation with {NAME}, metformin 500 mg".encode() * 50


def _settings(data_dir: Path, key: DataKey | None, **extra: object) -> Settings:
    return Settings(
        data_dir=data_dir,
        store="sqlite",
        blobs="local",
        queue="sqlite",
        data_key=SecretStr(key.text()) if key else None,
        keyring=False,  # never the developer's real keyring
        **extra,  # type: ignore[arg-type]
    )


def _populate(app: App) -> tuple[str, str]:
    patient = register_patient(app.stores, NURSE, PatientInput(name=NAME, phone="+91 98765 43210")).patient
    blob = app.blobs.put(SECRET_AUDIO, "audio/wav", prefix="audio")
    app.stores.history.add(
        HistoryEntry(patient_id=patient.patient_id, source="digitize:pdf", document_key=blob, author="nurse")
    )
    return patient.patient_id, blob


def _every_byte(data_dir: Path) -> dict[str, bytes]:
    return {p.relative_to(data_dir).as_posix(): p.read_bytes() for p in data_dir.rglob("*") if p.is_file()}


def _leaks(data_dir: Path) -> list[str]:
    needles = [NAME.encode(), NAME.encode("utf-16-le"), b"Quackenbush", b"metformin", b"919876543210"]
    return sorted(name for name, data in _every_byte(data_dir).items() if any(n in data for n in needles))


def _fingerprint(data_dir: Path) -> dict[str, tuple[str, int]]:
    return {
        p.relative_to(data_dir).as_posix(): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in data_dir.rglob("*")
        if p.is_file()
    }


def _close(app: App) -> None:
    """Checkpoint and close this thread's connections, so the WAL's content is in the main file too."""
    for store in (app.stores.patients, app.queue):
        db = getattr(store, "_db", None)
        if db is not None:
            db.connect().execute("PRAGMA wal_checkpoint(TRUNCATE)")
            db.close()


def test_the_database_and_blob_files_hold_no_plaintext(tmp_path: Path) -> None:
    plain_dir, secret_dir = tmp_path / "plain", tmp_path / "encrypted"
    plain = build_app(_settings(plain_dir, None))
    _populate(plain)
    leaks = _leaks(plain_dir)  # the control: plain storage shows the name in the blob and the database (or WAL)
    assert "blobs/audio/" + _blob_path(SECRET_AUDIO) in leaks and any(n.startswith("copilot.sqlite3") for n in leaks)

    key = DataKey.generate()
    app = build_app(_settings(secret_dir, key))
    patient_id, blob = _populate(app)
    assert app.encryption == f"on (key from COPILOT_DATA_KEY, id {key.key_id})"
    assert _leaks(secret_dir) == []  # the WAL, while it holds the writes
    _close(app)
    assert _leaks(secret_dir) == []  # the main file, after the checkpoint
    assert (secret_dir / "copilot.sqlite3").read_bytes()[:16] != b"SQLite format 3\x00"

    again = build_app(_settings(secret_dir, key))
    assert again.stores.patients.get(patient_id).name == NAME
    assert again.blobs.get(blob) == SECRET_AUDIO
    assert b"".join(again.blobs.open(blob)) == SECRET_AUDIO


def _blob_path(data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    return f"{digest[:2]}/{digest}"


def test_a_wrong_key_is_refused_with_a_message_and_nothing_is_written(tmp_path: Path) -> None:
    key = DataKey.generate()
    app = build_app(_settings(tmp_path, key))
    _populate(app)
    _close(app)
    before = _fingerprint(tmp_path)
    wrong = DataKey.generate()

    with pytest.raises(DataKeyError, match=f"id {wrong.key_id}.*not the key.*id {key.key_id}"):
        build_app(_settings(tmp_path, wrong))
    with pytest.raises(DataKeyError, match="no key is configured"):
        build_app(_settings(tmp_path, None))
    with pytest.raises(DataKeyError, match="COPILOT_ENCRYPTION=off"):
        build_app(_settings(tmp_path, None, encryption="off"))
    # Below the folder's marker, the database itself refuses a wrong or missing key before any statement.
    with pytest.raises(DataKeyError, match="cannot be opened with the configured data key"):
        open_sqlite_store(tmp_path / "copilot.sqlite3", wrong)
    with pytest.raises(DataKeyError, match=r"encrypted .*no data key is configured"):
        open_sqlite_store(tmp_path / "copilot.sqlite3", None)
    assert _fingerprint(tmp_path) == before


def test_the_command_line_says_the_key_is_wrong_without_a_traceback(tmp_path: Path) -> None:
    key = DataKey.generate()
    _populate(build_app(_settings(tmp_path, key)))
    env = {
        **os.environ,
        "COPILOT_DATA_DIR": str(tmp_path),
        "COPILOT_STORE": "sqlite",
        "COPILOT_BLOBS": "local",
        "COPILOT_QUEUE": "sqlite",
        "COPILOT_KEYRING": "0",
        "COPILOT_DATA_KEY": DataKey.generate().text(),
    }
    for command in (["backend", "users", "list"], ["backend.worker", "--max-jobs", "1"]):
        done = subprocess.run(
            [sys.executable, "-m", *command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 2, command
        assert done.stderr.startswith("error: The data key from COPILOT_DATA_KEY") and "Traceback" not in done.stderr
        assert env["COPILOT_DATA_KEY"] not in done.stderr + done.stdout


def test_a_tampered_or_swapped_blob_is_refused(tmp_path: Path) -> None:
    key = DataKey.generate()
    app = build_app(_settings(tmp_path, key))
    first = app.blobs.put(SECRET_AUDIO, "audio/wav", prefix="audio")
    second = app.blobs.put(b"another recording" * 100, "audio/wav", prefix="audio")
    path = tmp_path / "blobs" / first
    sealed = path.read_bytes()

    path.write_bytes(sealed[:100] + bytes([sealed[100] ^ 1]) + sealed[101:])
    with pytest.raises(TamperedFile, match="failed its integrity check"):
        app.blobs.get(first)
    path.write_bytes(sealed[:-1])
    with pytest.raises(TamperedFile):
        app.blobs.get(first)
    path.write_bytes((tmp_path / "blobs" / second).read_bytes())  # a valid file of the same key, other content
    with pytest.raises(TamperedFile):
        app.blobs.get(first)
    path.write_bytes(SECRET_AUDIO)  # a plain file slipped into an encrypted folder
    with pytest.raises(TamperedFile):
        app.blobs.get(first)
    path.write_bytes(sealed)
    assert app.blobs.get(first) == SECRET_AUDIO


def test_encrypt_data_converts_a_plain_folder_and_survives_an_interruption(tmp_path: Path) -> None:
    plain = build_app(_settings(tmp_path, None))
    patient_id, blob = _populate(plain)
    others = [plain.blobs.put(f"recording {i}".encode() * 500, "audio/wav", prefix="audio") for i in range(3)]
    _close(plain)
    key = DataKey.generate()
    with pytest.raises(DataKeyError, match="encrypt-data"):  # a key alone does not open a plain folder
        build_app(_settings(tmp_path, key))

    class Stop(Exception):
        pass

    def stop_after_two(blob_key: str) -> None:
        stop_after_two.seen += 1  # type: ignore[attr-defined]
        if stop_after_two.seen == 2:  # type: ignore[attr-defined]
            raise Stop

    stop_after_two.seen = 0  # type: ignore[attr-defined]
    with pytest.raises(Stop):
        encrypt_data_folder(tmp_path, key, on_file=stop_after_two)
    assert (tmp_path / PENDING_NAME).exists()
    for settings in (_settings(tmp_path, key), _settings(tmp_path, None)):  # neither half-state opens
        with pytest.raises(DataKeyError, match="interrupted"):
            build_app(settings)

    report = encrypt_data_folder(tmp_path, key)
    assert (report.blobs_already, report.blobs_encrypted, report.database) == (2, 2, "encrypted")
    assert report.tables["patients"] == 1
    assert not (tmp_path / PENDING_NAME).exists() and _leaks(tmp_path) == []
    app = build_app(_settings(tmp_path, key))
    assert app.stores.patients.get(patient_id).name == NAME
    assert app.blobs.get(blob) == SECRET_AUDIO
    assert [app.blobs.get(k) for k in others] == [f"recording {i}".encode() * 500 for i in range(3)]
    assert encrypt_data_folder(tmp_path, key).database == "already encrypted"  # a second run changes nothing
    with pytest.raises(DataKeyError, match="another data key"):
        encrypt_data_folder(tmp_path, DataKey.generate())


def _cli(
    *args: str, data_dir: Path, key: DataKey | None, new_key: DataKey | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "COPILOT_DATA_DIR": str(data_dir),
        "COPILOT_STORE": "sqlite",
        "COPILOT_BLOBS": "local",
        "COPILOT_QUEUE": "sqlite",
        "COPILOT_KEYRING": "0",
    }
    env.pop("COPILOT_DATA_KEY", None)
    if key is not None:
        env["COPILOT_DATA_KEY"] = key.text()
    if new_key is not None:
        env["COPILOT_NEW_DATA_KEY"] = new_key.text()
    return subprocess.run(
        [sys.executable, "-m", "backend", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def test_backup_and_restore_round_trip_stays_encrypted(tmp_path: Path) -> None:
    key = DataKey.generate()
    source = tmp_path / "source"
    app = build_app(_settings(source, key))
    patient_id, blob = _populate(app)
    out = tmp_path / "backup"

    made = _cli("backup", str(out), data_dir=source, key=key)
    assert made.returncode == 0, made.stderr
    assert f"encrypted with key id {key.key_id}" in made.stdout
    assert _leaks(out) == []  # the backup's database and blobs are ciphertext too
    assert (out / "manifest.json").read_text().count(key.key_id) == 1

    target = tmp_path / "restored"
    for wrong, message in (
        (DataKey.generate(), "encrypted with another data key"),
        (None, "no data key is configured"),
    ):
        refused = _cli("restore", str(out), "--data-dir", str(target), data_dir=source, key=wrong)
        assert refused.returncode == 2 and message in refused.stderr and "Traceback" not in refused.stderr
        assert not target.exists()  # refused before anything was created

    restored = _cli("restore", str(out), "--data-dir", str(target), data_dir=source, key=key)
    assert restored.returncode == 0, restored.stderr
    assert f"encrypted with key id {key.key_id}" in restored.stdout
    assert _leaks(target) == []
    with pytest.raises(DataKeyError, match="no key is configured"):  # the restored folder is encrypted too
        build_app(_settings(target, None))
    back = build_app(_settings(target, key))
    assert back.stores.patients.get(patient_id).name == NAME
    assert back.blobs.get(blob) == SECRET_AUDIO


def test_the_web_app_shows_the_key_problem_instead_of_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    key = DataKey.generate()
    _populate(build_app(_settings(tmp_path, key)))
    before = _fingerprint(tmp_path)
    for name, value in {
        "COPILOT_DATA_DIR": str(tmp_path),
        "COPILOT_STORE": "sqlite",
        "COPILOT_BLOBS": "local",
        "COPILOT_QUEUE": "sqlite",
        "COPILOT_KEYRING": "0",
        "COPILOT_DEMO": "0",
        "COPILOT_DATA_KEY": DataKey.generate().text(),
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(ROOT)
    st.cache_resource.clear()
    try:
        at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60).run()
    finally:
        st.cache_resource.clear()
    assert not at.exception
    assert [e.value for e in at.error] and "is not the key of" in at.error[0].value
    assert _fingerprint(tmp_path) == before


def test_keys_create_then_encrypt_data_on_the_command_line(tmp_path: Path) -> None:
    plain = build_app(_settings(tmp_path, None))
    patient_id, blob = _populate(plain)
    _close(plain)

    created = _cli("keys", "create", data_dir=tmp_path, key=None)
    assert created.returncode == 0, created.stderr
    line = next(li for li in created.stdout.splitlines() if li.startswith("COPILOT_DATA_KEY="))
    key = DataKey.parse(line.removeprefix("COPILOT_DATA_KEY="))
    assert _cli("keys", "create", "--keyring", data_dir=tmp_path, key=None).stderr.startswith(
        "error: This machine has no usable OS keyring"
    )

    done = _cli("encrypt-data", data_dir=tmp_path, key=key)
    assert done.returncode == 0, done.stderr
    assert "1 stored files encrypted now" in done.stdout and _leaks(tmp_path) == []
    status = _cli("keys", "status", data_dir=tmp_path, key=key)
    assert status.returncode == 0 and f"encrypted with key id {key.key_id} (the configured key)" in status.stdout
    assert _cli("keys", "status", data_dir=tmp_path, key=DataKey.generate()).returncode == 1
    app = build_app(_settings(tmp_path, key))
    assert app.stores.patients.get(patient_id).name == NAME and app.blobs.get(blob) == SECRET_AUDIO


def test_a_plain_backup_restored_over_an_encrypted_folder_leaves_no_stale_marker(tmp_path: Path) -> None:
    from backend.services import backup

    plain = build_app(_settings(tmp_path / "plain", None))
    patient_id, _ = _populate(plain)
    out = tmp_path / "plain-backup"
    backup.create_backup(plain.settings.db_path, plain.settings.blob_root, out)
    target = tmp_path / "target"
    _populate(build_app(_settings(target, DataKey.generate())))

    backup.restore_backup(out, target, force=True)
    assert not (target / "encryption.json").exists()  # moved aside with the encrypted data it described
    aside = next(target.glob("pre-restore-*"))
    assert (aside / "encryption.json").exists() and (aside / "copilot.sqlite3").exists()
    assert build_app(_settings(target, None)).stores.patients.get(patient_id).name == NAME


def test_a_new_data_folder_is_owner_only(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    app = build_app(_settings(data_dir, DataKey.generate()))
    _populate(app)
    modes = {p.relative_to(data_dir).as_posix(): p.stat().st_mode & 0o777 for p in [data_dir, *data_dir.rglob("*")]}
    assert {name for name, mode in modes.items() if mode & 0o077} == set(), modes


def test_keys_rotate_re_encrypts_everything_and_resumes_after_an_interruption(tmp_path: Path) -> None:
    old, new = DataKey.generate(), DataKey.generate()
    app = build_app(_settings(tmp_path, old))
    patient_id, blob = _populate(app)
    others = [app.blobs.put(f"recording {i}".encode() * 500, "audio/wav", prefix="audio") for i in range(3)]
    _close(app)

    def stop_after_two(blob_key: str, seen: list[str] = []) -> None:  # noqa: B006 - the run's own counter
        seen.append(blob_key)
        if len(seen) == 2:
            raise KeyboardInterrupt  # as if the operator pressed Ctrl+C

    with pytest.raises(KeyboardInterrupt):
        encrypt_data_folder(tmp_path, new, on_file=stop_after_two, old_key=old)
    for key in (old, new):
        with pytest.raises(DataKeyError, match="interrupted"):
            build_app(_settings(tmp_path, key))

    done = _cli("keys", "rotate", data_dir=tmp_path, key=old, new_key=new)
    assert done.returncode == 0, done.stderr
    assert "2 stored files re-encrypted, 2 already done" in done.stdout and old.key_id in done.stdout
    assert _leaks(tmp_path) == []
    with pytest.raises(DataKeyError, match="not the key of"):
        build_app(_settings(tmp_path, old))
    rotated = build_app(_settings(tmp_path, new))
    assert rotated.stores.patients.get(patient_id).name == NAME and rotated.blobs.get(blob) == SECRET_AUDIO
    assert [rotated.blobs.get(k) for k in others] == [f"recording {i}".encode() * 500 for i in range(3)]

    (tmp_path / "blobs" / others[0]).write_bytes(b"planted plain file")
    before = _fingerprint(tmp_path)
    with pytest.raises(TamperedFile, match="not encrypted, in an encrypted folder"):
        encrypt_data_folder(tmp_path, DataKey.generate(), old_key=new)
    assert _fingerprint(tmp_path) == before  # refused before the folder was marked or changed
    with pytest.raises(DataKeyError, match="another data key"):
        encrypt_data_folder(tmp_path, DataKey.generate())
    assert _fingerprint(tmp_path) == before
