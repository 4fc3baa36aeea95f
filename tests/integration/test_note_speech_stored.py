"""A note's speech engine survives the real SQLite store, and a body stored before the field existed still opens."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from backend.adapters.records.sqlite import open_sqlite_store
from backend.domain.models import Note, Patient, SpeechEngine

PATIENT = "PAT_0000beef"
STOOD_IN = SpeechEngine(
    engine="whisper-faster-whisper-base", stood_in_for="aws-transcribe-medical", reason="quota exceeded"
)


def test_the_speech_engine_is_stored_with_the_note_and_old_bodies_load_without_it(tmp_path: Path) -> None:
    path = tmp_path / "copilot.sqlite3"
    stores = open_sqlite_store(path)
    stores.patients.add(Patient(patient_id=PATIENT, name="Stored Patient"))
    new = stores.notes.add(Note(patient_id=PATIENT, timestamp=2_000, speech=STOOD_IN))
    old = stores.notes.add(Note(patient_id=PATIENT, timestamp=1_000))
    # The older body as the previous version wrote it: no "speech" key at all.
    with sqlite3.connect(path) as conn:
        (body,) = conn.execute("SELECT body FROM notes WHERE ts = ?", (old.timestamp,)).fetchone()
        row = json.loads(body)
        row.pop("speech")
        conn.execute("UPDATE notes SET body = ? WHERE ts = ?", (json.dumps(row), old.timestamp))

    reopened = open_sqlite_store(path)
    assert reopened.notes.get(PATIENT, new.timestamp).speech == STOOD_IN
    assert reopened.notes.get(PATIENT, old.timestamp).speech is None
    assert [n.speech for n in reopened.notes.list_for_patient(PATIENT).items] == [STOOD_IN, None]
