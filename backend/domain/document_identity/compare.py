"""Does a document's header agree with the selected patient? Field by field: name, age, sex, phone, ID.

The result is ``match`` (the name, phone or ID agrees and nothing disagrees), ``mismatch`` (some field
disagrees: which, and what the document says), or ``not_stated`` (the document does not say who it is for,
or nothing it says can be checked against the record).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from backend.domain.document_identity.dates import swapped_day
from backend.domain.document_identity.header import DocumentIdentity
from backend.domain.document_identity.names import name_similarity, names_agree
from backend.domain.models import Patient

FieldStatus = Literal["agree", "disagree", "not_stated", "not_recorded"]
Overall = Literal["match", "mismatch", "not_stated"]
AGE_TOLERANCE = 1  # years: a birthday between the visit and the record, or an age written as last birthday
_SEX_LETTER = {"female": "F", "male": "M", "other": "O"}


@dataclass(frozen=True)
class FieldCheck:
    """One field: what the document says, what the record says, and whether they agree."""

    field: str  # name | age | sex | phone | id
    status: FieldStatus
    document: str = ""
    record: str = ""


@dataclass(frozen=True)
class IdentityCheck:
    """The document's identity compared with one patient."""

    status: Overall
    patient_id: str
    identity: DocumentIdentity
    fields: tuple[FieldCheck, ...] = field(default_factory=tuple)
    name_score: float | None = None

    @property
    def disagreeing(self) -> list[str]:
        return [f.field for f in self.fields if f.status == "disagree"]


def age_on(dob: date, day: date) -> int:
    """Age in whole years on ``day``."""
    return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))


def _dob(patient: Patient) -> date | None:
    try:
        return date.fromisoformat(patient.dob) if patient.dob else None
    except ValueError:
        return None


def _check_age(identity: DocumentIdentity, patient: Patient, on: date) -> FieldCheck:
    dob = _dob(patient)
    if identity.dob is not None:
        shown = identity.dob.isoformat()
        if dob is None:
            return FieldCheck("age", "not_recorded", f"born {shown}")
        same = identity.dob == dob or identity.dob == swapped_day(dob)  # a day/month slip of a numeric date
        return FieldCheck("age", "agree" if same else "disagree", f"born {shown}", f"born {dob.isoformat()}")
    if identity.age is None:
        return FieldCheck("age", "not_stated", record=str(age_on(dob, on)) if dob else "")
    if dob is None:
        return FieldCheck("age", "not_recorded", str(identity.age))
    expected = age_on(dob, on)
    status: FieldStatus = "agree" if abs(identity.age - expected) <= AGE_TOLERANCE else "disagree"
    return FieldCheck("age", status, str(identity.age), str(expected))


def _check_simple(name: str, said: str | None, recorded: str | None, same: bool) -> FieldCheck:
    if said is None:
        return FieldCheck(name, "not_stated", record=recorded or "")
    if not recorded:
        return FieldCheck(name, "not_recorded", said)
    return FieldCheck(name, "agree" if same else "disagree", said, recorded)


def _ref_key(value: str) -> str:
    # "UH-0042" == "uh42": case, punctuation and leading zeros of a number are how it was typed, not the ID.
    return re.sub(r"(?<!\d)0+(?=\d)", "", re.sub(r"[^A-Z0-9]", "", value.upper()))


def _check_ref(identity: DocumentIdentity, patient: Patient) -> FieldCheck:
    said = identity.patient_ref
    if said is None:
        return FieldCheck("id", "not_stated", record=patient.external_id or "")
    if _ref_key(said) == _ref_key(patient.patient_id):
        return FieldCheck("id", "agree", said, patient.patient_id)
    if not patient.external_id:
        return FieldCheck("id", "not_recorded", said)
    same = _ref_key(said) == _ref_key(patient.external_id)
    return FieldCheck("id", "agree" if same else "disagree", said, patient.external_id)


def compare_identity(identity: DocumentIdentity, patient: Patient, today: date) -> IdentityCheck:
    """Compare what a document says with the selected patient.

    Args:
        identity: from :func:`read_identity`.
        patient: the patient the clinician selected.
        today: the day the age is computed on when the document has no date of its own.

    Returns:
        An :class:`IdentityCheck`; ``fields`` in the order name, age, sex, phone, id.
    """
    on = identity.date.day if identity.date is not None else today
    score = name_similarity(identity.name, patient.name) if identity.name else None
    name_same = bool(identity.name) and bool(names_agree(identity.name or "", patient.name))
    checks = (
        _check_simple("name", identity.name, patient.name, name_same),
        _check_age(identity, patient, on),
        _check_simple("sex", identity.sex, patient.sex, identity.sex == patient.sex),
        _check_simple("phone", identity.phone, patient.phone, identity.phone == patient.phone),
        _check_ref(identity, patient),
    )
    statuses = {c.field: c.status for c in checks}
    if "disagree" in statuses.values():
        overall: Overall = "mismatch"
    elif "agree" in (statuses["name"], statuses["phone"], statuses["id"]):
        overall = "match"
    else:
        overall = "not_stated"
    return IdentityCheck(overall, patient.patient_id, identity, checks, score)


def describe(identity: DocumentIdentity) -> str:
    """A short line for the clinician: "Kavita Joshi, 52 F" (what the document says)."""
    parts = [identity.name or "no name"]
    age = str(identity.age) if identity.age is not None else ""
    if identity.dob is not None and not age:
        age = f"born {identity.dob.isoformat()}"
    sex = _SEX_LETTER.get(identity.sex or "", "")
    if age or sex:
        parts.append(" ".join(p for p in (age, sex) if p))
    return ", ".join(parts)


def describe_patient(patient: Patient, on: date) -> str:
    """The same short line for the selected patient: "Sita Devi, 34 F"."""
    dob = _dob(patient)
    age = str(age_on(dob, on)) if dob else ""
    sex = _SEX_LETTER.get(patient.sex or "", "")
    tail = " ".join(p for p in (age, sex) if p)
    return f"{patient.name}, {tail}" if tail else patient.name
