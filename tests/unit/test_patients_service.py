"""Registering, searching and editing patients; bad input stores nothing."""

from __future__ import annotations

import pytest

from backend.domain.errors import ConcurrentUpdate, PermissionDenied, ValidationFailed
from backend.domain.models import Role
from backend.ports import RecordStore
from backend.services.access import Principal
from backend.services.patients import PatientInput, get_patient, register_patient, search_patients, update_patient

NURSE = Principal("asha", Role.NURSE)
ADMIN = Principal("root", Role.ADMIN)


def test_register_normalises_phone_and_audits(stores: RecordStore) -> None:
    reg = register_patient(
        stores, NURSE, PatientInput(name="  Ram   Kumar ", phone="098765 43210", dob="1980-02-03", sex="Male")
    )
    p = reg.patient
    assert p.patient_id.startswith("PAT_") and len(p.patient_id) == 12
    assert p.name == "Ram Kumar" and p.phone == "+919876543210" and p.sex == "male"
    events = stores.audit.query(patient_id=p.patient_id).items
    assert [e.action for e in events] == ["patient.create"] and events[0].actor == "asha"


def test_duplicate_phone_is_a_warning_not_an_error(stores: RecordStore) -> None:
    first = register_patient(stores, NURSE, PatientInput(name="Sita Devi", phone="+91 98765 43210")).patient
    second = register_patient(stores, NURSE, PatientInput(name="Gita Devi", phone="9876543210"))
    assert [p.patient_id for p in second.same_phone] == [first.patient_id]
    assert stores.patients.count() == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (PatientInput(name=""), "Enter the patient's name"),
        (PatientInput(name="x" * 10_000), "10,000 characters"),
        (PatientInput(name="Ram", phone="12345"), "not a valid phone number"),
        (PatientInput(name="Ram", phone="call me maybe"), "not a phone number"),
        (PatientInput(name="Ram", dob="2999-01-01"), "in the future"),
        (PatientInput(name="Ram", dob="03/02/1980"), "YYYY-MM-DD"),
        (PatientInput(name="Ram\u0000Kumar"), "control characters"),
        (PatientInput(name="12345"), "must contain letters"),
    ],
)
def test_bad_input_is_rejected_and_nothing_stored(stores: RecordStore, data: PatientInput, message: str) -> None:
    with pytest.raises(ValidationFailed, match=message):
        register_patient(stores, NURSE, data)
    assert stores.patients.count() == 0
    assert stores.audit.query().items == []


def test_script_and_sql_text_is_stored_verbatim_not_executed(stores: RecordStore) -> None:
    name = "<script>alert(1)</script> Robert'); DROP TABLE patients;--"
    p = register_patient(stores, NURSE, PatientInput(name=name)).patient
    assert get_patient(stores, NURSE, p.patient_id).name == name
    assert [x.patient_id for x in search_patients(stores, NURSE, "robert drop")] == [p.patient_id]


def test_search_by_name_prefix_phone_and_id(stores: RecordStore) -> None:
    ram = register_patient(stores, NURSE, PatientInput(name="Ram Kumar", phone="9876543210")).patient
    register_patient(stores, NURSE, PatientInput(name="Ramesh Iyer"))
    register_patient(stores, NURSE, PatientInput(name="Sita Kumari"))
    assert {p.name for p in search_patients(stores, NURSE, "ram")} == {"Ram Kumar", "Ramesh Iyer"}
    assert [p.name for p in search_patients(stores, NURSE, "kum ra")] == ["Ram Kumar"]
    assert [p.patient_id for p in search_patients(stores, NURSE, "+91 98765-43210")] == [ram.patient_id]
    assert [p.patient_id for p in search_patients(stores, NURSE, ram.patient_id)] == [ram.patient_id]
    assert search_patients(stores, NURSE, "umar") == []  # word prefixes, not substrings


def test_stale_edit_is_refused_and_nothing_overwritten(stores: RecordStore) -> None:
    p = register_patient(stores, NURSE, PatientInput(name="Ram Kumar")).patient
    update_patient(stores, NURSE, p.patient_id, p.version, PatientInput(name="Ram K. Kumar"))
    with pytest.raises(ConcurrentUpdate, match="changed by someone else"):
        update_patient(stores, NURSE, p.patient_id, p.version, PatientInput(name="Other Name"))
    assert stores.patients.get(p.patient_id).name == "Ram K. Kumar"


def test_admin_cannot_read_or_register_patients(stores: RecordStore) -> None:
    with pytest.raises(PermissionDenied):
        register_patient(stores, ADMIN, PatientInput(name="Ram"))
    with pytest.raises(PermissionDenied):
        search_patients(stores, ADMIN, "ram")
