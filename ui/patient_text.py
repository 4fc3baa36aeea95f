"""A patient as a nurse tells them apart in a list: name, age and sex, a phone number grouped for reading, the ID."""

from __future__ import annotations

from datetime import date

import phonenumbers

from backend.domain.document_identity import age_on
from backend.domain.models import Patient


def phone_text(phone: str | None) -> str:
    """``+919853464097`` -> ``+91 98534 64097`` (stored E.164, shown as the country writes it); as stored if unparsable."""
    if not phone:
        return "no phone"
    try:
        parsed = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return phone
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def age_sex(p: Patient, today: date) -> str:
    """``66 y, male`` (what is not recorded is left out; empty if neither is)."""
    try:
        age = f"{age_on(date.fromisoformat(p.dob), today)} y" if p.dob else ""
    except ValueError:
        age = ""
    return ", ".join(x for x in (age, p.sex or "") if x)


def patient_label(p: Patient, today: date) -> str:
    """``Ram Kumar · 66 y, male · +91 98534 64097 · PAT_de000001`` (what is not recorded is left out)."""
    return " · ".join(x for x in (p.name, age_sex(p, today), phone_text(p.phone), p.patient_id) if x)
