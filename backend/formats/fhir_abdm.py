"""ABDM document bundles of one signed note, shaped by the NRCeS FHIR IG for ABDM (OPConsultRecord, PrescriptionRecord).

A ``document`` Bundle (profile ``DocumentBundle``: meta.versionId, identifier with system and value, timestamp)
whose first entry is the Composition (the record's profile, its SNOMED CT type, subject, encounter, date, author,
title, sections), then the Patient (with ABHA identifiers when known), the Practitioner who signed, the
Encounter, a Condition per diagnosis (its WHO ICD-10 code as the clinician confirmed or picked it, ``userSelected``
true; or only suggested from the text, ``userSelected`` false and ``verificationStatus`` not "confirmed"), a
MedicationRequest per medication (a declined one: a MedicationStatement "not-taken" with its reason, in the
consultation only, as nothing is prescribed) and, for the consultation, a DocumentReference with the note's text. References are ``urn:uuid:`` full URLs inside the bundle. Checked with
``fhir.resources`` R4B (structure and cardinality of base R4; the NRCeS profiles' own minimums are tested
separately, as no Python validator reads the IG).
"""

from __future__ import annotations

import base64
import html
import uuid
from typing import Any, Literal

from backend.domain import abha
from backend.domain.errors import ValidationFailed
from backend.domain.models import Note, Patient
from backend.domain.note_content import Diagnosis, Medication
from backend.formats.fhir_bundle import instant, validated_bundle
from backend.formats.fhir_condition import CONDITION_CATEGORY, CONDITION_CLINICAL, condition_resource

RecordKind = Literal["OPConsultRecord", "PrescriptionRecord"]
KINDS: tuple[RecordKind, ...] = ("OPConsultRecord", "PrescriptionRecord")
NRCES = "https://nrces.in/ndhm/fhir/r4/StructureDefinition/"
SNOMED = "http://snomed.info/sct"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
BUNDLE_SYSTEM = "urn:clinical-copilot:bundle"
PATIENT_SYSTEM = "urn:clinical-copilot:patient-id"
USER_SYSTEM = "urn:clinical-copilot:user"
NOTE_SYSTEM = "urn:clinical-copilot:note"
# Composition types and titles, as the NRCeS IG fixes them.
RECORD_TYPES: dict[RecordKind, tuple[str, str, str]] = {
    "OPConsultRecord": ("371530004", "Clinical consultation report", "Consultation Report"),
    "PrescriptionRecord": ("440545006", "Prescription record", "Prescription record"),
}
# OPConsultRecord section codes (SNOMED CT) used here.
CHIEF_COMPLAINTS = ("422843007", "Chief complaint section", "Chief complaints")
PHYSICAL_EXAM = ("425044008", "Physical exam section", "Physical examination")
MEDICATIONS = ("721912009", "Medication summary document", "Medications")
FOLLOW_UP = ("736271009", "Outpatient care plan", "Follow up")
DOCUMENT = ("371530004", "Clinical consultation report", "Document Reference")
_NS = uuid.UUID("0d8f3c1e-6a4b-4f0e-9d2a-3b7c5e1f9a80")  # fixed: the same note always gets the same ids


def _uid(*parts: object) -> str:
    return str(uuid.uuid5(_NS, "/".join(str(p) for p in parts)))


def _ref(res: dict[str, Any], display: str | None = None) -> dict[str, str]:
    out = {"reference": f"urn:uuid:{res['id']}"}
    if display:
        out["display"] = display
    return out


def _narrative(text: str) -> dict[str, str]:
    body = "<br/>".join(html.escape(line) for line in text.strip().splitlines()) or "-"
    return {"status": "generated", "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{body}</div>'}


def _meta(profile: str, ms: int) -> dict[str, Any]:
    return {"versionId": "1", "lastUpdated": instant(ms), "profile": [NRCES + profile]}


def abha_identifiers(patient: Patient) -> list[dict[str, Any]]:
    """The patient's ABHA number and address as FHIR identifiers (NDHM health-ID system), when known."""
    out: list[dict[str, Any]] = []
    if patient.abha_number:
        out.append(
            {
                "type": {"coding": [{"system": V2_0203, "code": "MR"}], "text": "ABHA number"},
                "system": abha.ABHA_NUMBER_SYSTEM,
                "value": patient.abha_number,
            }
        )
    if patient.abha_address:
        out.append(
            {"type": {"text": "ABHA address"}, "system": abha.ABHA_ADDRESS_SYSTEM, "value": patient.abha_address}
        )
    return out


def _patient(p: Patient, ms: int) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "Patient",
        "id": _uid(p.patient_id, "patient"),
        "meta": _meta("Patient", ms),
        "identifier": [
            {"type": {"coding": [{"system": V2_0203, "code": "MR"}]}, "system": PATIENT_SYSTEM, "value": p.patient_id},
            *abha_identifiers(p),
        ],
        "name": [{"text": p.name}],
        "gender": p.sex if p.sex in ("female", "male", "other") else "unknown",
    }
    if p.phone:
        res["telecom"] = [{"system": "phone", "value": p.phone, "use": "mobile"}]
    if p.dob:
        res["birthDate"] = p.dob
    return res


def _practitioner(username: str, ms: int) -> dict[str, Any]:
    return {
        "resourceType": "Practitioner",
        "id": _uid("practitioner", username),
        "meta": _meta("Practitioner", ms),
        "identifier": [{"system": USER_SYSTEM, "value": username}],
        "name": [{"text": username}],
    }


def _encounter(note: Note, subject: dict[str, str], ms: int) -> dict[str, Any]:
    return {
        "resourceType": "Encounter",
        "id": _uid(note.patient_id, "encounter", note.timestamp),
        "meta": _meta("Encounter", ms),
        "identifier": [{"system": NOTE_SYSTEM, "value": f"{note.patient_id}/{note.timestamp}"}],
        "status": "finished",
        "class": {"system": ACT_CODE, "code": "AMB", "display": "ambulatory"},
        "subject": subject,
        "period": {"start": instant(note.timestamp), "end": instant(note.signed_at or note.timestamp)},
    }


def _condition(note: Note, d: Diagnosis, subject: dict[str, str], ms: int) -> dict[str, Any]:
    resource_id = _uid(note.patient_id, "condition", note.timestamp, d.text.casefold())
    return condition_resource(note, d, subject, resource_id, _meta("Condition", ms))


def _complaint(note: Note, text: str, subject: dict[str, str], ms: int) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": _uid(note.patient_id, "complaint", note.timestamp),
        "meta": _meta("Condition", ms),
        "clinicalStatus": {"coding": [{"system": CONDITION_CLINICAL, "code": "active"}]},
        "category": [{"coding": [{"system": CONDITION_CATEGORY, "code": "problem-list-item"}]}],
        "code": {"text": text},
        "subject": subject,
    }


def _medication(
    note: Note, i: int, m: Medication, subject: dict[str, str], requester: dict[str, str], ms: int
) -> dict[str, Any]:
    if m.status == "declined":
        return _declined(note, i, m, subject, ms)
    res: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": _uid(note.patient_id, "medreq", note.timestamp, i),
        "meta": _meta("MedicationRequest", ms),
        "status": "stopped" if m.status == "stopped" else "active",
        "intent": "order",
        "medicationCodeableConcept": {"text": m.name},
        "subject": subject,
        "authoredOn": instant(note.signed_at or note.timestamp),
        "requester": requester,
    }
    dose = " ".join(x for x in (m.strength, m.form, m.route, m.frequency, m.duration, m.instructions) if x)
    if dose:
        res["dosageInstruction"] = [{"text": dose}]
    if not m.verified:
        res["note"] = [{"text": "Name not verified against the drug dictionary; shown as written."}]
    return res


def _declined(note: Note, i: int, m: Medication, subject: dict[str, str], ms: int) -> dict[str, Any]:
    """A drug the patient refuses, does not take or is to avoid: stated as not taken, never requested."""
    res: dict[str, Any] = {
        "resourceType": "MedicationStatement",
        "id": _uid(note.patient_id, "medstatement", note.timestamp, i),
        "meta": _meta("MedicationStatement", ms),
        "status": "not-taken",
        "medicationCodeableConcept": {"text": m.name},
        "subject": subject,
        "dateAsserted": instant(note.signed_at or note.timestamp),
    }
    if m.status_reason:
        res["statusReason"] = [{"text": m.status_reason}]
    if not m.verified:
        res["note"] = [{"text": "Name not verified against the drug dictionary; shown as written."}]
    return res


def _section(code: tuple[str, str, str], entries: list[dict[str, Any]], text: str = "") -> dict[str, Any]:
    sec: dict[str, Any] = {
        "title": code[2],
        "code": {"coding": [{"system": SNOMED, "code": code[0], "display": code[1]}]},
    }
    if entries:
        sec["entry"] = [_ref(e) for e in entries]
    if text.strip() or not entries:
        sec["text"] = _narrative(text or code[2])
    return sec


def build_abdm_bundle(
    kind: RecordKind, patient: Patient, note: Note, note_text: str, generated_ms: int
) -> dict[str, Any]:
    """An NRCeS-profiled ABDM document Bundle of one signed note, validated, as a JSON-ready dict.

    Args:
        kind: "OPConsultRecord" (the consultation: complaints, diagnoses, examination, medications, follow-up,
            the note's text) or "PrescriptionRecord" (its medications).
        patient: the note's patient.
        note: a signed note.
        note_text: the note as plain text (``backend.formats.fhir_r4.note_text``).
        generated_ms: the bundle's timestamp (epoch ms).

    Raises:
        ValidationFailed: the note is not signed, a prescription without medications, or the bundle did not
            validate.
    """
    if kind not in KINDS:
        raise ValidationFailed(f"Unknown ABDM record type {kind!r}; one of {', '.join(KINDS)}.")
    if note.signer is None or note.signed_at is None:
        raise ValidationFailed("Only a signed note can be exported as an ABDM record.")
    if kind == "PrescriptionRecord" and not [m for m in note.medications if m.status != "declined"]:
        raise ValidationFailed(
            "This note has no medications to take (none, or only declined ones), so there is no prescription to export."
        )
    ms = generated_ms
    patient_res = _patient(patient, ms)
    subject = _ref(patient_res, patient.name)
    author_res = _practitioner(note.signer, ms)
    author = _ref(author_res, note.signer)
    encounter = _encounter(note, subject, ms)
    meds = [_medication(note, i, m, subject, author, ms) for i, m in enumerate(note.medications)]
    clinical: list[dict[str, Any]] = []
    code, display, title = RECORD_TYPES[kind]
    if kind == "PrescriptionRecord":
        meds = [r for r in meds if r["resourceType"] == "MedicationRequest"]
        sections = [_section(("440545006", "Prescription record", "Prescription record"), meds)]
        clinical = meds
    else:
        complaint = [_complaint(note, note.chief_complaint.text, subject, ms)] if note.chief_complaint else []
        conditions = [_condition(note, d, subject, ms) for d in note.diagnoses]
        document = {
            "resourceType": "DocumentReference",
            "id": _uid(note.patient_id, "document", note.timestamp),
            "meta": _meta("DocumentReference", ms),
            "status": "current",
            "docStatus": "amended" if note.amends is not None else "final",
            "type": {"coding": [{"system": SNOMED, "code": code, "display": display}], "text": "Clinical note"},
            "subject": subject,
            "content": [
                {
                    "attachment": {
                        "contentType": "text/plain; charset=utf-8",
                        "language": "en-IN",
                        "data": base64.b64encode(note_text.encode()).decode(),
                        "title": title,
                        "creation": instant(note.timestamp),
                    }
                }
            ],
        }
        sections = [_section(CHIEF_COMPLAINTS, complaint + conditions, note.sections.get("subjective", ""))]
        if note.sections.get("objective", "").strip():
            sections.append(_section(PHYSICAL_EXAM, [], note.sections["objective"]))
        if meds:
            sections.append(_section(MEDICATIONS, meds))
        if note.follow_up:
            sections.append(_section(FOLLOW_UP, [], note.follow_up.text))
        sections.append(_section(DOCUMENT, [document]))
        clinical = complaint + conditions + meds + [document]
    composition = {
        "resourceType": "Composition",
        "id": _uid(note.patient_id, "composition", kind, note.timestamp),
        "meta": _meta(kind, ms),
        "language": "en-IN",
        "identifier": {"system": NOTE_SYSTEM, "value": f"{note.patient_id}/{note.timestamp}/{kind}"},
        "status": "amended" if note.amends is not None else "final",
        "type": {"coding": [{"system": SNOMED, "code": code, "display": display}], "text": display},
        "subject": subject,
        "encounter": _ref(encounter),
        "date": instant(note.signed_at),
        "author": [author],
        "title": title,
        "attester": [{"mode": "legal", "time": instant(note.signed_at), "party": author}],
        "section": sections,
    }
    resources = [composition, patient_res, author_res, encounter, *clinical]
    bundle = {
        "resourceType": "Bundle",
        "id": _uid(note.patient_id, "bundle", kind, note.timestamp, ms),
        "meta": {"versionId": "1", "lastUpdated": instant(ms), "profile": [NRCES + "DocumentBundle"]},
        "identifier": {"system": BUNDLE_SYSTEM, "value": _uid(note.patient_id, "bundle", kind, note.timestamp, ms)},
        "type": "document",
        "timestamp": instant(ms),
        "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources],
    }
    return validated_bundle(bundle, f"The ABDM {kind} of {note.patient_id}")
