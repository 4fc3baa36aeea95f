"""The app's Ask index cache carries the clinic's zone (``COPILOT_TIMEZONE``), so Ask cites the clinic's days.

A real SQLite store built by bootstrap; the note is signed at 00:30 in Kolkata (19:00 UTC the day before).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from backend.domain.models import Note, NoteStatus, Patient, Role
from backend.services.access import Principal
from backend.services.ask import ask
from tests.helpers.recordings import local_app

KOLKATA = ZoneInfo("Asia/Kolkata")
SIGNED = int(datetime(2026, 3, 9, 0, 30, tzinfo=KOLKATA).timestamp() * 1000)
PID = "PAT_0000aaaa"


def test_the_apps_ask_cache_cites_notes_on_the_clinics_day(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COPILOT_TIMEZONE", "Asia/Kolkata")
    app = local_app(tmp_path, monkeypatch)
    assert app.ask_cache().tz == KOLKATA
    app.stores.patients.add(Patient(patient_id=PID, name="Ram Kumar"))
    app.stores.notes.add(
        Note(
            patient_id=PID,
            timestamp=SIGNED,
            status=NoteStatus.SIGNED,
            sections={"plan": "Review the fever in two days."},
            updated_at=SIGNED,
        )
    )
    answer = ask(app.stores, Principal("dr", Role.DOCTOR), PID, "fever review", cache=app.ask_cache())
    assert [c.label for c in answer.citations] == ["Note 2026-03-09, plan"]
