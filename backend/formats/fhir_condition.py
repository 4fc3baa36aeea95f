"""A diagnosis of a signed note as a FHIR Condition: its ICD-10 coding and the resource both exports share.

The R4 collection and the ABDM documents must say the same thing about a diagnosis (which code, whether a
clinician confirmed it, how sure the note is), so the coding rule and the resource's common elements live here;
each export adds its own elements (ABDM's profile ``meta``, R4's evidence link and recorder).
"""

from __future__ import annotations

from typing import Any

from backend.domain import icd10
from backend.domain.models import Note
from backend.domain.note_content import Diagnosis
from backend.formats.fhir_bundle import instant

CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"


def condition_coding(d: Diagnosis) -> tuple[dict[str, Any], list[dict[str, str]], str]:
    """The Condition's ``code``, its notes and its ``verificationStatus`` code for a diagnosis.

    A code a clinician confirmed or picked is ``userSelected`` true; a code only looked up from the words is
    ``userSelected`` false with a note saying so, and the condition is not "confirmed" on the strength of it. A
    clinician's "no code" exports the text alone.
    """
    code: dict[str, Any] = {"text": d.text}
    notes: list[dict[str, str]] = []
    found = icd10.code_of(d)
    if found.code is not None:
        selected = found.status == "confirmed"
        code["coding"] = [
            {"system": icd10.SYSTEM, "code": found.code, "display": found.title, "userSelected": selected}
        ]
        if not selected:
            notes.append({"text": f"ICD-10 {found.code} suggested from the text; not confirmed by a clinician."})
    elif found.status == "no_code":
        notes.append({"text": "No ICD-10 code: the clinician found none that fits."})
    if d.certainty == "possible" or d.unverified:
        status = "provisional"
    else:
        # A stated diagnosis whose code the clinician confirmed is confirmed; otherwise nobody checked it yet.
        status = "confirmed" if found.status == "confirmed" else "unconfirmed"
    return code, notes, status


def condition_resource(
    note: Note, d: Diagnosis, subject: dict[str, str], resource_id: str, meta: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The encounter-diagnosis Condition of ``d`` in ``note``, with its notes last (the caller adds its own).

    Args:
        resource_id: the Condition's id (each export names its resources in its own id space).
        meta: the resource's ``meta`` (an ABDM profile), placed after the id as FHIR writes it.
    """
    code, notes, status = condition_coding(d)
    res: dict[str, Any] = {"resourceType": "Condition", "id": resource_id}
    if meta is not None:
        res["meta"] = meta
    res |= {
        "clinicalStatus": {"coding": [{"system": CONDITION_CLINICAL, "code": "active"}]},
        "verificationStatus": {"coding": [{"system": CONDITION_VERIFICATION, "code": status}]},
        "category": [{"coding": [{"system": CONDITION_CATEGORY, "code": "encounter-diagnosis"}]}],
        "code": code,
        "subject": subject,
        "recordedDate": instant(note.signed_at or note.timestamp),
    }
    if notes:
        res["note"] = notes
    return res
