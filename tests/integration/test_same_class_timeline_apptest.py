"""The timeline's medication list warns about two active drugs of one class, naming both sources (AppTest, SQLite)."""

from __future__ import annotations

from backend.bootstrap import App
from backend.domain.models import HistoryEntry, Medication, Note, NoteStatus, Patient, Role
from backend.services.access import Principal
from tests.helpers.apptest import app_fixture, open_page

PATIENT = "PAT_0000dddd"
T0 = 1_709_251_200_000  # 2024-03-01


app = app_fixture("same-class-apptest", users={"doctor": Role.DOCTOR})


def test_two_arbs_show_one_warning_with_both_sources(app: App) -> None:
    app.stores.patients.add(Patient(patient_id=PATIENT, name="Same Class"))
    app.stores.notes.add(
        Note(
            patient_id=PATIENT,
            timestamp=T0,
            status=NoteStatus.SIGNED,
            medications=[Medication(name="telmisartan", strength="40 mg", verified=True)],
        )
    )
    app.stores.history.add(
        HistoryEntry(
            patient_id=PATIENT,
            timestamp=T0 + 86_400_000,
            medications=[Medication(name="losartan", strength="50 mg", verified=True)],
        )
    )
    at = open_page("timeline", Principal("doctor", Role.DOCTOR), PATIENT)
    warnings = [w.value.replace("\\", "") for w in at.warning if "ARB" in w.value]  # shown markdown-escaped
    assert len(warnings) == 1
    assert "losartan (document 2024" in warnings[0] and "telmisartan (note 2024-03-01)" in warnings[0]
