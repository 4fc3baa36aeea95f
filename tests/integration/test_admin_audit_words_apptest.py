"""The Admin page's audit trail says what happened in words beside the action's code (AppTest, SQLite store)."""

from __future__ import annotations

from backend.bootstrap import App
from backend.domain.models import Patient, Role
from backend.services.access import Principal
from backend.services.patients import get_patient
from tests.helpers.apptest import app_fixture, open_page

app = app_fixture("admin-audit-words", users={"doctor": Role.DOCTOR})


def test_each_audit_line_says_what_happened_in_words(app: App) -> None:
    doctor = Principal("doctor", Role.DOCTOR)
    app.stores.patients.add(Patient(patient_id="PAT_0000b801", name="Audit Words"))
    get_patient(app.stores, doctor, "PAT_0000b801")  # audited as patient.read
    at = open_page("admin", doctor)
    table = next(d.value for d in at.dataframe if "action" in d.value.columns)
    row = table[table["action"] == "patient.read"].iloc[0]
    assert row["what"] == "opened a patient"
    assert list(table.columns).index("what") < list(table.columns).index("action")
