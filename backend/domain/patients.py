"""Rules for patient demographics: validation and normalisation (pure)."""

from __future__ import annotations

import re
import secrets
import unicodedata
from datetime import date

import phonenumbers

from backend.domain.errors import ValidationFailed

MAX_NAME = 120
SEXES = ("female", "male", "other")
_ID = re.compile(r"^PAT_[0-9a-f]{8}$")


def new_patient_id() -> str:
    """``PAT_`` + 8 random hex digits; the store's conditional insert catches the rare collision."""
    return f"PAT_{secrets.token_hex(4)}"


def is_patient_id(value: str) -> bool:
    return bool(_ID.match(value))


def clean_name(name: str) -> str:
    """Trim and collapse spaces; refuse empty, over-long or control-character names."""
    cleaned = " ".join(name.split())
    if not cleaned:
        raise ValidationFailed("Enter the patient's name.")
    if len(cleaned) > MAX_NAME:
        raise ValidationFailed(f"The name is {len(cleaned):,} characters long; the limit is {MAX_NAME}.")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Co", "Cs") for c in cleaned):
        raise ValidationFailed("The name contains invisible control characters; retype it.")
    if not any(c.isalpha() for c in cleaned):
        raise ValidationFailed("The name must contain letters.")
    return cleaned


def normalise_phone(phone: str, region: str = "IN") -> str:
    """Return the E.164 form of ``phone`` or raise with a message that says what is wrong."""
    raw = phone.strip()
    if len(raw) > 32:
        raise ValidationFailed("The phone number is too long.")
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as e:
        raise ValidationFailed(
            f"{raw!r} is not a phone number. Enter digits, e.g. 98765 43210 or +91 98765 43210."
        ) from e
    if not phonenumbers.is_valid_number(parsed):
        raise ValidationFailed(
            f"{raw!r} is not a valid phone number for region {region}. Check the digits, or add the country code (+…)."
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def clean_dob(dob: str | date | None) -> str | None:
    if dob in (None, ""):
        return None
    try:
        value = dob if isinstance(dob, date) else date.fromisoformat(str(dob).strip())
    except ValueError as e:
        raise ValidationFailed("Enter the date of birth as YYYY-MM-DD.") from e
    if value > date.today():
        raise ValidationFailed("The date of birth is in the future.")
    if value.year < 1900:
        raise ValidationFailed("The date of birth is before 1900; check the year.")
    return value.isoformat()


def clean_sex(sex: str | None) -> str | None:
    if not sex:
        return None
    value = sex.strip().lower()
    if value not in SEXES:
        raise ValidationFailed(f"Sex must be one of {', '.join(SEXES)} (or left empty).")
    return value


def clean_external_id(external_id: str | None) -> str | None:
    if not external_id or not external_id.strip():
        return None
    value = external_id.strip()
    if len(value) > 64 or not value.isprintable():
        raise ValidationFailed("The external ID must be at most 64 printable characters.")
    return value
