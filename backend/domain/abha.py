"""ABHA (Ayushman Bharat Health Account) identifiers of a patient: the ABHA number and the ABHA address (pure).

The ABHA number has 14 digits, shown as ``91-1234-5678-9012`` (2-4-4-4). ABDM publishes no check-digit rule
for it (unlike Aadhaar's Verhoeff digit), so only the form is checked; whether the number exists is for the
ABDM gateway to say. The ABHA address is ``name@abdm`` (``@sbx`` in the ABDM sandbox) by ABDM's address
policy: letters, digits and dots, at least 4 characters, not beginning with a digit or beginning or ending
with a dot; the 14-digit default address ``<ABHA number>@abdm`` is the one all-digit form allowed.
"""

from __future__ import annotations

import re

from backend.domain.errors import ValidationFailed

# The NDHM health-ID namespace the NRCeS examples use for a patient's ABHA identifiers.
ABHA_NUMBER_SYSTEM = "https://healthid.ndhm.gov.in"
ABHA_ADDRESS_SYSTEM = ABHA_NUMBER_SYSTEM  # no separate NRCeS URI found; told apart by the identifier type
ADDRESS_DOMAINS = ("abdm", "sbx")
_MAX_ADDRESS = 64  # our limit against pasted garbage; ABDM's policy gives a minimum only
_NAME = re.compile(r"^[a-z][a-z0-9.]{3,}$")


def clean_abha_number(value: str | None) -> str | None:
    """The ABHA number as ``91-1234-5678-9012``, or None when empty.

    Spaces and hyphens anywhere are accepted ("91 1234 5678 9012", "91123456789012").

    Raises:
        ValidationFailed: not 14 digits.
    """
    if value is None or not value.strip():
        return None
    raw = value.strip()
    digits = re.sub(r"[\s-]", "", raw)
    if not digits.isdigit() or not digits.isascii():
        raise ValidationFailed(f"The ABHA number {raw[:40]!r} has characters other than digits: it is 14 digits.")
    if len(digits) != 14:
        raise ValidationFailed(f"The ABHA number has {len(digits)} digits; it has 14, written like 91-1234-5678-9012.")
    return f"{digits[:2]}-{digits[2:6]}-{digits[6:10]}-{digits[10:]}"


def abha_digits(number: str) -> str:
    """The 14 digits of a cleaned ABHA number (``91-1234-5678-9012`` -> ``91123456789012``)."""
    return number.replace("-", "")


def clean_abha_address(value: str | None) -> str | None:
    """The ABHA address in lower case (``asha.devi@abdm``), or None when empty.

    Raises:
        ValidationFailed: not ``name@abdm`` / ``name@sbx`` with a name ABDM's address policy allows.
    """
    if value is None or not value.strip():
        return None
    raw = value.strip()
    address = raw.casefold()
    if len(address) > _MAX_ADDRESS:
        raise ValidationFailed(f"The ABHA address is {len(address)} characters long; the limit is {_MAX_ADDRESS}.")
    name, at, domain = address.rpartition("@")
    if not at or not name:
        raise ValidationFailed(f"{raw!r} is not an ABHA address: it looks like name@abdm.")
    if domain not in ADDRESS_DOMAINS:
        raise ValidationFailed(
            f"The ABHA address {raw!r} ends in @{domain}; ABHA addresses end in @abdm (or @sbx in the ABDM sandbox)."
        )
    if name.isdigit() and len(name) == 14:
        return address  # the default address of an ABHA number
    if not _NAME.match(name) or name.endswith(".") or ".." in name:
        raise ValidationFailed(
            f"The ABHA address {raw!r} is not valid: before the @ it has at least 4 letters, digits or dots, "
            "begins with a letter and does not end with a dot."
        )
    return address
