"""ABHA number and address: accepted forms, the stored form, and messages that say what is wrong."""

from __future__ import annotations

import pytest

from backend.domain.abha import abha_digits, clean_abha_address, clean_abha_number
from backend.domain.errors import ValidationFailed
from backend.domain.models import Role
from backend.ports import RecordStore
from backend.services.access import Principal
from backend.services.patients import PatientInput, register_patient, update_patient


@pytest.mark.parametrize("typed", ["91-1234-5678-9012", "91123456789012", " 91 1234 5678 9012 ", "91-12345678-9012"])
def test_abha_number_is_stored_in_the_2_4_4_4_form(typed: str) -> None:
    assert clean_abha_number(typed) == "91-1234-5678-9012"
    assert abha_digits("91-1234-5678-9012") == "91123456789012"


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("91-1234-5678-901", "13 digits"),
        ("91-1234-5678-90123", "15 digits"),
        ("91-1234-5678-901O", "other than digits"),  # letter O for zero
        ("٩١١٢٣٤٥٦٧٨٩٠١٢", "other than digits"),  # non-ASCII digits are not an ABHA number
        ("asha@abdm", "other than digits"),  # an address typed into the number field
    ],
)
def test_a_wrong_abha_number_is_refused_with_a_clear_message(typed: str, says: str) -> None:
    with pytest.raises(ValidationFailed, match=says):
        clean_abha_number(typed)


@pytest.mark.parametrize("empty", [None, "", "   "])
def test_an_empty_abha_field_is_no_abha(empty: str | None) -> None:
    assert clean_abha_number(empty) is None
    assert clean_abha_address(empty) is None


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Asha.Devi@ABDM", "asha.devi@abdm"),
        ("ravi1990@sbx", "ravi1990@sbx"),
        ("91123456789012@abdm", "91123456789012@abdm"),  # the default address of an ABHA number
    ],
)
def test_abha_address_is_stored_in_lower_case(typed: str, stored: str) -> None:
    assert clean_abha_address(typed) == stored


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("asha.devi", "looks like name@abdm"),
        ("asha.devi@gmail.com", "end in @abdm"),
        ("asha@ndhm", "end in @abdm"),
        ("1asha@abdm", "begins with a letter"),
        ("asha.@abdm", "does not end with a dot"),
        ("ab@abdm", "at least 4"),
        ("asha_devi@abdm", "letters, digits or dots"),
        ("a" * 70 + "@abdm", "limit is 64"),
    ],
)
def test_a_wrong_abha_address_is_refused_with_a_clear_message(typed: str, says: str) -> None:
    with pytest.raises(ValidationFailed, match=says):
        clean_abha_address(typed)


def test_abha_fields_are_validated_on_entry_stored_and_kept_on_edit(stores: RecordStore) -> None:
    nurse = Principal("asha", Role.NURSE)
    data = PatientInput(name="Asha Devi", abha_number="91 1234 5678 9012", abha_address="Asha.Devi@abdm")
    patient = register_patient(stores, nurse, data).patient
    stored = stores.patients.get(patient.patient_id)
    assert (stored.abha_number, stored.abha_address) == ("91-1234-5678-9012", "asha.devi@abdm")
    with pytest.raises(ValidationFailed, match="13 digits"):
        register_patient(stores, nurse, PatientInput(name="Ravi", abha_number="91-1234-5678-901"))
    assert stores.patients.count() == 1  # nothing stored for the refused one
    edited = PatientInput(name="Asha Devi", abha_number=stored.abha_number, abha_address="asha.devi@sbx")
    saved = update_patient(stores, nurse, stored.patient_id, stored.version, edited)
    assert stores.patients.get(saved.patient_id).abha_address == "asha.devi@sbx"
