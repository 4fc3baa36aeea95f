"""Backup while the app writes, restore into a fresh data dir, and compare every record and every blob."""

from __future__ import annotations

import hashlib
import io
import os
import random
import sqlite3
import subprocess
import sys
import tarfile
import threading
from pathlib import Path
from typing import Any

import pytest

from backend.bootstrap import App, build_app
from backend.config import Settings
from backend.domain.errors import UnsupportedInput, ValidationFailed
from backend.domain.models import HistoryEntry, Job, Role
from backend.services import backup
from backend.services.access import Principal
from backend.services.demo import seed_demo
from backend.services.demo_metrics import write_demo_metrics
from backend.services.patients import PatientInput, register_patient
from tests.conftest import ROOT

NURSE = Principal("nurse", Role.NURSE)


def _app(data_dir: Path) -> App:
    return build_app(Settings(data_dir=data_dir, store="sqlite", blobs="local", queue="sqlite"))


def _populate(app: App) -> None:
    seed_demo(app.stores, lambda pid, seed: write_demo_metrics(app.stores, pid, seed, days=30), days=30)
    pid = "PAT_de000001"
    for i in range(3):
        key = app.blobs.put(f"audio bytes {i}".encode() * 100, "audio/wav", prefix="audio")
        app.stores.jobs.add(Job(job_id=f"JOB_{i:016x}", kind="scribe", patient_id=pid, blob_key=key))
    doc = app.blobs.put(b"%PDF-1.4 a document", "application/pdf", prefix="documents")
    app.stores.history.add(HistoryEntry(patient_id=pid, source="digitize:pdf", document_key=doc, author="nurse"))


def _rows(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    conn = sqlite3.connect(db)
    try:
        tables = [
            r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")
        ]
        return {t: sorted(conn.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in tables}
    finally:
        conn.close()


def _blobs(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in root.rglob("*")
        if p.is_file() and not p.name.startswith(".")
    }


@pytest.fixture
def source(tmp_path: Path) -> App:
    app = _app(tmp_path / "source")
    _populate(app)
    return app


@pytest.mark.parametrize("name", ["backup.tar.gz", "backup-folder"])
def test_restore_reproduces_every_record_and_blob(source: App, tmp_path: Path, name: str) -> None:
    s = source.settings
    out = tmp_path / name
    manifest = backup.create_backup(s.db_path, s.blob_root, out)
    assert manifest.missing_blobs == []
    assert manifest.counts["patients"] >= 14 and manifest.counts["jobs"] == 3 and manifest.counts["metrics"] > 0

    target = tmp_path / "restored"
    backup.restore_backup(out, target)

    assert _rows(target / "copilot.sqlite3") == _rows(s.db_path)
    assert _blobs(target / "blobs") == _blobs(s.blob_root)
    assert len(_blobs(target / "blobs")) == 4
    # The restored data dir works as a data dir: the app opens it and serves the same records.
    restored = _app(target)
    for pid in ("PAT_de000001", "PAT_de000014"):
        assert restored.stores.patients.get(pid) == source.stores.patients.get(pid)
        assert restored.stores.metrics.days(pid) == source.stores.metrics.days(pid)
    for job in source.stores.jobs.list_for_patient("PAT_de000001"):
        assert restored.blobs.get(job.blob_key) == source.blobs.get(job.blob_key)


def test_backup_while_writers_run_is_consistent(source: App, tmp_path: Path) -> None:
    """Writers keep adding patients and blob-backed jobs during the backup; the snapshot is whole and self-consistent."""
    stop = threading.Event()
    written: list[str] = []

    def writer(tag: int) -> None:
        app = _app(source.settings.data_dir)  # its own connections, as another session would have
        rng = random.Random(tag)  # distinct audio per job (blob keys are content hashes), the same every run
        n = 0
        while not stop.is_set():
            reg = register_patient(app.stores, NURSE, PatientInput(name=f"Writer Patient {n}"))
            key = app.blobs.put(rng.randbytes(4096), "audio/wav", prefix="audio")
            app.stores.jobs.add(
                Job(job_id=f"JOB_w{tag}{n:014x}", kind="scribe", patient_id=reg.patient.patient_id, blob_key=key)
            )
            written.append(reg.patient.patient_id)
            n += 1

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    try:
        for _ in range(6000):  # until the writers have written 10 (bounded: a crashed writer fails, not hangs)
            if len(written) >= 10:
                break
            stop.wait(0.05)
        assert len(written) >= 10, "the writers stopped writing"
        out = tmp_path / "live.tar"
        manifest = backup.create_backup(source.settings.db_path, source.settings.blob_root, out)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert manifest.missing_blobs == []
    target = tmp_path / "restored"
    backup.restore_backup(out, target)
    restored = _app(target)
    conn = sqlite3.connect(target / "copilot.sqlite3")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    job_ids = [r[0] for r in conn.execute("SELECT job_id FROM jobs")]
    conn.close()
    assert len(job_ids) >= 3 + 10 - 2  # the writers' rows up to the snapshot are there
    for job_id in job_ids:  # every record's blob came along
        job = restored.stores.jobs.get(job_id)
        assert restored.blobs.exists(job.blob_key)
        restored.stores.patients.get(job.patient_id)


def test_restore_refuses_non_empty_target_and_damaged_backups(source: App, tmp_path: Path) -> None:
    s = source.settings
    out = tmp_path / "b.tar.gz"
    backup.create_backup(s.db_path, s.blob_root, out)
    with pytest.raises(ValidationFailed, match="exists already"):
        backup.create_backup(s.db_path, s.blob_root, out)

    # A data dir holding a database is not overwritten without force.
    before = _rows(s.db_path)
    with pytest.raises(ValidationFailed, match="--force"):
        backup.restore_backup(out, s.data_dir)
    assert _rows(s.db_path) == before

    # With force, the current data is moved aside, not deleted.
    register_patient(source.stores, NURSE, PatientInput(name="Added After Backup"))
    backup.restore_backup(out, s.data_dir, force=True)
    assert _rows(s.db_path) == before
    aside = [p for p in s.data_dir.iterdir() if p.name.startswith("pre-restore-")]
    assert len(aside) == 1 and (aside[0] / "copilot.sqlite3").exists()

    # A tampered blob is detected before anything is written.
    folder = tmp_path / "folder"
    backup.create_backup(s.db_path, s.blob_root, folder)
    blob = next((folder / "blobs").rglob("*/*/*"))
    blob.write_bytes(b"tampered")
    with pytest.raises(UnsupportedInput, match="checksum"):
        backup.restore_backup(folder, tmp_path / "fresh")
    assert not backup.has_data(tmp_path / "fresh")

    # An archive with a path-escaping member is refused.
    evil = tmp_path / "evil.tar"
    with tarfile.open(evil, "w") as tar:
        manifest = backup.Manifest(created_at="x", schema_version=1, files={"../escape": "0" * 64})
        data = manifest.to_json().encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
        info2 = tarfile.TarInfo("../escape")
        info2.size = 1
        tar.addfile(info2, io.BytesIO(b"x"))
    with pytest.raises(UnsupportedInput):
        backup.restore_backup(evil, tmp_path / "fresh2")
    assert not (tmp_path / "escape").exists()


def test_cli_backup_and_restore(source: App, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "COPILOT_DATA_DIR": str(source.settings.data_dir),
        "COPILOT_STORE": "sqlite",
        "COPILOT_BLOBS": "local",
    }
    out = tmp_path / "cli.tgz"
    done = subprocess.run(
        [sys.executable, "-m", "backend", "backup", str(out)], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "stored files" in done.stdout
    target = tmp_path / "cli-restored"
    cmd = [sys.executable, "-m", "backend", "restore", str(out), "--data-dir", str(target)]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert _rows(target / "copilot.sqlite3") == _rows(source.settings.db_path)
    again = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    assert again.returncode == 2 and "--force" in again.stderr


# --- issue 16: restore refuses a running app, single-step snapshot, owner-only backup files -----------------

_RUNNING_APP = """
import sys
from backend.bootstrap import build_app
from backend.config import Settings
from backend.worker.background import start_background

app = build_app(Settings(data_dir=sys.argv[1], store="sqlite", blobs="local", queue="sqlite"))
start_background(app)  # what the Streamlit server does when it starts
print("ready", flush=True)
sys.stdin.read()  # runs until the test closes its stdin
"""


def _cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COPILOT_DATA_DIR": str(data_dir), "COPILOT_STORE": "sqlite", "COPILOT_BLOBS": "local"}
    return subprocess.run(
        [sys.executable, "-m", "backend", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def test_restore_refuses_while_the_app_runs_and_says_how_to_stop_it(source: App, tmp_path: Path) -> None:
    s = source.settings
    out = tmp_path / "b.tgz"
    backup.create_backup(s.db_path, s.blob_root, out)
    register_patient(source.stores, NURSE, PatientInput(name="Written While Running"))
    after = _rows(s.db_path)["patients"]  # (the running app's worker may update jobs meanwhile)
    env = {**os.environ, "COPILOT_QUEUE": "sqlite"}
    app = subprocess.Popen(
        [sys.executable, "-c", _RUNNING_APP, str(s.data_dir)],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert app.stdout is not None and app.stdout.readline().strip() == "ready"
        refused = _cli("restore", str(out), "--force", data_dir=s.data_dir)
        assert refused.returncode == 2
        assert "The app is running" in refused.stderr and "Ctrl+C" in refused.stderr
        assert _rows(s.db_path)["patients"] == after  # nothing was touched
        assert not [p for p in s.data_dir.iterdir() if p.name.startswith("pre-restore-")]
    finally:
        assert app.stdin is not None
        app.stdin.close()
        app.wait(timeout=60)
    done = _cli("restore", str(out), "--force", data_dir=s.data_dir)  # the app has stopped: the lock is gone
    assert done.returncode == 0, done.stderr
    assert _rows(s.db_path)["patients"] != after  # back to the backup's state, without the later patient


def test_an_app_does_not_start_on_a_data_dir_being_restored(tmp_path: Path) -> None:
    from backend.domain.errors import StoreUnavailable
    from backend.services.data_lock import DataDirLock

    lock = DataDirLock(tmp_path / "data")
    with lock.exclusive(), pytest.raises(StoreUnavailable, match="restore"):
        DataDirLock(tmp_path / "data").hold_shared()
    DataDirLock(tmp_path / "data").hold_shared()  # after the restore the app starts
    try:
        with pytest.raises(ValidationFailed, match="The app is running"), DataDirLock(tmp_path / "data").exclusive():
            pass
    finally:
        DataDirLock(tmp_path / "data").release_shared()
    assert (tmp_path / "data" / "app.lock").stat().st_mode & 0o777 == 0o600


def test_snapshot_is_one_step_so_constant_writes_cannot_restart_it(source: App, tmp_path: Path) -> None:
    db = source.settings.db_path
    writer = sqlite3.connect(db, timeout=30, isolation_level=None)
    writer.execute("CREATE TABLE IF NOT EXISTS t_busy (n INTEGER)")
    steps: list[int] = []

    def write_between_steps(status: int, remaining: int, total: int) -> None:
        steps.append(remaining)
        writer.execute("INSERT INTO t_busy VALUES (?)", (len(steps),))  # another connection commits
        if len(steps) >= 50:
            raise RuntimeError("the copy keeps restarting")

    # Control: the step-wise copy this replaced restarts after every write and never gets to the end.
    control = sqlite3.connect(tmp_path / "stepwise.sqlite3")
    source_conn = sqlite3.connect(db)
    with pytest.raises(RuntimeError, match="keeps restarting"):
        source_conn.backup(control, pages=16, progress=write_between_steps)
    source_conn.close()
    control.close()
    assert min(steps) > 0

    steps.clear()
    target = tmp_path / "snap.sqlite3"
    backup._copy_database(db, target, progress=write_between_steps)
    writer.close()
    assert steps == [0]  # one step, done
    check = sqlite3.connect(target)
    try:
        assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert check.execute("SELECT COUNT(*) FROM patients").fetchone()[0] >= 14
    finally:
        check.close()


def _modes(root: Path) -> dict[str, int]:
    return {p.relative_to(root).as_posix(): p.stat().st_mode & 0o777 for p in [root, *root.rglob("*")]}


def test_backup_and_restored_files_are_owner_only(source: App, tmp_path: Path) -> None:
    s = source.settings
    folder = tmp_path / "folder"
    backup.create_backup(s.db_path, s.blob_root, folder)
    modes = _modes(folder)
    assert modes["."] == 0o700 and len(modes) > 5
    assert {m for p, m in modes.items() if (folder / p).is_file()} == {0o600}
    assert {m for p, m in modes.items() if (folder / p).is_dir()} == {0o700}

    archive = tmp_path / "b.tar.gz"
    backup.create_backup(s.db_path, s.blob_root, archive)
    assert archive.stat().st_mode & 0o777 == 0o600
    with tarfile.open(archive) as tar:
        assert {m.mode for m in tar.getmembers() if m.isfile()} == {0o600}
        assert {m.mode for m in tar.getmembers() if m.isdir()} == {0o700}

    target = tmp_path / "restored"
    backup.restore_backup(archive, target)
    assert (target / "copilot.sqlite3").stat().st_mode & 0o777 == 0o600
    blob_modes = _modes(target / "blobs")
    assert {m for p, m in blob_modes.items() if (target / "blobs" / p).is_file()} == {0o600}
    assert {m for p, m in blob_modes.items() if (target / "blobs" / p).is_dir()} == {0o700}
