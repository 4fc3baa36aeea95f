"""The Ultrahuman account a patient is linked to: an e-mail address, checked before it is stored."""

from __future__ import annotations

import re

from backend.domain.errors import ValidationFailed

MAX_EMAIL = 254  # RFC 5321's limit on a forward path
# One "@", no spaces, a dotted domain whose labels are letters, digits and inner hyphens.
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@(?=.{1,253}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"[A-Za-z]{2,63}$"
)


def clean_account_email(value: str | None) -> str | None:
    """The address as stored (domain lower-cased), or None to unlink (empty input).

    Raises:
        ValidationFailed: not an e-mail address such as ``name@example.com``.
    """
    text = (value or "").strip()
    if not text:
        return None
    if len(text) > MAX_EMAIL or not _EMAIL.fullmatch(text) or ".." in text or text.split("@")[0].endswith("."):
        raise ValidationFailed(
            "The Ultrahuman account must be the e-mail address the patient signs in to Ultrahuman with, "
            "such as name@example.com."
        )
    local, domain = text.split("@")
    return f"{local}@{domain.lower()}"
