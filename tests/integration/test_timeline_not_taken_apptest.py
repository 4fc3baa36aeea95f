"""The Timeline's "Active medications" tab lists only what is taken now; stopped and declined drugs have a table
of their own, and a dose nobody recorded is blank (AppTest over the real page, SQLite store)."""

from __future__ import annotations

from backend.bootstrap import App
from backend.domain.models import Medication, Note, NoteStatus, Patient, Role
from backend.services.access import Principal
from tests.helpers.apptest import app_fixture, open_page

app = app_fixture("timeline-not-taken", users={"doctor": Role.DOCTOR})
PID = "PAT_0000b701"


def test_stopped_and_declined_drugs_are_not_in_the_active_table(app: App) -> None:
    app.stores.patients.add(Patient(patient_id=PID, name="Not Taken"))
    meds = [
        Medication(name="metformin", strength="500 mg", frequency="twice daily", verified=True),
        Medication(name="atorvastatin", status="declined", status_reason="prefers diet first", verified=True),
        Medication(name="simvastatin", status="stopped", verified=True),
    ]
    app.stores.notes.add(
        Note(patient_id=PID, timestamp=1_709_251_200_000, status=NoteStatus.SIGNED, signer="doctor", medications=meds)
    )
    at = open_page("timeline", Principal("doctor", Role.DOCTOR), PID)
    active, not_taken = (d.value for d in at.dataframe[:2])
    assert list(active["medication"]) == ["metformin"]
    # The tab says "active" and no source disagrees: neither column is shown (they overflowed a phone's width).
    assert "status" not in active.columns and "conflict" not in active.columns
    assert sorted(not_taken["medication"]) == ["atorvastatin", "simvastatin"]
    declined = not_taken[not_taken["medication"] == "atorvastatin"].iloc[0]
    assert declined["status"] == "declined — prefers diet first"
    assert (declined["strength"], declined["frequency"]) == ("", "")  # blank, never "None"
    assert any(m.value.startswith("**Not taken now** (stopped or declined) · 2 medications") for m in at.markdown)
