"""Eight threads (and a second process) writing patients and notes to one SQLite file: no lost write, no "locked" error.

Streamlit runs every browser session in its own thread over one shared App, so this is the app's normal load.
Optimistic concurrency may answer an edit with ``ConcurrentUpdate`` (a message telling the user to reload);
every such edit is retried here, as the user would, and must then land.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

from backend.bootstrap import build_app
from backend.config import Settings
from backend.domain.errors import ConcurrentUpdate
from backend.domain.models import Note, Role
from backend.services.access import Principal
from backend.services.notes import save_draft
from backend.services.patients import PatientInput, get_patient, register_patient, update_patient
from tests.conftest import ROOT

THREADS = 8
PER_THREAD = 25
NURSE = Principal("nurse", Role.NURSE)

_OTHER_PROCESS = """
import sys
from backend.bootstrap import build_app
from backend.config import Settings
from backend.domain.models import Role
from backend.services.access import Principal
from backend.services.patients import PatientInput, register_patient
app = build_app(Settings(data_dir=sys.argv[1], store="sqlite", blobs="local", queue="sqlite"))
for i in range(int(sys.argv[2])):
    register_patient(app.stores, Principal("proc", Role.NURSE), PatientInput(name=f"Process Patient {i}"))
"""


def test_eight_threads_lose_no_write(tmp_path: Path) -> None:
    app = build_app(Settings(data_dir=tmp_path, store="sqlite", blobs="local", queue="sqlite"))
    shared = register_patient(app.stores, NURSE, PatientInput(name="Shared Patient")).patient
    note = app.stores.notes.add(Note(patient_id=shared.patient_id, sections={"subjective": ""}))
    errors: list[BaseException] = []
    created: list[str] = []
    conflicts = [0]
    lock = threading.Lock()
    start = threading.Barrier(THREADS + 1)

    def edit_shared_note(tag: str) -> None:
        while True:  # the user reloads and applies the edit again
            current = app.stores.notes.get(note.patient_id, note.timestamp)
            plan = current.sections.get("plan", "")
            try:
                save_draft(app.stores, NURSE, current, {**current.sections, "plan": f"{plan}\n{tag}".strip()})
                return
            except ConcurrentUpdate:
                with lock:
                    conflicts[0] += 1

    def bump_shared_patient() -> None:
        while True:
            current = app.stores.patients.get(shared.patient_id)
            try:
                update_patient(app.stores, NURSE, shared.patient_id, current.version, PatientInput(name=current.name))
                return
            except ConcurrentUpdate:
                with lock:
                    conflicts[0] += 1

    def work(t: int) -> None:
        try:
            start.wait()
            for i in range(PER_THREAD):
                reg = register_patient(
                    app.stores, NURSE, PatientInput(name=f"Thread{t} Patient{i}", phone=f"98{t:02d}{i:06d}")
                )
                own = app.stores.notes.add(
                    Note(patient_id=reg.patient.patient_id, sections={"subjective": f"t{t} i{i}"})
                )
                save_draft(app.stores, NURSE, own, {"subjective": f"t{t} i{i} edited", "plan": "review"})
                edit_shared_note(f"t{t}-{i}")
                bump_shared_patient()
                with lock:
                    created.append(reg.patient.patient_id)
        except BaseException as e:
            errors.append(e)

    other = subprocess.Popen(
        [sys.executable, "-c", _OTHER_PROCESS, str(tmp_path), "40"],
        cwd=ROOT,
        env=dict(os.environ),
        stderr=subprocess.PIPE,
    )
    threads = [threading.Thread(target=work, args=(t,)) for t in range(THREADS)]
    for th in threads:
        th.start()
    start.wait()
    for th in threads:
        th.join(timeout=240)
    _, err = other.communicate(timeout=120)

    assert errors == [], [repr(e) for e in errors]  # no "database is locked", no StoreUnavailable
    assert other.returncode == 0, err.decode()[-2000:]
    assert len(created) == THREADS * PER_THREAD
    # Every write is there.
    for pid in created:
        patient = get_patient(app.stores, NURSE, pid)
        notes = app.stores.notes.list_for_patient(pid).items
        assert len(notes) == 1 and notes[0].sections["subjective"].endswith("edited") and notes[0].version == 2, patient
    final = app.stores.notes.get(note.patient_id, note.timestamp)
    lines = final.sections["plan"].splitlines()
    assert sorted(lines) == sorted(f"t{t}-{i}" for t in range(THREADS) for i in range(PER_THREAD))  # no edit lost
    assert final.version == 1 + THREADS * PER_THREAD
    assert app.stores.patients.get(shared.patient_id).version == 1 + THREADS * PER_THREAD
    with sqlite3.connect(tmp_path / "copilot.sqlite3") as conn:
        assert conn.execute("SELECT COUNT(*) FROM patients").fetchone()[0] == 1 + THREADS * PER_THREAD + 40
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        creates = conn.execute(
            "SELECT COUNT(*) FROM audit_log WHERE json_extract(body, '$.action') = 'patient.create'"
        ).fetchone()[0]
    assert creates == 1 + THREADS * PER_THREAD + 40  # one audit line per registration, none lost
    print(f"optimistic-concurrency conflicts retried: {conflicts[0]}")
