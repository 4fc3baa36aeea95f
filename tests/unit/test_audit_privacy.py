"""The audit trail (which admins read) says what happened, never the clinical text; the operator is unmistakable."""

from __future__ import annotations

import pytest

from backend.domain.errors import ValidationFailed
from backend.domain.models import Medication, Note, NoteStatus, Patient, Role
from backend.ports import RecordStore
from backend.services import auth
from backend.services.access import OPERATOR, Principal, record
from backend.services.ask import ask, search_by_medication_or_diagnosis
from backend.services.metrics import import_metrics
from tests.fakes.blobs import FakeBlobs

DOCTOR = Principal("dr", Role.DOCTOR)
NURSE = Principal("asha", Role.NURSE)
ADMIN = Principal("boss", Role.ADMIN)
A, B = "PAT_0000aaaa", "PAT_0000bbbb"
T0 = 1_709_251_200_000
# Words of the questions, search terms and records below that must never reach the audit trail.
CLINICAL = ("hiv", "antiretroviral", "tenofovir", "viral load", "depression", "ram kumar")


def _seed(stores: RecordStore) -> None:
    stores.patients.add(Patient(patient_id=A, name="Ram Kumar"))
    stores.patients.add(Patient(patient_id=B, name="Sita Devi"))
    stores.notes.add(
        Note(
            patient_id=A,
            timestamp=T0,
            status=NoteStatus.SIGNED,
            sections={"assessment": "HIV infection, viral load undetectable.", "plan": "Continue tenofovir daily."},
            medications=[Medication(name="tenofovir", strength="300 mg", verified=True)],
        )
    )


def _details(stores: RecordStore) -> str:
    return " | ".join(f"{e.action} {e.detail}" for e in stores.audit.query(limit=500).items).lower()


def test_ask_logs_counts_and_citations_not_the_question(stores: RecordStore) -> None:
    _seed(stores)
    answer = ask(stores, DOCTOR, A, "Is his HIV viral load suppressed on tenofovir?")
    assert answer.citations
    event = stores.audit.query(patient_id=A).items[0]
    assert event.action == "ask"
    assert "question_chars=46" in event.detail and "cited=note:" in event.detail
    assert not [w for w in CLINICAL if w in _details(stores)]


def test_search_logs_which_patients_were_shown_not_the_term(stores: RecordStore) -> None:
    _seed(stores)
    found = search_by_medication_or_diagnosis(stores, DOCTOR, "HIV")
    assert [m.patient.patient_id for m in found] == [A]
    events = stores.audit.query(limit=50).items
    summary = next(e for e in events if e.action == "search.cross_patient")
    matches = [e for e in events if e.action == "search.match"]
    assert "term_chars=3" in summary.detail and "patients=1" in summary.detail
    assert [e.patient_id for e in matches] == [A]  # who was shown to whom stays auditable
    search_id = summary.detail.split()[0]
    assert search_id.startswith("search=") and all(e.detail.startswith(search_id + " ") for e in matches)
    assert "hiv" not in _details(stores)


def test_health_data_import_logs_the_file_type_not_its_name(stores: RecordStore) -> None:
    _seed(stores)
    data = b"patient_id,timestamp,metric,value,unit\n" + f"{A},2024-03-01T01:00:00+05:30,heart_rate,58,bpm\n".encode()
    import_metrics(NURSE, stores, FakeBlobs(), A, data, "ram kumar depression clinic.csv", tz="Asia/Kolkata")  # type: ignore[arg-type]
    event = next(e for e in stores.audit.query(patient_id=A).items if e.action == "metrics.import")
    assert event.detail.startswith(f"csv {len(data)} bytes: ")
    assert not [w for w in CLINICAL if w in _details(stores)]


@pytest.mark.parametrize("name", ["cli", "CLI", " system ", "operator", "command-line", "unknown"])
def test_names_an_audit_reader_would_take_for_the_system_are_reserved(stores: RecordStore, name: str) -> None:
    with pytest.raises(ValidationFailed, match="reserved"):
        auth.add_user(stores, name, "a-long-password", Role.DOCTOR)
    auth.add_user(stores, "boss", "a-long-password", Role.ADMIN)
    with pytest.raises(ValidationFailed, match="reserved"):
        auth.create_user(stores, ADMIN, name, "a-long-password", Role.DOCTOR)
    assert [u.username for u in stores.users.list_all()] == ["boss"]


def test_operator_actions_carry_their_own_actor_and_role(stores: RecordStore) -> None:
    record(stores.audit, Principal(OPERATOR, Role.DOCTOR), "export.fhir", A)
    record(stores.audit, DOCTOR, "export.fhir", A)
    operator, doctor = reversed(stores.audit.query(patient_id=A).items)
    assert (operator.actor, operator.role) == ("(command line)", "operator")
    assert (doctor.actor, doctor.role) == ("dr", "doctor")
    with pytest.raises(ValidationFailed):
        auth.check_username(OPERATOR)  # parentheses never make a username
