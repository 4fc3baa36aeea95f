"""The clinic-day bench reads the timeline as the page does: in the clinic's zone (``COPILOT_TIMEZONE``).

A real SQLite store built by bootstrap; the visit is at 23:30 on 8 March in Los Angeles (07:30 UTC on the 9th).
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from backend.bench.clinic_day import page_reads
from backend.domain.models import HistoryEntry, Medication, Note, NoteStatus, Patient, Role
from backend.services.access import Principal
from tests.helpers.clinic_time import at_ms
from tests.helpers.recordings import local_app

PID = "PAT_0000aaaa"
DOCTOR = Principal("dr", Role.DOCTOR)


@pytest.mark.parametrize(("zone", "visit_day"), [("America/Los_Angeles", "2026-03-08"), ("UTC", "2026-03-09")])
def test_the_bench_reads_medication_changes_and_upload_days_on_the_clinics_calendar(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, zone: str, visit_day: str
) -> None:
    monkeypatch.setenv("COPILOT_TIMEZONE", zone)
    app = local_app(tmp_path, monkeypatch)
    visit = at_ms("2026-03-08T23:30", ZoneInfo("America/Los_Angeles"))  # the same instant in both runs
    app.stores.patients.add(Patient(patient_id=PID, name="Ram Kumar"))
    metformin = Medication(name="metformin", strength="500 mg", status="started", verified=True)
    app.stores.notes.add(
        Note(
            patient_id=PID,
            timestamp=visit,
            status=NoteStatus.SIGNED,
            sections={"plan": "Metformin 500 mg twice daily."},
            medications=[metformin],
            updated_at=visit,
        )
    )
    app.stores.history.add(
        HistoryEntry(
            patient_id=PID,
            timestamp=visit + 60_000,
            document_key="blob-1",
            document_date="2026-02-01",
            medications=[Medication(name="amlodipine", strength="5 mg", verified=True)],
        )
    )
    read = page_reads(app, "timeline", DOCTOR, PID)
    (met,) = [m for m in read["medications"] if m.name == "metformin"]
    assert met.changes == [f"started on {visit_day}"]
    (doc,) = [i for i in read["timeline"].items if i.kind == "document"]
    assert doc.title.endswith(f"dated 2026-02-01, uploaded {visit_day}")
