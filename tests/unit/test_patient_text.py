"""A patient in a list is told apart by name, age and sex and a readable phone number, not only by an ID."""

from __future__ import annotations

from datetime import date

from backend.domain.models import Patient
from ui.patient_text import patient_label, phone_text


def test_a_phone_number_is_grouped_as_its_country_writes_it() -> None:
    assert phone_text("+919853464097") == "+91 98534 64097"
    assert phone_text("+14155550123") == "+1 415-555-0123"
    assert phone_text(None) == "no phone"
    assert phone_text("12") == "12"  # not a number the library reads: shown as stored


def test_the_label_has_age_on_the_day_given_and_leaves_out_what_is_not_recorded() -> None:
    p = Patient(patient_id="PAT_de000001", name="Ram Kumar", dob="1960-03-09", sex="male", phone="+919853464097")
    assert patient_label(p, date(2026, 3, 8)) == "Ram Kumar · 65 y, male · +91 98534 64097 · PAT_de000001"
    assert patient_label(p, date(2026, 3, 9)).startswith("Ram Kumar · 66 y, male")  # the birthday itself
    bare = Patient(patient_id="PAT_de000002", name="Sita Devi", dob="not a date")
    assert patient_label(bare, date(2026, 3, 9)) == "Sita Devi · no phone · PAT_de000002"
