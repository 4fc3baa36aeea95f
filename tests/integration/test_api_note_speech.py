"""Over HTTP: a note says which speech engine transcribed it, from the field kept with the note."""

from __future__ import annotations

from pathlib import Path

from backend.domain.models import Note, Patient, SpeechEngine
from tests.helpers.api_client import api_harness

PID = "PAT_0000e0e0"


def test_a_note_tells_which_engine_transcribed_it_and_what_it_stood_in_for(tmp_path: Path) -> None:
    h = api_harness(tmp_path, demo=False)
    h.app.stores.patients.add(Patient(patient_id=PID, name="Meena Rao", phone="+919876543211"))
    speech = SpeechEngine(
        engine="whisper-faster-whisper-base", stood_in_for="aws-transcribe-medical", reason="quota exceeded"
    )
    kept = h.app.stores.notes.add(Note(patient_id=PID, timestamp=1_709_251_200_000, author="nurse", speech=speech))
    older = h.app.stores.notes.add(Note(patient_id=PID, timestamp=1_709_251_100_000, author="nurse"))
    doctor = h.auth("doctor")

    body = h.client.get(f"/v1/patients/{PID}/notes/{kept.timestamp}", headers=doctor).json()
    said = body["speech"]
    assert (said["engine"], said["stood_in_for"], said["reason"], said["low_accuracy"]) == (
        "whisper-faster-whisper-base",
        "aws-transcribe-medical",
        "quota exceeded",
        False,
    )
    assert "Whisper" in said["summary"] and "quota exceeded" in said["summary"]
    assert h.client.get(f"/v1/patients/{PID}/notes/{older.timestamp}", headers=doctor).json()["speech"] is None
